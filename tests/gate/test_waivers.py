"""Waivers: when they apply, how long they may last, and how their times are read."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatekeeper.errors import ConfigError
from gatekeeper.policy import load_policy, load_waivers
from tests.conftest import NOW
from tests.gate import factories
from tests.gate.conftest import CheckRun, PolicyWriter

POLICY = """\
version: 1
environments: {prod: {strict: true}}
max_waiver_days: 7
gates:
  followup_watch: {type: followup_watch}
"""

WAIVER = """\
- gate: followup_watch
  service: checkout
  env: prod
  reason: known
  ticket: OPS-2
  approved_by: sofiia
"""


def test_a_waiver_scoped_to_incidents_covers_only_those(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    first, second = factories.incident(), factories.incident(severity="P0")
    factories.write(store_dir, [first])
    scoped = WAIVER + f"  expires_at: 2026-03-05\n  incidents: [{first.id}]\n"
    write_policy(POLICY, scoped)
    result = check("--env", "prod", "--service", "checkout", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["results"][0]["waiver"]["applied"]) == (
        0,
        True,
    )
    factories.write(store_dir, [second])
    result = check("--env", "prod", "--service", "checkout")
    assert result.exit_code == 1
    assert "waiver OPS-2 is active but does not cover this" in result.stdout


def test_a_waiver_not_yet_approved_is_not_active(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident()])
    write_policy(POLICY, WAIVER + "  approved_at: 2026-03-03\n  expires_at: 2026-03-06\n")
    assert check("--env", "prod", "--service", "checkout").exit_code == 1


MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)
MARCH_1_6AM = datetime(2026, 3, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("approved_at", "expires_at", "approved", "expires"),
    [
        # a date-only expiry lasts through that UTC day
        ("2026-03-01", "2026-03-07", MARCH_1, "2026-03-07T23:59:59.999999"),
        ("'2026-03-01'", "'2026-03-02T10:00:00+02:00'", MARCH_1, "2026-03-02T08:00:00"),
        ("2026-03-01T06:00:00Z", "2026-03-08T06:00:00Z", MARCH_1_6AM, "2026-03-08T06:00:00"),
    ],
)
def test_dates_and_timestamps(
    write_policy: PolicyWriter, approved_at: str, expires_at: str, approved: datetime, expires: str
) -> None:
    path = write_policy(
        POLICY, WAIVER + f"  approved_at: {approved_at}\n  expires_at: {expires_at}\n"
    )
    (waiver,) = load_waivers(path, load_policy(path), NOW)
    assert waiver.approved_at == approved
    assert waiver.expires_at == datetime.fromisoformat(expires).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ("  approved_at: 2026-03-01\n  expires_at: 2026-02-28\n", "expires before it is approved"),
        (
            "  approved_at: 2026-03-01\n  expires_at: 2026-03-09\n",
            "max_waiver_days (7) after approved_at",
        ),
        ("  expires_at: 2026-03-10\n", "max_waiver_days (7) after now"),
        ("  expires_at: next week\n", "is not an ISO-8601 timestamp"),
        ("  expires_at: 2026-03-03T00:00:00\n", "no time zone"),
        ("  approved_at: yesterday\n  expires_at: 2026-03-03\n", "approved_at"),
        ("  expires_at: 12\n", "expected a date or an ISO-8601 timestamp"),
    ],
)
def test_bad_waiver_times(write_policy: PolicyWriter, times: str, message: str) -> None:
    path = write_policy(POLICY, WAIVER + times)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_waivers(path, load_policy(path), NOW)
    assert f"{path / 'waivers.yml'}:" in str(caught.value)


def test_an_empty_waivers_file_has_no_waivers(write_policy: PolicyWriter) -> None:
    path = write_policy(POLICY, "# nothing waived\n")
    assert load_waivers(path, load_policy(path), NOW) == ()
