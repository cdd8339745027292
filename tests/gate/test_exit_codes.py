"""The exit code contract: bad report paths stop the run; a failed write never softens it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gate import factories
from tests.gate.conftest import CheckRun, PolicyWriter

POLICY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  followup_watch: {type: followup_watch}
"""


@pytest.mark.parametrize("option", ["--junit", "--json", "--markdown"])
@pytest.mark.parametrize("where", ["missing-dir", "a-directory", "under-a-file"])
def test_an_unwritable_report_path_is_exit_2_before_any_gate_runs(
    check: CheckRun,
    write_policy: PolicyWriter,
    store_dir: Path,
    tmp_path: Path,
    option: str,
    where: str,
) -> None:
    factories.write(store_dir, [factories.incident()])
    write_policy(POLICY)
    (tmp_path / "a-file").write_text("x")
    path = {
        "missing-dir": tmp_path / "no" / "such" / "gate.xml",
        "a-directory": tmp_path,
        "under-a-file": tmp_path / "a-file" / "gate.xml",
    }[where]
    result = check("--env", "prod", "--service", "checkout", option, str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("gatekeeper: error: cannot write report: ")
    assert f"({path})" in result.stderr


def test_a_probe_leaves_no_file_behind(
    check: CheckRun, write_policy: PolicyWriter, tmp_path: Path
) -> None:
    write_policy("version: 1\nenvironments: {qa: {strict: false}}\n")
    path = tmp_path / "gate.json"
    # the policy is fine but the env is unknown: exit 2 after the probe, before any gate
    result = check("--env", "prod", "--service", "checkout", "--json", str(path))
    assert result.exit_code == 2
    assert not path.exists()


def test_a_failed_write_after_a_block_keeps_exit_1(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident()])
    write_policy(POLICY)
    result = check("--env", "prod", "--service", "checkout", "--junit", "/dev/full")
    assert result.exit_code == 1
    assert result.stdout.startswith("gatekeeper: BLOCK (exit 1)")
    assert "report not written: cannot write report" in result.stdout
    assert "(/dev/full)" in result.stderr


def test_a_failed_write_after_a_pass_is_exit_2_and_the_header_says_so(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident(service="payments")])
    write_policy(POLICY)
    result = check("--env", "prod", "--service", "checkout", "--json", "/dev/full")
    assert result.exit_code == 2
    assert result.stdout.startswith("gatekeeper: PASS (exit 2)")
    formatted = check(
        "--env", "prod", "--service", "checkout", "--json", "/dev/full", "--format", "json"
    )  # fmt: skip
    report = json.loads(formatted.stdout)
    assert (formatted.exit_code, report["exit_code"]) == (2, 2)
    assert report["output_errors"] == ["cannot write report: No space left on device (/dev/full)"]


def test_written_reports_state_the_real_exit_code(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, tmp_path: Path
) -> None:
    factories.write(store_dir, [factories.incident()])
    write_policy(POLICY)
    path = tmp_path / "gate.json"
    result = check("--env", "prod", "--service", "checkout", "--json", str(path))
    assert result.exit_code == 1
    assert json.loads(path.read_text())["exit_code"] == 1
    assert result.stdout.startswith("gatekeeper: BLOCK (exit 1)")
