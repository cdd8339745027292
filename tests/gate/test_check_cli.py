"""`gatekeeper check` as a command: report files, the step summary, help, lazy imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import CliRun
from tests.gate import factories
from tests.gate.conftest import REPO, CheckRun, PolicyWriter

POLICY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  followup_watch: {type: followup_watch}
"""


def test_report_files_are_written_alongside_stdout(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, tmp_path: Path
) -> None:
    write_policy(POLICY)
    factories.write(store_dir, [factories.incident()])
    junit, report, summary = tmp_path / "g.xml", tmp_path / "g.json", tmp_path / "g.md"
    result = check(
        "--env", "prod", "--service", "checkout", "--format", "github",
        "--junit", str(junit), "--json", str(report), "--markdown", str(summary),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout.startswith("::error title=followup_watch::checkout: block")
    assert json.loads(report.read_text())["decision"] == "block"
    assert ET.fromstring(junit.read_text()).find("testsuite") is not None
    assert summary.read_text().startswith("## ⛔ gatekeeper: block (prod)")


def test_markdown_goes_to_the_step_summary_unless_a_file_is_given(
    check: CheckRun,
    write_policy: PolicyWriter,
    tmp_path: Path,
    store_dir: Path,
    run_cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_policy(POLICY)
    assert run_cli("--store-dir", str(store_dir), "store", "init").exit_code == 0
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert check("--env", "prod", "--service", "checkout").exit_code == 0
    assert summary.read_text().startswith("earlier step\n## ✅ gatekeeper: pass (prod)")
    before = summary.read_text()
    check("--env", "prod", "--service", "checkout", "--markdown", str(tmp_path / "own.md"))
    assert summary.read_text() == before


def test_unwritable_report_file_is_a_config_error(
    check: CheckRun, write_policy: PolicyWriter, tmp_path: Path
) -> None:
    write_policy(POLICY)
    result = check("--env", "prod", "--service", "x", "--json", str(tmp_path / "no" / "r.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith("gatekeeper: error: cannot write report")


def test_check_needs_env_and_service(run_cli: CliRun) -> None:
    result = run_cli("check", "--env", "prod")
    assert result.exit_code == 2
    assert "--service" in result.stderr


@pytest.mark.parametrize(
    "args", [["check"], ["policy"], ["policy", "validate"], ["policy", "show"]]
)
def test_every_command_has_an_example_in_its_help(run_cli: CliRun, args: list[str]) -> None:
    result = run_cli(*args, "--help")
    assert result.exit_code == 0
    assert "Example: gatekeeper " in result.stdout


@pytest.mark.parametrize(("fmt", "loaded"), [("text", False), ("junit", True)])
def test_only_the_requested_writer_is_imported(fmt: str, loaded: bool, store_dir: Path) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from gatekeeper.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['--policy', {str(REPO / 'policies')!r}, '--store-dir', {str(store_dir)!r},\n"
        f"          'check', '--env', 'prod', '--service', 'x', '--format', {fmt!r}])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('junit_xml', 'psycopg')\n"
        "             or m.startswith(('gatekeeper.reports.', 'gatekeeper.cli.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    modules = set(ast.literal_eval(result.stdout))
    assert not any(m.startswith("psycopg") for m in modules)
    assert ("junit_xml" in modules) is loaded
    assert f"gatekeeper.reports.{fmt}" in modules
    others = {"text", "json", "junit", "markdown", "github"} - {fmt}
    assert not {f"gatekeeper.reports.{o}" for o in others} & modules
    other_commands = {f"gatekeeper.cli.{c}" for c in ("incident", "store", "tool", "policy")}
    assert not other_commands & modules
