"""freeze_window: wall-clock windows in a real zone, across DST, midnight and edges."""

from __future__ import annotations

from typing import Any

import pytest

from gatekeeper.gates.base import GateContext
from gatekeeper.gates.freeze_window import GATE_TYPE, FreezeWindowConfig
from gatekeeper.timeutil import format_timestamp, parse_timestamp
from tests.conftest import CliRun
from tests.gate.conftest import PolicyWriter


def gate(timezone: str, *windows: dict[str, Any]) -> FreezeWindowConfig:
    return FreezeWindowConfig.model_validate(
        {"type": "freeze_window", "timezone": timezone, "windows": list(windows)}
    )


def weekly(days: list[str], start: str | None = None, end: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"days": days}
    if start:
        spec["from"] = start
    if end:
        spec["to"] = end
    return {"name": "w", "weekly": spec}


def frozen_until(config: FreezeWindowConfig, now: str) -> str | None:
    """The UTC time the freeze lifts, from the finding's ``due``; ``None`` if not frozen."""
    context = GateContext(env="prod", service="checkout", now=parse_timestamp(now))
    findings = GATE_TYPE.evaluate(config, context)
    assert len(findings) <= 1
    if not findings:
        return None
    assert findings[0].due is not None
    return format_timestamp(findings[0].due)


KYIV = "Europe/Kyiv"
FRIDAY_EVENING = gate(KYIV, weekly(["fri"], "16:00", "24:00"))


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # winter, EET (UTC+2): 16:00 local is 14:00Z
        ("2026-02-27T13:59:59Z", None),
        ("2026-02-27T14:00:00Z", "2026-02-27T22:00:00Z"),
        ("2026-02-27T21:59:59Z", "2026-02-27T22:00:00Z"),
        ("2026-02-27T22:00:00Z", None),
        # summer, EEST (UTC+3): 16:00 local is 13:00Z
        ("2026-07-03T12:59:59Z", None),
        ("2026-07-03T13:00:00Z", "2026-07-03T21:00:00Z"),
        ("2026-07-03T21:00:00Z", None),
        # Thursday and Saturday at the same wall-clock time
        ("2026-07-02T14:00:00Z", None),
        ("2026-07-04T14:00:00Z", None),
    ],
)
def test_weekly_window_follows_the_local_wall_clock_across_dst(now: str, until: str | None) -> None:
    assert frozen_until(FRIDAY_EVENING, now) == until


NIGHT_0300 = gate(KYIV, weekly(["sun"], "03:00", "03:30"))
NIGHT_0200 = gate(KYIV, weekly(["sun"], "02:00", "04:00"))


@pytest.mark.parametrize(
    ("config", "now", "until"),
    [
        # 2026-03-29: Kyiv jumps from 03:00 EET to 04:00 EEST at 01:00Z.
        (NIGHT_0300, "2026-03-29T00:59:59Z", None),
        (NIGHT_0300, "2026-03-29T01:00:00Z", None),
        # a 02:00-04:00 window lasts one real hour that night and ends at 04:00 EEST
        (NIGHT_0200, "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"),
        (NIGHT_0200, "2026-03-29T01:00:00Z", None),
        # 2026-10-25: 04:00 EEST falls back to 03:00 EET at 01:00Z; 03:15 happens twice
        (NIGHT_0300, "2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z"),
        (NIGHT_0300, "2026-10-25T00:45:00Z", None),
        (NIGHT_0300, "2026-10-25T01:15:00Z", "2026-10-25T01:30:00Z"),
    ],
)  # fmt: skip
def test_dst_gap_and_overlap(config: FreezeWindowConfig, now: str, until: str | None) -> None:
    assert frozen_until(config, now) == until


NIGHT = gate("UTC", weekly(["fri", "sun"], "22:00", "06:00"))


@pytest.mark.parametrize(
    ("now", "until"),
    [
        ("2026-03-06T21:59:59Z", None),  # Friday before the window
        ("2026-03-06T22:00:00Z", "2026-03-07T06:00:00Z"),  # Friday 22:00
        ("2026-03-07T05:59:59Z", "2026-03-07T06:00:00Z"),  # Saturday, after midnight
        ("2026-03-07T06:00:00Z", None),  # Saturday 06:00: over
        ("2026-03-07T22:30:00Z", None),  # Saturday night is not listed
        ("2026-03-08T23:00:00Z", "2026-03-09T06:00:00Z"),  # Sunday night
        ("2026-03-09T03:00:00Z", "2026-03-09T06:00:00Z"),  # Monday morning, from Sunday
        ("2026-03-05T23:00:00Z", None),  # Thursday night
    ],
)
def test_window_crossing_midnight(now: str, until: str | None) -> None:
    assert frozen_until(NIGHT, now) == until


WEEKEND = gate(KYIV, weekly(["sat", "sun"]))


@pytest.mark.parametrize(
    ("now", "until"),
    [
        ("2026-03-06T21:59:59Z", None),  # Friday 23:59:59 in Kyiv
        ("2026-03-06T22:00:00Z", "2026-03-08T22:00:00Z"),  # Saturday 00:00: until Monday 00:00
        ("2026-03-08T21:59:59Z", "2026-03-08T22:00:00Z"),
        ("2026-03-08T22:00:00Z", None),  # Monday 00:00 in Kyiv
        # the weekend DST starts: Monday 00:00 is now UTC+3
        ("2026-03-28T12:00:00Z", "2026-03-29T21:00:00Z"),
    ],
)
def test_weekly_day_lists_chain_whole_days(now: str, until: str | None) -> None:
    assert frozen_until(WEEKEND, now) == until


