"""Pipeline integration: the CI workflow, the composite action and the pre-commit hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gate import factories
from tests.gate.conftest import REPO

BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"


def actionlint(project: Path, *files: str) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.exists(), f"actionlint not installed next to {sys.executable}"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *files],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text())
    return data


def test_actionlint_accepts_the_workflow_and_its_use_of_the_action() -> None:
    result = actionlint(REPO, ".github/workflows/ci.yml")
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def _project_using_the_action(tmp_path: Path, inputs: dict[str, str]) -> Path:
    """A throwaway repository whose workflow uses this repository's action as ``./``."""
    tmp_path.mkdir()
    shutil.copy(REPO / "action.yml", tmp_path / "action.yml")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    workflow = {
        "name": "deploy",
        "on": {"push": None},
        "jobs": {
            "gate": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/checkout@v4"},
                    {"id": "gate", "uses": "./", "with": inputs},
                    {"run": "echo ${{ steps.gate.outputs.decision }}"},
                ],
            }
        },
    }
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(yaml.safe_dump(workflow))
    return tmp_path


def test_actionlint_checks_every_input_of_the_action(tmp_path: Path) -> None:
    inputs = {name: "x" for name in action()["inputs"]}
    project = _project_using_the_action(tmp_path / "good", inputs)
    result = actionlint(project)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout
    bad = _project_using_the_action(tmp_path / "bad", {"services": "web", "environment": "prod"})
    result = actionlint(bad)
    assert result.returncode == 1
    assert 'input "environment" is not defined' in result.stdout
    assert 'missing input "env"' in result.stdout


def test_action_is_composite_with_the_documented_inputs() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert {
        "env",
        "services",
        "policy",
        "store-dir",
        "backend",
        "database-url",
        "extra-args",
    } <= set(data["inputs"])
    for step in data["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            check = subprocess.run(["bash", "-n"], input=step["run"], text=True, check=False)
            assert check.returncode == 0


def _gate_script() -> str:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == "gate"]
    return str(step["run"])


@pytest.mark.parametrize(("env", "code", "decision"), [("prod", 1, "block"), ("dev", 0, "warn")])
def test_the_action_passes_the_exit_code_through(
    tmp_path: Path, env: str, code: int, decision: str
) -> None:
    store = tmp_path / "store"
    factories.write(store, [factories.incident(env=env)])
    outputs, summary = tmp_path / "outputs", tmp_path / "summary.md"
    variables = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GK_ENV": env,
        "GK_SERVICES": "checkout, search",
        "GK_JUNIT": str(tmp_path / "junit.xml"),
        "GK_JSON": str(tmp_path / "report.json"),
        "GK_EXTRA_ARGS": "--now 2026-03-02T12:00:00Z --gate followup_watch",
        "GATEKEEPER_POLICY": str(REPO / "policies"),
        "INCIDENT_JSONL_DIR": str(store),
        "INCIDENT_BACKEND": "jsonl",
        "DATABASE_URL": "",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = subprocess.run(
        ["bash", "-c", _gate_script()],
        env=variables,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == code, result.stderr
    assert outputs.read_text().splitlines() == [f"decision={decision}", f"exit-code={code}"]
    assert json.loads((tmp_path / "report.json").read_text())["services"] == ["checkout", "search"]
    assert (tmp_path / "junit.xml").read_text().startswith("<?xml")
    assert summary.read_text().startswith("## ")
    assert "::" in result.stdout  # GitHub annotations


def test_pre_commit_hook_validates_the_policy() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "gatekeeper-policy-validate"
    command = [str(BIN / hook["entry"].split()[0]), *hook["entry"].split()[1:]]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("policy ok:")


def test_workflow_runs_the_test_command_with_postgres() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert "postgres" in job["services"]
    assert any(step.get("run") == "bash .ci/run" for step in job["steps"])
