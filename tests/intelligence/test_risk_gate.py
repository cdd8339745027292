"""The ``risk_threshold`` gate through the real CLI: the decision table and its report.

strict/lenient env × mode × waiver × score level (above block_at, between
warn_at and block_at, below warn_at) → decision and exit code.
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import NOW
from tests.gate.conftest import CheckRun, PolicyWriter, check, policy_dir, write_policy
from tests.intelligence.factories import StoreBuilder

__all__ = ["check", "policy_dir", "write_policy"]

ENVS = {"prod": True, "dev": False}
MODES = ("default", "warn", "block", "shadow")
# checkout scores 74.7 (see test_risk.scenario); thresholds put it in each band.
LEVELS = {"block": (50, 70), "warn": (50, 90), "none": (80, 90)}

POLICY = """\
version: 1
environments:
  prod: {{strict: true}}
  dev: {{strict: false}}
gates:
  risk:
    type: risk_threshold
    mode: {mode}
    warn_at: {warn_at}
    block_at: {block_at}
"""


def checkout(env: str) -> StoreBuilder:
    b = StoreBuilder()
    b.incident("2026-03-01T12:00:00Z", env=env, severity="P0", suffix="active")
    resolved = b.incident("2026-02-23T12:00:00Z", env=env, resolve_after_s=7200, suffix="respmx")
    b.followup(resolved, "fu_b1", due="2026-02-20", priority="P1")
    b.followup(resolved, "fu_b2", due="2026-03-01", priority="P2")
    return b


def expected(strict: bool, mode: str, level: str, waiver: bool) -> str:
    """The table written out independently of the engine."""
    if level == "none" or mode == "shadow":
        return "pass"
    if level == "warn" or mode == "warn" or not (mode == "block" or strict):
        return "warn"
    return "warn" if waiver else "block"


def waiver_yaml(env: str) -> str:
    start, end = NOW - timedelta(days=1), NOW + timedelta(days=3)
    return (
        f"- {{gate: risk, service: checkout, env: {env}, reason: known, ticket: OPS-9,\n"
        f"   approved_by: sofiia, approved_at: '{start.isoformat()}',"
        f" expires_at: '{end.isoformat()}'}}\n"
    )


@pytest.mark.parametrize(
    ("env", "mode", "level", "waiver"),
    list(itertools.product(ENVS, MODES, LEVELS, (True, False))),
)
def test_decision_table(
    check: CheckRun,
    write_policy: PolicyWriter,
    store_dir: Path,
    env: str,
    mode: str,
    level: str,
    waiver: bool,
) -> None:
    checkout(env).build(store_dir)
    warn_at, block_at = LEVELS[level]
    policy = POLICY.format(mode=mode, warn_at=warn_at, block_at=block_at)
    write_policy(policy, waiver_yaml(env) if waiver else None)

    result = check("--env", env, "--service", "checkout", "--format", "json")

    want = expected(ENVS[env], mode, level, waiver)
    report = json.loads(result.stdout)
    assert (report["decision"], result.exit_code) == (want, 1 if want == "block" else 0)
    [gate] = report["results"]
    assert gate["type"] == "risk_threshold"
    if level == "none":
        assert gate["findings"] == []
    else:
        [finding] = gate["findings"]
        assert finding["kind"] == "risk_score"
        assert "risk score 74.7/100 (high)" in finding["message"]


def test_text_report_names_the_largest_parts(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    checkout("prod").build(store_dir)
    write_policy(POLICY.format(mode="default", warn_at=50, block_at=70))
    result = check("--env", "prod", "--service", "checkout")
    assert result.exit_code == 1
    clear = result.stdout.split("what would clear it:")[1]
    assert (
        "largest parts: active_incidents 40/60 (inc_20260301_1200_active), "
        "overdue_followups 15/30 (fu_b1, fu_b2), missing_postmortems 10/20 "
        "(inc_20260223_1200_respmx), recent_incidents 9.7/20" in clear
    )


@pytest.mark.parametrize(("env", "code"), [("prod", 1), ("dev", 0)])
def test_veto_severity_blocks_whatever_the_total(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, env: str, code: int
) -> None:
    b = StoreBuilder()
    b.incident("2026-03-02T11:00:00Z", env=env, severity="P1", suffix="vetoed")
    b.build(store_dir)
    write_policy(
        POLICY.format(mode="default", warn_at=90, block_at=95) + "    veto_severities: [P0, P1]\n"
    )
    result = check("--env", env, "--service", "checkout", "--format", "json")
    [gate] = json.loads(result.stdout)["results"]
    assert [f["kind"] for f in gate["findings"]] == ["risk_veto"]
    assert gate["findings"][0]["incident_id"] == "inc_20260302_1100_vetoed"
    assert result.exit_code == code


def test_policy_risk_section_reaches_the_gate(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    checkout("prod").build(store_dir)
    # Without active incidents counting, checkout scores 34.7: below warn_at 50.
    write_policy(
        POLICY.format(mode="default", warn_at=50, block_at=70)
        + "risk:\n  active_incidents: {weights: {}, cap: 0}\n"
    )
    result = check("--env", "prod", "--service", "checkout", "--format", "json")
    assert json.loads(result.stdout)["results"][0]["findings"] == []
    assert result.exit_code == 0


def test_bad_thresholds_are_a_config_error(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY.format(mode="default", warn_at=90, block_at=50))
    result = check("--env", "prod", "--service", "checkout")
    assert result.exit_code == 2
    assert "warn_at must not be above block_at" in result.stderr
    assert "gates.yml:" in result.stderr
