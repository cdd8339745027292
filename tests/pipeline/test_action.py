"""Pipeline integration: the CI workflow, the composite action and the pre-commit hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
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


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = action()["runs"]["steps"]
    return steps


def _uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@")[0]


def test_the_venv_is_restored_installed_and_saved_under_the_key_steps_key_and_path() -> None:
    steps = _steps()
    assert [s.get("id") for s in steps] == ["python", "venv", "restore", "install", None, "gate"]
    _, key_step, restore, install, save, _ = steps
    assert "cache_key.py" in key_step["run"]
    assert key_step["env"]["GK_ACTION_REF"] == "${{ github.action_ref }}"
    assert (_uses(restore), _uses(save)) == ("actions/cache/restore", "actions/cache/save")
    assert restore["uses"].split("@")[1] == save["uses"].split("@")[1]  # one pinned commit
    where = {"path": "${{ steps.venv.outputs.path }}", "key": "${{ steps.venv.outputs.key }}"}
    assert restore["with"] == save["with"] == where
    assert install["env"]["GK_VENV"] == where["path"]
    assert install["env"]["GK_CACHE_KEY"] == where["key"]
    # saved as soon as it is built, whatever the gate decides after it; never over a hit
    assert save["if"] == (
        "steps.install.outputs.installed == 'true' && steps.restore.outputs.cache-hit != 'true'"
    )
    text = (REPO / "action.yml").read_text()
    # hashFiles() ignores files outside the workspace, where a used action lives
    assert "hashFiles" not in text and "actions/cache@" not in text


def _key_step(tmp_path: Path, root: Path, **extra: str) -> tuple[int, dict[str, str]]:
    output = tmp_path / "key-output"
    output.unlink(missing_ok=True)
    variables = {
        "PATH": os.environ["PATH"],
        "GITHUB_ACTION_PATH": str(root),
        "GITHUB_OUTPUT": str(output),
        "GK_PYTHON": sys.executable,
        "GK_ACTION_REF": "v0.1.0",
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        **extra,
    }
    (step,) = [s for s in _steps() if s.get("id") == "venv"]
    result = subprocess.run(
        [*GITHUB_BASH, step["run"]], env=variables, capture_output=True, text=True, check=False
    )
    lines = output.read_text().splitlines() if output.exists() else []
    return result.returncode, dict(line.split("=", 1) for line in lines)


KEYED = (
    "constraints.txt",
    "pyproject.toml",
    "scripts/action/install.sh",
    "gatekeeper/__init__.py",
    "gatekeeper/py.typed",
)


def _action_files(root: Path) -> Path:
    """The files of an action checkout that the key reads, copied from this one."""
    for name in KEYED:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, root / name)
    shutil.copy(REPO / "scripts" / "action" / "cache_key.py", root / "scripts" / "action")
    return root


def test_the_cache_key_names_the_runner_the_python_the_ref_and_what_the_install_reads(
    tmp_path: Path,
) -> None:
    root = _action_files(tmp_path / "action")
    code, outputs = _key_step(tmp_path, root)
    assert code == 0
    key = outputs["key"]
    python = "cpython" + ".".join(map(str, sys.version_info[:3]))
    assert key.startswith(f"gatekeeper-venv-Linux-X64-{python}-v0.1.0-")
    assert outputs["path"] == str(tmp_path / "runner" / "gatekeeper-venv")
    assert "," not in key and len(key) < 512  # what the cache service accepts
    assert _key_step(tmp_path, root)[1]["key"] == key  # stable

    def key_after(change: Callable[[], object], **extra: str) -> str:
        change()
        changed = _key_step(tmp_path, root, **extra)[1]["key"]
        shutil.rmtree(root)
        _action_files(root)
        return changed

    package = root / "gatekeeper"
    differs = {
        "constraints": key_after(lambda: (root / "constraints.txt").write_text("click==8.1.0\n")),
        "pyproject": key_after(lambda: (root / "pyproject.toml").write_text("[project]\n")),
        "the install": key_after(lambda: (root / "scripts/action/install.sh").write_text("")),
        "a package file": key_after(lambda: (package / "py.typed").write_text("changed")),
        "a new module": key_after(lambda: (package / "new.py").write_text("")),
        "the venv's path": key_after(lambda: None, RUNNER_TEMP=str(tmp_path / "elsewhere")),
        "the runner": key_after(lambda: None, RUNNER_ARCH="ARM64"),
    }
    assert key not in differs.values() and len(set(differs.values())) == len(differs)

    def bytecode() -> None:
        (package / "__pycache__").mkdir()
        (package / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"x")

    assert key_after(bytecode) == key
    local = _key_step(tmp_path, root, GK_ACTION_REF="")[1]["key"]
    assert "-local-" in local and local.endswith(key.rsplit("-", 1)[1])  # a label only
    branch = _key_step(tmp_path, root, GK_ACTION_REF="feature/a,b c")[1]["key"]
    assert "-feature-a-b-c-" in branch
    (root / "constraints.txt").unlink()
    assert _key_step(tmp_path, root)[0] != 0  # no key without the constraints


def _install_step(
    runner_temp: Path, pip_cache: Path, key: str, python: str = sys.executable
) -> tuple[subprocess.CompletedProcess[str], list[str], str]:
    """The install step as GitHub runs it; its result, outputs and exports."""
    github_env, output = runner_temp.parent / "github_env", runner_temp.parent / "output"
    for path in (github_env, output):
        path.unlink(missing_ok=True)
    variables = {
        "PATH": os.environ["PATH"],
        "GITHUB_ACTION_PATH": str(REPO),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_ENV": str(github_env),
        "GITHUB_OUTPUT": str(output),
        "GK_PYTHON": python,
        "GK_VENV": str(runner_temp / "gatekeeper-venv"),
        "GK_CACHE_KEY": key,
        # The test machine installs from the same wheels the test run uses.
        "PIP_FIND_LINKS": os.environ.get("PIP_FIND_LINKS", ""),
        "PIP_CACHE_DIR": str(pip_cache),
        "HOME": os.environ.get("HOME", str(runner_temp.parent)),
    }
    result = subprocess.run(
        [*GITHUB_BASH, _install_run()],
        env=variables,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    outputs = output.read_text().splitlines() if output.exists() else []
    exported = github_env.read_text() if github_env.exists() else ""
    return result, outputs, exported


def test_the_install_step_builds_its_own_venv_and_reuses_a_restored_one_only_if_it_runs(
    tmp_path: Path,
) -> None:
    """A fresh install, then the same venv as a cache restores it, then broken ones."""
    runner_temp, pip_cache = tmp_path / "runner", tmp_path / "pip-cache"
    runner_temp.mkdir()
    venv = runner_temp / "gatekeeper-venv"
    binary = venv / "bin" / "gatekeeper"
    result, outputs, exported = _install_step(runner_temp, pip_cache, "key-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs == ["installed=true"]
    assert exported == f"GATEKEEPER_BIN={binary}\n"
    assert "::group::Install gatekeeper" in result.stdout
    assert not (venv / "bin" / "pip").exists()  # the job's pip installed into it
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout == "gatekeeper, version 0.1.0\n"
    assert (venv / "gatekeeper-cache-key").read_text() == "key-1\n" + version.stdout

    # restored under the same key: used as it is (no Python to build with is needed)
    result, outputs, exported = _install_step(runner_temp, pip_cache, "key-1", "/nonexistent")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs == ["installed=false"]
    assert exported == f"GATEKEEPER_BIN={binary}\n"
    assert "the cached virtualenv (gatekeeper, version 0.1.0)" in result.stdout

    # damaged or not this key's: detected and removed before a rebuild (which here has
    # no Python to build with, so the step fails, as it must rather than run the gate)
    backup = tmp_path / "backup"
    shutil.copytree(venv, backup, symlinks=True)
    damages: dict[str, Callable[[], object]] = {
        "another key's venv": lambda: None,
        "its interpreter gone": lambda: _relink(venv / "bin" / "python", "/nonexistent/python3"),
        "its command broken": lambda: binary.write_text("#!/bin/sh\nexit 3\n"),
        "another version": lambda: binary.write_text("#!/bin/sh\necho gatekeeper, version 0\n"),
    }
    for case, damage in damages.items():
        shutil.rmtree(venv, ignore_errors=True)
        shutil.copytree(backup, venv, symlinks=True)
        damage()
        key = "key-2" if case == "another key's venv" else "key-1"
        result, outputs, _ = _install_step(runner_temp, pip_cache, key, "/nonexistent")
        assert result.returncode != 0 and outputs == [], case
        assert "::warning title=gatekeeper::the cached virtualenv does not run" in result.stdout
        assert not venv.exists(), case

    # and the rebuild itself, from a damaged venv
    shutil.copytree(backup, venv, symlinks=True)
    _relink(venv / "bin" / "python", "/nonexistent/python3")
    result, outputs, _ = _install_step(runner_temp, pip_cache, "key-1")
    assert result.returncode == 0 and outputs == ["installed=true"], result.stderr
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    assert version.stdout == "gatekeeper, version 0.1.0\n"


def _relink(link: Path, target: str) -> None:
    link.unlink()
    link.symlink_to(target)


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
