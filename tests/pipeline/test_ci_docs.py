"""docs/ci.md: every recipe is linted or run, with the locally built wheel, on the demo store.

What cannot run here is replaced, each in one place and said so: the install line
(the pinned release is not on the index these tests use, so the wheel built from
this checkout stands in for it, on PATH or as the venv the recipe makes), and the
incident database (the recipes read PostgreSQL; here the demo JSONL store, which
tests/store proves answers the same).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper import __version__
from gatekeeper.rbac import load_rbac
from tests.conftest import REPO
from tests.pipeline.conftest import clean_env
from tests.pipeline.test_action import actionlint
from tests.pipeline.test_pre_commit import HOOK

DOC = REPO / "docs" / "ci.md"
FENCE = re.compile(r"^```(\S+)(?: (\S+))?\n(.*?)^```", re.MULTILINE | re.DOTALL)
PIN = f"release-gatekeeper=={__version__}"
SOURCE = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Source"]
ACTION = SOURCE.removeprefix("https://github.com/") + f"@v{__version__}"
NOW = "2026-11-24T12:00:00Z"  # a Tuesday: no freeze window; checkout's P1 is active
REASON = "hotfix for the card outage; PAY-913"


def block(kind: str) -> str:
    found: list[str] = [
        body for lang, tag, body in FENCE.findall(DOC.read_text()) if f"{lang} {tag}" == kind
    ]
    assert len(found) == 1, kind
    return found[0]


@dataclass
class Project:
    """A user's checkout: its policies, an incident store, a deploy script that leaves a mark."""

    root: Path
    store: Path
    env: dict[str, str]

    def run(self, script: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=self.root,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / "gatekeeper-report.json").read_text())
        return data

    @property
    def deployed(self) -> bool:
        return (self.root / "deployed").exists()


@pytest.fixture
def project(tmp_path: Path, wheel_venv: Path) -> Project:
    root = tmp_path / "project"
    shutil.copytree(REPO / "policies", root / "policies")
    store = shutil.copytree(REPO / "examples" / "incidents", tmp_path / "incidents")
    deploy = root / "deploy.sh"
    deploy.write_text('#!/bin/sh\necho "$@" > deployed\n')
    deploy.chmod(0o755)
    env = clean_env(
        PATH=f"{wheel_venv}{os.pathsep}{clean_env()['PATH']}",
        INCIDENT_BACKEND="jsonl",  # the recipes' postgres: see the module docstring
        INCIDENT_JSONL_DIR=str(store),
        DATABASE_URL="",
        GATEKEEPER_NOW=NOW,
    )
    return Project(root=root, store=store, env=env)


def test_the_page_is_linked_from_the_readme() -> None:
    assert "[docs/ci.md](docs/ci.md)" in (REPO / "README.md").read_text()


def test_every_recipe_installs_the_pinned_release_from_outside_the_repository() -> None:
    for kind in ("yaml gitlab-ci", "groovy jenkins", "sh shell"):
        text = block(kind)
        assert PIN in text, kind
        assert not re.search(r"pip install (-e )?\.", text), kind
    assert f"uses: {ACTION}" in block("yaml github-workflow")
    for line in block("sh install").strip().splitlines():
        assert "release-gatekeeper" in line and __version__ in line, line
    for url in re.findall(r"https://github\.com/[\w./-]+", DOC.read_text()):
        assert url.startswith(SOURCE), url  # one repository URL, the one in pyproject


def test_the_github_workflow_passes_actionlint_with_the_actions_real_inputs(
    tmp_path: Path,
) -> None:
    text = block("yaml github-workflow")
    workflow = yaml.safe_load(text)
    gate = workflow["jobs"]["release-gate"]["steps"][1]
    assert {"agent", "override-reason"} <= set(gate["with"])
    assert workflow["jobs"]["deploy"]["needs"] == "release-gate"
    # `./` so actionlint checks the inputs against this action.yml (a remote one it cannot read)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(REPO / "action.yml", tmp_path / "action.yml")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    local = text.replace(f"uses: {ACTION}", "uses: ./")
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(local)
    result = actionlint(tmp_path)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(
        local.replace("override-reason: ${{", "override_reason: ${{")
    )
    assert 'input "override_reason" is not defined' in actionlint(tmp_path).stdout


def _gitlab() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(block("yaml gitlab-ci"))
    return data


def _gitlab_gate(project: Project, **variables: str) -> subprocess.CompletedProcess[str]:
    """The release-gate job's script as GitLab runs it: one shell, stop at the first failure,
    the pipeline's then the job's variables (references expanded from the environment)."""
    config = _gitlab()
    job = config["release-gate"]
    install, *script = job["script"]
    assert install == f"pip install --quiet {PIN}"  # replaced by the wheel on PATH
    env = {**project.env, **variables}
    for name, value in {**config["variables"], **job["variables"]}.items():
        if name not in variables:  # a variable given to the run wins over the YAML's
            env[name] = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), str(value))
    env.update(INCIDENT_BACKEND="jsonl", DATABASE_URL="")  # see the module docstring
    return project.run("\n".join(script), **env)


