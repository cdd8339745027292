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


def _step(step_id: str) -> str:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    return str(step["run"])


def _install_run() -> str:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("name") == "Install gatekeeper"]
    return str(step["run"])


# GitHub's own invocation of a composite step's `run:` with `shell: bash`.
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
CORRUPT = (
    b'{"id": "inc_20260301_1000_999999", "service": "checkout", "env": "prod", "severity": "P0 "}\n'
)


def _run_gate_step(
    tmp_path: Path, env: str, store: Path, **extra: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    outputs, summary = tmp_path / "outputs", tmp_path / "summary.md"
    variables = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTION_PATH": str(REPO),
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
        **extra,
    }
    result = subprocess.run(
        [*GITHUB_BASH, _step("gate")],
        env=variables,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, outputs.read_text().splitlines() if outputs.exists() else []


@pytest.mark.parametrize(
    ("case", "env", "code", "decision"),
    [
        ("pass", "dev", 0, "warn"),
        ("block", "prod", 1, "block"),
        ("config error", "prdo", 2, "error"),
        ("store damaged", "prod", 3, "error"),
    ],
)
def test_the_gate_step_writes_its_outputs_and_exits_with_the_gates_code_under_minus_e(
    tmp_path: Path, case: str, env: str, code: int, decision: str
) -> None:
    store = tmp_path / "store"
    service = "payments" if case == "store damaged" else "checkout"  # block outranks error
    factories.write(
        store, [factories.incident(env="prod" if env == "prdo" else env, service=service)]
    )
    if case == "store damaged":
        with (store / "incidents.jsonl").open("ab") as handle:
            handle.write(CORRUPT)
    result, outputs = _run_gate_step(tmp_path, env, store)
    assert result.returncode == code, result.stdout + result.stderr
    assert outputs == [f"decision={decision}", f"exit-code={code}"]
    if code in (0, 1):
        report = json.loads((tmp_path / "report.json").read_text())
        assert report["services"] == ["checkout", "search"]
        assert (tmp_path / "junit.xml").read_text().startswith("<?xml")
        assert (tmp_path / "summary.md").read_text().startswith("## ")
        assert "::" in result.stdout  # GitHub annotations
        assert "::group::" in result.stdout


def test_break_glass_from_the_action_passes_the_reason_as_one_argument(tmp_path: Path) -> None:
    store = tmp_path / "store"
    factories.write(store, [factories.incident(env="prod")])
    reason = "hotfix for the card outage"
    result, outputs = _run_gate_step(
        tmp_path, "prod", store, GK_AGENT="helion", GK_OVERRIDE_REASON=reason
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs == ["decision=warn", "exit-code=0"]
    assert reason in (store / "events.jsonl").read_text()


def test_the_install_step_uses_its_own_venv_and_exports_the_binary(tmp_path: Path) -> None:
    """Run the install script with the constraints, offline from the current environment."""
    runner_temp, github_env = tmp_path / "runner", tmp_path / "github_env"
    runner_temp.mkdir()
    variables = {
        "PATH": os.environ["PATH"],
        "GITHUB_ACTION_PATH": str(REPO),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_ENV": str(github_env),
        "GK_PYTHON": sys.executable,
        # The test machine installs from the same wheels the test run uses.
        "PIP_FIND_LINKS": os.environ.get("PIP_FIND_LINKS", ""),
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    result = subprocess.run(
        [*GITHUB_BASH, _install_run()],
        env=variables,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    binary = runner_temp / "gatekeeper-venv" / "bin" / "gatekeeper"
    assert github_env.read_text() == f"GATEKEEPER_BIN={binary}\n"
    assert "::group::Install gatekeeper" in result.stdout
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "gatekeeper" in version.stdout


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