ABSOLUTE = """\
version: 1
environments: {prod: {strict: true}}
gates:
  release_freeze:
    type: freeze_window
    timezone: Europe/Kyiv
    windows:
      - {name: year-end, from: "2026-12-24T00:00:00Z", to: "2027-01-02T00:00:00Z"}
"""


@pytest.mark.parametrize(
    ("now", "exit_code"),
    [
        ("2026-12-23T23:59:59Z", 0),
        ("2026-12-24T00:00:00Z", 1),
        ("2027-01-01T23:59:59Z", 1),
        ("2027-01-02T00:00:00Z", 0),
    ],
)
def test_absolute_range_edges_through_the_cli(
    run_cli: CliRun, write_policy: PolicyWriter, tmp_path: Any, now: str, exit_code: int
) -> None:
    policy = write_policy(ABSOLUTE)
    missing_store = tmp_path / "never-read"
    result = run_cli(
        "--policy", str(policy), "--store-dir", str(missing_store),
        "check", "--env", "prod", "--service", "checkout", "--now", now,
    )  # fmt: skip
    assert result.exit_code == exit_code, result
    if exit_code:
        assert "release freeze 'year-end' in effect" in result.stdout
        assert "until 2027-01-02 02:00 Europe/Kyiv (00:00Z)" in result.stdout
    assert not missing_store.exists()  # a freeze-only policy never touches the store


def test_window_end_is_exclusive_and_start_inclusive() -> None:
    config = gate(
        "UTC", {"name": "x", "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    )
    assert frozen_until(config, "2026-01-01T00:00:00Z") == "2026-01-02T00:00:00Z"
    assert frozen_until(config, "2026-01-02T00:00:00Z") is None


def test_an_all_week_freeze_says_it_never_lifts_instead_of_inventing_an_end() -> None:
    config = gate("UTC", weekly(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
    context = GateContext(env="prod", service="checkout", now=parse_timestamp("2026-03-02T12:00Z"))
    (finding,) = GATE_TYPE.evaluate(config, context)
    assert finding.message == ("release freeze 'w' in effect with no end: its windows leave no gap")


def test_a_freeze_of_many_back_to_back_windows_still_finds_its_end() -> None:
    # six days of hourly windows, then a gap: far more windows than days
    hours = [f"{h:02d}:00" for h in range(24)] + ["24:00"]
    windows = [
        {"name": f"h{h}", "weekly": {"days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                                     "from": hours[h], "to": hours[h + 1]}}
        for h in range(24)
    ]  # fmt: skip
    config = gate("UTC", *windows)
    assert frozen_until(config, "2026-03-02T12:00:00Z") == "2026-03-08T00:00:00Z"  # Sunday


def test_a_weekly_freeze_around_a_long_absolute_one_ends_after_it() -> None:
    config = gate(
        "UTC",
        weekly(["mon", "tue", "wed", "thu", "fri", "sat"]),
        {"name": "long", "from": "2026-03-01T00:00:00Z", "to": "2026-04-20T00:00:00Z"},
    )
    context = GateContext(env="prod", service="checkout", now=parse_timestamp("2026-03-02T12:00Z"))
    # both windows are in effect; either way frozen without a gap until the Sunday
    # after the absolute window ends
    findings = GATE_TYPE.evaluate(config, context)
    assert [f.message.rsplit("until ", 1)[1] for f in findings] == ["2026-04-26 00:00Z"] * 2
    assert [f.due for f in findings] == [parse_timestamp("2026-04-26T00:00:00Z")] * 2


def test_the_gate_reads_no_store() -> None:
    assert GATE_TYPE.lookback(FRIDAY_EVENING) is None  # type: ignore[func-returns-value]


@pytest.mark.parametrize(
    ("timezone", "now", "message"),
    [
        # the example users read: 18:00 on the Kyiv clock is 16:00 UTC in winter
        (KYIV, "2026-12-04T15:00:00Z", "until 2026-12-04 18:00 Europe/Kyiv (16:00Z)"),
        # the UTC date is repeated when it is not the local one
        (
            "Asia/Tokyo",
            "2026-12-04T14:00:00Z",
            "until 2026-12-05 00:30 Asia/Tokyo (2026-12-04 15:30Z)",
        ),
        # a gate kept in UTC says it once
        ("UTC", "2026-12-04T15:00:00Z", "until 2026-12-04 16:00Z"),
    ],
)
def test_the_message_shows_the_end_on_the_gate_clock_and_in_utc(
    timezone: str, now: str, message: str
) -> None:
    start, end = {KYIV: ("00:00", "18:00"), "UTC": ("00:00", "16:00")}.get(
        timezone,
        ("23:00", "00:30"),  # Tokyo: Friday 23:00 to Saturday 00:30
    )
    config = gate(timezone, {"name": "w", "weekly": {"days": ["fri"], "from": start, "to": end}})
    context = GateContext(env="prod", service="checkout", now=parse_timestamp(now))
    (finding,) = GATE_TYPE.evaluate(config, context)
    assert finding.message == f"release freeze 'w' in effect {message}"


def test_seconds_show_only_when_the_end_has_some() -> None:
    config = gate(
        KYIV, {"name": "x", "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T10:00:30.250Z"}
    )
    context = GateContext(
        env="prod", service="checkout", now=parse_timestamp("2026-01-01T01:00:00Z")
    )
    (finding,) = GATE_TYPE.evaluate(config, context)
    assert finding.message.endswith("until 2026-01-01 12:00:30 Europe/Kyiv (10:00:30Z)")
