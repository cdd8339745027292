"""UTC timestamps: parsing that refuses to guess, formatting with a trailing ``Z``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from gatekeeper.errors import InvalidInput


def parse_timestamp(value: str | datetime, *, field: str = "timestamp") -> datetime:
    """Parse an ISO-8601 timestamp that carries a zone, returning it in UTC.

    A timestamp without a zone is rejected rather than guessed.
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise InvalidInput(
                f"{field}: {value!r} is not an ISO-8601 timestamp "
                "(expected e.g. 2026-02-23T10:00:00Z)"
            ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInput(
            f"{field}: {value!s} has no time zone; write it in UTC with a trailing Z "
            "(e.g. 2026-02-23T10:00:00Z)"
        )
    return parsed.astimezone(UTC)


def parse_due(value: str | date | datetime, *, field: str = "due") -> datetime:
    """Parse a follow-up due value: a date (due by the end of that UTC day) or a timestamp."""
    if isinstance(value, datetime):
        return parse_timestamp(value, field=field)
    if isinstance(value, date):
        return end_of_day(value)
    text = value.strip()
    if len(text) == 10:
        try:
            return end_of_day(date.fromisoformat(text))
        except ValueError:
            raise InvalidInput(f"{field}: {value!r} is not a date (expected YYYY-MM-DD)") from None
    return parse_timestamp(text, field=field)


def end_of_day(day: date) -> datetime:
    """The last microsecond of ``day`` in UTC: a date-only due is met during the whole day."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def format_timestamp(value: datetime) -> str:
    """Format an aware datetime as UTC ISO-8601 with a trailing ``Z``."""
    if value.tzinfo is None:
        raise ValueError("refusing to format a naive datetime")
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def format_second(value: datetime) -> str:
    """An aware datetime for people: UTC ISO-8601 to the second (no microseconds), ``Z``.

    Human reports (text, Markdown, GitHub annotations) use this; stored records and
    the JSON report keep :func:`format_timestamp`'s full precision.
    """
    if value.tzinfo is None:
        raise ValueError("refusing to format a naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime:
    """The current time in UTC. Only the CLI should call this; library code takes ``now``."""
    return datetime.now(UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)
