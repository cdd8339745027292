"""The ``registry_sync`` gate: blocks on drift in strict environments, names each difference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRun
from tests.ops.conftest import SHIPPED_CRON, SHIPPED_REGISTRY

POLICY = """\
version: 1
environments:
  prod: {strict: true}
  dev: {strict: false}
gates:
  jobs_in_sync:
    type: registry_sync
    registry: REGISTRY
    cron: CRON
"""


@pytest.fixture
def policy(tmp_path: Path) -> tuple[Path, Path]:
    cron = tmp_path / "jobs.cron"
    cron.write_text(SHIPPED_CRON.read_text())
    directory = tmp_path / "policies"
    directory.mkdir()
    text = POLICY.replace("REGISTRY", str(SHIPPED_REGISTRY)).replace("CRON", str(cron))
    (directory / "gates.yml").write_text(text)
    return directory, cron


def _check(run_cli: CliRun, directory: Path, env: str) -> tuple[int, dict[str, object]]:
    result = run_cli("--policy", str(directory), "check", "--env", env, "--service", "gateway",
                     "--format", "json")  # fmt: skip
    return result.exit_code, json.loads(result.stdout)


def test_in_sync_passes(run_cli: CliRun, policy: tuple[Path, Path]) -> None:
    code, report = _check(run_cli, policy[0], "prod")
    assert (code, report["decision"]) == (0, "pass")


def test_drift_blocks_in_strict_envs_and_warns_elsewhere(
    run_cli: CliRun, policy: tuple[Path, Path]
) -> None:
    directory, cron = policy
    cron.write_text(cron.read_text().replace("0 9 * * * root", "0 10 * * * root"))
    code, report = _check(run_cli, directory, "prod")
    assert (code, report["decision"]) == (1, "block")
    findings = report["results"][0]["findings"]  # type: ignore[index]
    assert [f["kind"] for f in findings] == ["registry_schedule"]
    assert "daily_risk_digest runs at '0 10 * * *'" in findings[0]["message"]
    code, report = _check(run_cli, directory, "dev")
    assert (code, report["decision"]) == (0, "warn")


def test_an_unreadable_cron_file_fails_closed(run_cli: CliRun, policy: tuple[Path, Path]) -> None:
    directory, cron = policy
    cron.unlink()
    code, report = _check(run_cli, directory, "prod")
    assert (code, report["decision"]) == (3, "error")
