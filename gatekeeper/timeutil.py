"""UTC timestamps: parsing that refuses to guess, formatting with a trailing ``Z``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from gatekeeper.errors import InvalidInput

MIN_YEAR = 1970
MAX_YEAR = 9999
"""Timestamps are accepted from 1970 to 9999, once converted to UTC."""


def parse_timestamp(value: str | datetime, *, field: str = "timestamp") -> datetime:
    """Parse an ISO-8601 timestamp that carries a zone, returning it in UTC.

    A timestamp without a zone is rejected rather than guessed.
    """
    # The stored form (``...Z``, in range) is most of what is read: parsed in C
    # with no further step; a UTC datetime in range is taken as it is. Anything
    # else takes the general path, which gives the same answers
    # (tests/core/test_models.py).
    if type(value) is str and value[-1:] == "Z":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is UTC and MIN_YEAR <= parsed.year <= MAX_YEAR:
                return parsed
    elif type(value) is datetime and value.tzinfo is UTC and MIN_YEAR <= value.year <= MAX_YEAR:
        return value
    return _parse_any(value, field=field)


def _parse_any(value: str | datetime, *, field: str) -> datetime:
    """:func:`parse_timestamp` for any input: strip, zone checks, conversion to UTC."""
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
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: before year 1 in UTC
        utc = None
    if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
        shown = repr(value) if isinstance(value, str) else str(value)
        raise InvalidInput(f"{field}: {shown} is outside the years {MIN_YEAR}-{MAX_YEAR} (UTC)")
    return utc


def parse_due(value: str | date | datetime, *, field: str = "due") -> datetime:
    """Parse a follow-up due value: a date (due by the end of that UTC day) or a timestamp."""
    if isinstance(value, datetime):
        return parse_timestamp(value, field=field)
    if not isinstance(value, date):
        text = value.strip()
        if len(text) != 10:
            return parse_timestamp(text, field=field)
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"{field}: {value!r} is not a date (expected YYYY-MM-DD)") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidInput(f"{field}: {value} is outside the years {MIN_YEAR}-{MAX_YEAR} (UTC)")
    return end_of_day(value)


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
