"""The decision table of docs/policies.md, every combination, through the real CLI.

strict/lenient env × mode (default/warn/block/shadow) × findings or none ×
waiver active/expired/none × override or not → decision and exit code.
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import NOW
from tests.gate import factories
from tests.gate.conftest import CheckRun, PolicyWriter

ENVS = {"prod": True, "dev": False}
MODES = ("default", "warn", "block", "shadow")
WAIVERS = ("active", "expired", "none")

POLICY = """\
version: 1
environments:
  prod: {{strict: true}}
  dev: {{strict: false}}
gates:
  followup_watch:
    type: followup_watch
    mode: {mode}
"""


def expected_decision(strict: bool, mode: str, findings: bool, waiver: str, override: bool) -> str:
    """The table written out independently of the engine."""
    if not findings or mode == "shadow":
        return "pass"
    if mode == "warn" or not (mode == "block" or strict):
        return "warn"
    return "warn" if waiver == "active" or override else "block"


def _waiver(env: str, service: str, kind: str) -> str | None:
    if kind == "none":
        return None
    start, end = (NOW - timedelta(days=1), NOW + timedelta(days=3))
    if kind == "expired":
        start, end = (NOW - timedelta(days=10), NOW - timedelta(days=3))
    return (
        f"- {{gate: followup_watch, service: {service}, env: {env}, reason: known issue,\n"
        f"   ticket: OPS-1, approved_by: sofiia, approved_at: '{start.isoformat()}',\n"
        f"   expires_at: '{end.isoformat()}'}}\n"
    )


@pytest.mark.parametrize(
    ("env", "mode", "findings", "waiver", "override"),
    list(itertools.product(ENVS, MODES, (True, False), WAIVERS, (True, False))),
)
def test_decision_table(
    check: CheckRun,
    write_policy: PolicyWriter,
    store_dir: Path,
    env: str,
    mode: str,
    findings: bool,
    waiver: str,
    override: bool,
) -> None:
    blocker = factories.incident(service="checkout", env=env)
    factories.write(store_dir, [blocker])
    service = "checkout" if findings else "search"
    write_policy(POLICY.format(mode=mode), _waiver(env, service, waiver))
    args = ["--env", env, "--service", service, "--format", "json"]
    if override:
        args += ["--override", "customer-facing hotfix"]

    result = check(*args, agent="sofiia" if override else None)

    want = expected_decision(ENVS[env], mode, findings, waiver, override)
    report = json.loads(result.stdout)
    assert (report["decision"], result.exit_code) == (want, 1 if want == "block" else 0)
    assert report["exit_code"] == result.exit_code
    gate = report["results"][0]
    assert gate["waiver"] is None or gate["waiver"]["ticket"] == "OPS-1"
    assert (gate["waiver"] is not None) == (waiver == "active")
    assert len(report["expired_waivers"]) == (waiver == "expired")
    would_block = findings and (mode == "block" or (mode == "default" and ENVS[env]))
    overridden = override and would_block and waiver != "active"
    assert gate["override"] is overridden
    assert len(factories.events_of_type(store_dir, "gate_override")) == int(overridden)


@pytest.mark.parametrize("fail_on_warn", [True, False])
def test_warn_exit_code_depends_on_fail_on_warn(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, fail_on_warn: bool
) -> None:
    factories.write(store_dir, [factories.incident(env="dev")])
    write_policy(POLICY.format(mode="default"))
    args = ["--env", "dev", "--service", "checkout"] + (["--fail-on-warn"] if fail_on_warn else [])
    result = check(*args)
    assert result.stdout.startswith("gatekeeper: WARN")
    assert result.exit_code == (1 if fail_on_warn else 0)


@pytest.mark.parametrize(
    ("flag", "env", "want"),
    [("--strict", "dev", 1), (None, "dev", 0), (None, "prod", 1)],
)
def test_strict_flag(
    check: CheckRun,
    write_policy: PolicyWriter,
    store_dir: Path,
    flag: str | None,
    env: str,
    want: int,
) -> None:
    factories.write(store_dir, [factories.incident(env=env)])
    write_policy(POLICY.format(mode="default"))
    result = check("--env", env, "--service", "checkout", *([flag] if flag else []))
    assert result.exit_code == want, result.stdout


def test_block_is_exit_1_even_with_override_refused(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident()])
    write_policy(POLICY.format(mode="default"))
    for agent in (None, "monitor", "someone"):
        result = check("--env", "prod", "--service", "checkout", "--override", "x", agent=agent)
        assert result.exit_code == 2
        assert result.stderr.startswith("gatekeeper: error: override refused")
        assert result.stderr.count("\n") == 1
    assert factories.events_of_type(store_dir, "gate_override") == []
    assert check("--env", "prod", "--service", "checkout", "--fail-on-warn").exit_code == 1
