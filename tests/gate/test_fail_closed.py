"""Fail closed: damaged records and a degraded auto read are never a silent pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRun
from tests.gate import factories
from tests.gate.conftest import CheckRun, PolicyWriter

DEAD = "postgresql://postgres@127.0.0.1:1/test"  # nothing listens on port 1

POLICY = """\
version: 1
environments:
  prod: {{strict: true}}
  dev: {{strict: false}}
gates:
  followup_watch:
    type: followup_watch
    {option}
"""


def corrupt_p0(store_dir: Path, env: str = "prod") -> int:
    """A P0 for checkout in ``env`` whose line no longer parses; returns its line number."""
    factories.write(store_dir, [factories.incident(severity="P1", service="search")])
    factories.write(store_dir, [factories.incident(severity="P0", env=env)])
    path = store_dir / "incidents.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[-1] = lines[-1].replace('"severity":"P0"', '"severity":"P0 "')
    assert '"P0 "' in lines[-1]
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def test_a_corrupt_line_hiding_a_p0_fails_closed_in_prod(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    line = corrupt_p0(store_dir)
    write_policy(POLICY.format(option=""))
    result = check("--env", "prod", "--service", "checkout", "--format", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["decision"] == "error"
    (gate,) = report["results"]
    assert f"incidents.jsonl:{line} (" in gate["error"]
    assert "gatekeeper store verify" in gate["error"]
    assert "gatekeeper store compact" in gate["error"]
    assert [s["line"] for s in report["store"]["skipped"]] == [line]


def test_a_corrupt_line_only_warns_where_the_env_is_not_strict(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    corrupt_p0(store_dir, env="dev")
    write_policy(POLICY.format(option=""))
    result = check("--env", "dev", "--service", "checkout")
    assert result.exit_code == 0
    assert result.stdout.startswith("gatekeeper: WARN (exit 0)")
    assert "incidents.jsonl:" in result.stdout


def test_on_corrupt_warn_relaxes_damage_but_not_a_dead_store(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    corrupt_p0(store_dir)
    write_policy(POLICY.format(option="on_corrupt: warn"))
    result = check("--env", "prod", "--service", "checkout", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["decision"]) == (0, "warn")


def test_a_block_read_past_damage_still_blocks(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    corrupt_p0(store_dir)
    factories.write(store_dir, [factories.incident(severity="P1")])
    write_policy(POLICY.format(option=""))
    result = check("--env", "prod", "--service", "checkout", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["decision"] == "block"


def test_an_override_never_softens_damage(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    corrupt_p0(store_dir)
    factories.write(store_dir, [factories.incident(severity="P1")])
    write_policy(POLICY.format(option=""))
    result = check(
        "--env", "prod", "--service", "checkout", "--override", "hotfix", agent="sofiia"
    )  # fmt: skip
    assert result.exit_code == 3
    assert result.stdout.startswith("gatekeeper: ERROR (exit 3)")


@pytest.mark.parametrize(("env", "code", "decision"), [("prod", 3, "error"), ("dev", 0, "warn")])
def test_auto_mode_on_its_fallback_is_an_unavailable_store(
    run_cli: CliRun, write_policy: PolicyWriter, tmp_path: Path, env: str, code: int, decision: str
) -> None:
    store = tmp_path / "fallback"
    factories.write(store, [factories.incident(service="search", severity="P3")])
    policy = write_policy(POLICY.format(option=""))
    result = run_cli(
        "--policy", str(policy), "--backend", "auto", "--database-url", DEAD,
        "--store-dir", str(store), "check", "--env", env, "--service", "web",
        "--format", "json", "--now", "2026-03-02T12:00:00Z",
    )  # fmt: skip
    assert result.exit_code == code
    report = json.loads(result.stdout)
    assert report["decision"] == decision
    assert report["store"]["degraded"] is True
    assert report["store"]["backend"] == "auto"
    assert "fallback" in report["results"][0]["error"]
