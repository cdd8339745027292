"""ISO weeks: Monday 00:00 UTC to the next Monday (exclusive), named ``YYYY-Www``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from gatekeeper.errors import InvalidInput

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
ONE_WEEK = timedelta(days=7)


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO week; ``start`` is its Monday 00:00 UTC, ``end`` the next Monday."""

    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.week, 1), time(), UTC)

    @property
    def end(self) -> datetime:
        return self.start + ONE_WEEK

    def shifted(self, weeks: int) -> IsoWeek:
        """The week ``weeks`` later (earlier when negative)."""
        return week_of(self.start + weeks * ONE_WEEK)

    def __str__(self) -> str:
        return self.label


def week_of(moment: datetime) -> IsoWeek:
    """The ISO week holding ``moment`` (taken in UTC)."""
    year, week, _day = moment.astimezone(UTC).isocalendar()
    return IsoWeek(year, week)


def parse_week(text: str, *, field: str = "week") -> IsoWeek:
    """``2026-W09`` into an :class:`IsoWeek`; :class:`InvalidInput` naming it if no such week.

    Semantics are ``%G-W%V``: 2026 has a week 53, 2025 does not.
    """
    match = _WEEK_RE.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(
            f"{text!r} is not an ISO week; expected YYYY-Www, e.g. 2026-W09", where=field
        )
    year, week = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        last = date(year, 12, 28).isocalendar().week
        raise InvalidInput(
            f"{text!r} does not exist: {year} has weeks 01 to {last}", where=field
        ) from None
    return IsoWeek(year, week)


def last_complete_week(now: datetime) -> IsoWeek:
    """The last ISO week that ended at or before ``now`` (the default digest week)."""
    return week_of(now).shifted(-1)
