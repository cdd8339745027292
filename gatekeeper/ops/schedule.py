"""Cron schedules: exactly five fields, parsed by cronsim (Vixie/Debian cron semantics).

cronsim refuses impossible dates (``0 0 30 2 *``) and out-of-range fields
(``61 * * * *``); we also refuse anything but five fields (no seconds or year
field, no ``@hourly`` macros), so a schedule means the same to every cron.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)


def check_schedule(expression: str) -> str:
    """``expression`` with its whitespace normalised; ``ValueError`` saying why if invalid."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"{expression!r} has {len(fields)} field{'s' * (len(fields) != 1)}; a schedule "
            "is exactly 5 cron fields: minute hour day-of-month month day-of-week"
        )
    normalised = " ".join(fields)
    try:
        next(CronSim(normalised, _REFERENCE))
    except CronSimError as exc:
        raise ValueError(f"{expression!r} is not a valid cron schedule: {exc}") from None
    except StopIteration:  # pragma: no cover - cronsim raises CronSimError first
        raise ValueError(f"{expression!r} never fires") from None
    return normalised


def latest_slot(expression: str, timezone: str, now: datetime) -> datetime:
    """The latest time at or before ``now`` the schedule fires (in UTC).

    A manual run is named after this slot, so a run and a cron fire of the same
    slot write the same file.
    """
    zone = ZoneInfo(timezone)
    start = (now.replace(second=0, microsecond=0) + timedelta(minutes=1)).astimezone(zone)
    return next(CronSim(expression, start, reverse=True)).astimezone(UTC)
