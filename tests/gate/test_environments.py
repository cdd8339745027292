"""A typo never reads as green: unknown environments and services no gate covers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gate import factories
from tests.gate.conftest import CheckRun, PolicyWriter

POLICY = """\
version: 1
environments:
  prod: {strict: true}
  dev: {strict: false}
gates:
  followup_watch:
    type: followup_watch
    services: [checkout, "pay*"]
    mode: MODE
"""


@pytest.mark.parametrize("flag", [None, "--strict", "--no-strict"])
def test_an_unknown_environment_is_exit_2_listing_the_known_ones(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, flag: str | None
) -> None:
    factories.write(store_dir, [factories.incident(env="prdo")])
    write_policy(POLICY.replace("MODE", "default"))
    result = check("--env", "prdo", "--service", "checkout", *([flag] if flag else []))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("gatekeeper: error: unknown environment 'prdo'")
    assert "the policy lists: dev, prod" in result.stderr
    assert "(--env)" in result.stderr


@pytest.mark.parametrize(("strict", "code"), [("true", 1), ("false", 0)])
def test_default_environment_decides_an_unlisted_env(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, strict: str, code: int
) -> None:
    factories.write(store_dir, [factories.incident(env="qa")])
    write_policy(POLICY.replace("MODE", "default") + f"default_environment: {{strict: {strict}}}\n")
    result = check("--env", "qa", "--service", "checkout", "--format", "json")
    assert result.exit_code == code
    report = json.loads(result.stdout)
    assert (report["env_listed"], report["strict_source"]) == (False, "default_environment")
    assert report["strict"] is (strict == "true")


def test_a_service_no_gate_covers_is_exit_2_in_a_strict_env(
    check: CheckRun, write_policy: PolicyWriter
) -> None:
    write_policy(POLICY.replace("MODE", "default"))
    result = check("--env", "prod", "--service", "checkout", "--service", "chekout")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no gate applies to service 'chekout' in strict env 'prod'" in result.stderr


def test_a_service_no_gate_covers_passes_with_a_note_where_not_strict(
    check: CheckRun, write_policy: PolicyWriter
) -> None:
    write_policy(POLICY.replace("MODE", "default"))
    result = check("--env", "dev", "--service", "search")
    assert result.exit_code == 0
    assert "no gate applies" in result.stdout


def test_a_policy_with_no_gates_is_not_green_in_a_strict_env(
    check: CheckRun, write_policy: PolicyWriter
) -> None:
    write_policy("version: 1\nenvironments: {prod: {strict: true}}\n")
    result = check("--env", "prod", "--service", "checkout")
    assert result.exit_code == 2
    assert "no gate applies to service 'checkout'" in result.stderr


def test_a_shadow_gate_counts_as_applying(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident(service="payments")])
    write_policy(POLICY.replace("MODE", "shadow"))
    result = check("--env", "prod", "--service", "payments", "--format", "json")
    assert result.exit_code == 0
    (gate,) = json.loads(result.stdout)["results"]
    assert (gate["decision"], gate["shadow_decision"]) == ("pass", "block")
