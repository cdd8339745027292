"""``freeze_window``: no releases during declared freeze windows.

Windows are read in the gate's IANA ``timezone`` (``zoneinfo``) on the local wall
clock, so "Friday from 16:00" stays 16:00 in Kyiv across DST changes. A window is
either

* weekly: ``{weekly: {days: [fri], from: "16:00", to: "23:59"}}`` — ``days`` are the
  days the window *starts* on; ``from`` defaults to 00:00 and ``to`` to 24:00 (the
  end of the day); ``to`` is exclusive; ``from`` later than ``to`` crosses
  midnight (``{days: [fri], from: "22:00", to: "06:00"}`` ends Saturday 06:00); or
* absolute: ``{from: "2026-12-24T00:00:00Z", to: "2027-01-02T00:00:00Z"}``, from
  inclusive, to exclusive, each with an explicit zone.

Each window in effect is one finding, saying when the freeze lifts (its ``due``,
and in its message on the gate's clock and in UTC). This gate never reads the
incident store.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from gatekeeper.gates.base import Finding, GateConfig, GateContext
from gatekeeper.models import UtcDatetime

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SECONDS = 24 * 3600


def _check_clock(value: str) -> str:
    hours, sep, minutes = value.partition(":")
    valid = sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
    if not valid or not (int(hours) < 24 and int(minutes) < 60 or value in ("24:00",)):
        raise ValueError(f"{value!r} is not a time of day; expected HH:MM (00:00-24:00)")
    return value


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Kyiv, UTC)") from None
    return value


ClockTime = Annotated[str, AfterValidator(_check_clock)]
TimeZoneName = Annotated[str, AfterValidator(_check_zone)]


def _seconds(clock: str) -> int:
    hours, _, minutes = clock.partition(":")
    return int(hours) * 3600 + int(minutes) * 60


class WeeklySchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    days: tuple[Day, ...] = Field(min_length=1)
    start: ClockTime = Field(default="00:00", alias="from")
    end: ClockTime = Field(default="24:00", alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> WeeklySchedule:
        if self.start == "24:00" or self.end == "00:00" or self.start == self.end:
            raise ValueError("from and to must differ; from < 24:00 and to > 00:00")
        return self

    def contains(self, local: datetime) -> bool:
        """Whether the local wall-clock time ``local`` falls in this weekly window."""
        start, end, now = _seconds(self.start), _seconds(self.end), _seconds_of(local)
        today = DAYS[local.weekday()] in self.days
        if start < end:
            return today and start <= now < end
        yesterday = DAYS[(local.weekday() - 1) % 7] in self.days
        return (today and now >= start) or (yesterday and now < end)

    def ends_after(self, local: datetime) -> datetime:
        """The local wall-clock end of the occurrence that contains ``local``."""
        start, end = _seconds(self.start), _seconds(self.end)
        day = local.date()
        if start > end and _seconds_of(local) >= start:
            day += timedelta(days=1)  # the part before midnight ends tomorrow
        return datetime.combine(day, time(), tzinfo=local.tzinfo) + timedelta(seconds=end)


def _seconds_of(local: datetime) -> float:
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


class FreezeWindow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1, max_length=100)
    weekly: WeeklySchedule | None = None
    start: UtcDatetime | None = Field(default=None, alias="from")
    end: UtcDatetime | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_form(self) -> FreezeWindow:
        absolute = self.start is not None or self.end is not None
        if self.weekly is not None and absolute:
            raise ValueError("a window is either weekly or from/to, not both")
        if self.weekly is None and (self.start is None or self.end is None):
            raise ValueError("a window needs weekly, or both from and to")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("from must be before to")
        return self

    def contains(self, at: datetime, zone: ZoneInfo) -> bool:
        if self.weekly is not None:
            return self.weekly.contains(at.astimezone(zone))
        assert self.start is not None and self.end is not None  # ensured by _one_form
        return self.start <= at < self.end

    def ends_after(self, at: datetime, zone: ZoneInfo) -> datetime:
        if self.weekly is not None:
            # Wall-clock arithmetic, then back to UTC: DST moves the instant, not the hour.
            local_end = self.weekly.ends_after(at.astimezone(zone))
            end = local_end.astimezone(at.tzinfo)
            if end <= at:
                # The end's wall-clock time happens twice (DST ends) and we are in the
                # second pass: the window ends at the second occurrence.
                end = local_end.replace(fold=1).astimezone(at.tzinfo)
            return end
        assert self.end is not None
        return self.end


class FreezeWindowConfig(GateConfig):
    type: Literal["freeze_window"] = "freeze_window"
    timezone: TimeZoneName = "UTC"
    windows: tuple[FreezeWindow, ...] = Field(min_length=1)


class FreezeWindowGate:
    config_model = FreezeWindowConfig

    def lookback(self, config: FreezeWindowConfig) -> None:
        return None

    def evaluate(self, config: FreezeWindowConfig, context: GateContext) -> list[Finding]:
        zone = ZoneInfo(config.timezone)
        findings = []
        for window in config.windows:
            if not window.contains(context.now, zone):
                continue
            until = frozen_until(config, window, context.now)
            lifts = (
                "with no end: its windows leave no gap"
                if until is None
                else f"until {describe_until(until, config.timezone)}"
            )
            message = f"release freeze {window.name!r} in effect {lifts}"
            findings.append(Finding(kind="freeze_window", due=until, message=message))
        return findings


_UTC_NAMES = frozenset({"UTC", "Etc/UTC"})


def describe_until(end: datetime, timezone: str) -> str:
    """When a freeze lifts, for people: on the gate's own clock, then in UTC.

    ``2026-12-04 18:00 Europe/Kyiv (16:00Z)``; the UTC date is repeated only when
    it differs (``2026-12-05 00:30 Asia/Tokyo (2026-12-04 15:30Z)``); a gate kept
    in UTC shows ``2026-12-04 16:00Z``. Seconds appear only when there are some.
    """
    utc = end.astimezone(UTC)
    if timezone in _UTC_NAMES:
        return f"{_wall(utc)}Z"
    local = end.astimezone(ZoneInfo(timezone))
    utc_text = _wall(utc) if utc.date() != local.date() else _wall(utc).split(" ", 1)[1]
    return f"{_wall(local)} {timezone} ({utc_text}Z)"


def _wall(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")


# Weekly windows repeat every week of wall-clock time: frozen without a gap for
# longer than a week (a day more for DST) after the last from/to window, a
# freeze never lifts.
_NO_END_AFTER = timedelta(days=8)
_MAX_STEPS = 10_000


def frozen_until(config: FreezeWindowConfig, window: FreezeWindow, at: datetime) -> datetime | None:
    """When the freeze that ``window`` starts at ``at`` lifts, following back-to-back windows.

    ``None`` when it never lifts (the windows cover every moment from ``at`` on).
    """
    zone = ZoneInfo(config.timezone)
    absolute_ends = [w.end for w in config.windows if w.weekly is None and w.end is not None]
    horizon = max([at, *absolute_ends]) + _NO_END_AFTER
    end = window.ends_after(at, zone)
    for _ in range(_MAX_STEPS):
        following = next((w for w in config.windows if w.contains(end, zone)), None)
        if following is None:
            return end
        if end > horizon:
            return None
        end = following.ends_after(end, zone)
    return None  # pragma: no cover - ten thousand back-to-back windows: never lifts, say so


GATE_TYPE = FreezeWindowGate()