def test_the_gitlab_pipeline_publishes_junit_and_deploys_only_after_the_gate() -> None:
    config = _gitlab()
    assert config["release-gate"]["artifacts"]["reports"]["junit"] == "gatekeeper-junit.xml"
    assert config["release-gate"]["artifacts"]["when"] == "always"
    assert config["deploy"]["needs"] == ["release-gate"]
    assert config["stages"].index("gate") < config["stages"].index("deploy")


@pytest.mark.parametrize(
    ("case", "variables", "code", "decision"),
    [
        ("blocked", {}, 1, "block"),
        ("another service", {"SERVICE": "payments"}, 0, "pass"),
        ("break-glass", {"BREAK_GLASS_REASON": REASON, "GITLAB_USER_LOGIN": "helion"}, 0, "warn"),
    ],
)
def test_the_gitlab_gate_job_runs_on_the_demo_store(
    project: Project, case: str, variables: dict[str, str], code: int, decision: str
) -> None:
    result = _gitlab_gate(project, **variables)
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stdout.startswith("policy ok:")  # `gatekeeper policy validate` ran first
    assert project.report()["decision"] == decision
    junit = (project.root / "gatekeeper-junit.xml").read_text()
    assert junit.startswith("<?xml") and "gatekeeper.prod." in junit
    assert (project.root / "gatekeeper.md").exists()
    assert (REASON in (project.store / "events.jsonl").read_text()) == (case == "break-glass")


def test_gitlab_break_glass_by_a_user_who_may_not_override_is_refused(project: Project) -> None:
    result = _gitlab_gate(project, BREAK_GLASS_REASON=REASON, GITLAB_USER_LOGIN="monitor")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "gatekeeper: error:" in result.stderr
    assert REASON not in (project.store / "events.jsonl").read_text()


JENKINS_SH = re.compile(r"\bsh\b[^'\n]*'([^']*)'")


def _jenkins() -> tuple[dict[str, str], list[str]]:
    text = block("groovy jenkins")
    environment = re.search(r"environment \{(.*?)\}", text, re.DOTALL)
    assert environment is not None
    values = dict(re.findall(r"(\w+) = '([^']*)'", environment.group(1)))
    return values, JENKINS_SH.findall(text)


def test_the_jenkinsfile_publishes_junit_and_asks_an_allowed_approver_to_break_glass() -> None:
    text = block("groovy jenkins")
    assert "junit 'gatekeeper-junit.xml'" in text
    assert "returnStatus: true" in text and "input(" in text
    submitters = re.search(r"submitter: '([^']*)'", text)
    assert submitters is not None
    rbac = load_rbac(REPO / "policies")
    for agent in submitters.group(1).split(","):
        assert rbac.allows(agent, "gate_override"), agent
    _, steps = _jenkins()
    assert [s.split()[0] for s in steps] == [
        "python3",
        ".gk/bin/gatekeeper",
        ".gk/bin/gatekeeper",
        "./deploy.sh",
    ]


def test_the_jenkins_sh_steps_block_then_break_glass_on_the_demo_store(
    project: Project, wheel_venv: Path
) -> None:
    values, (install, check, override, deploy) = _jenkins()
    assert install == f"python3 -m venv .gk && .gk/bin/pip install --quiet {PIN}"
    (project.root / ".gk").symlink_to(wheel_venv.parent)  # the venv install would make
    env = {**values, "INCIDENT_BACKEND": "jsonl"}  # see the module docstring
    result = project.run(check, **env)
    assert result.returncode == 1, result.stdout + result.stderr  # -> the input step
    assert project.report()["decision"] == "block"
    result = project.run(override, **env, GATEKEEPER_AGENT="sofiia", BREAK_GLASS_REASON=REASON)
    assert result.returncode == 0, result.stdout + result.stderr
    assert project.report()["decision"] == "warn"
    assert REASON in (project.store / "events.jsonl").read_text()
    assert project.run(deploy, **env).returncode == 0 and project.deployed


def _shell_recipe() -> str:
    install, *rest = [line for line in block("sh shell").splitlines() if "pipx" in line] or [""]
    assert install == f"pipx install {PIN}" and not rest  # replaced by the wheel on PATH
    return block("sh shell").replace(install + "\n", "")


@pytest.mark.parametrize(
    ("service", "store_ok", "code", "deployed"),
    [("checkout", True, 1, False), ("payments", True, 0, True), ("payments", False, 3, False)],
)
def test_the_shell_recipe_deploys_only_on_exit_0(
    project: Project, service: str, store_ok: bool, code: int, deployed: bool
) -> None:
    if not store_ok:
        shutil.rmtree(project.store)
    result = project.run(_shell_recipe(), DEPLOY_ENV="prod", SERVICE=service)
    assert result.returncode == code, result.stdout + result.stderr
    assert project.deployed == deployed
    if code:
        assert f"not deploying {service} to prod (exit {code}" in result.stderr


def test_the_pre_commit_config_uses_the_provided_hook_at_the_release_tag() -> None:
    (repo,) = yaml.safe_load(block("yaml pre-commit-config"))["repos"]
    assert repo["repo"] == SOURCE
    assert repo["rev"] == f"v{__version__}"
    assert repo["hooks"] == [{"id": HOOK["id"]}]
    # tests/pipeline/test_pre_commit.py runs this configuration with the repository and
    # rev pointed at a snapshot of this checkout
