"""The pre-commit hook this repository provides, tried as users' repositories run it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gatekeeper.policy.loader import NOT_GATE_FILES
from gatekeeper.policy.waivers import WAIVER_FILES
from tests.conftest import REPO
from tests.pipeline.conftest import clean_env, git_repository

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
(HOOK,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())

# One mistake per kind of policy file, each in a file the hook must notice.
BROKEN = {
    "gates": ("gates.yml", "    window_days: 30", "    windows_days: 30"),
    "more gates": ("more.yaml", None, "gates:\n  extra:\n    type: no_such_gate\n"),
    "waivers": ("waivers.yml", "  expires_at: 2026-01-12T09:00:00Z", "  expires_at: soon"),
    "roles": ("rbac.yml", "  helion: agent_oncall", "  helion: agent_oncal"),
}


def test_the_hook_triggers_on_every_kind_of_policy_file() -> None:
    pattern = re.compile(HOOK["files"])
    kinds = {"gates.yml", "gates.yaml", "more.yaml", *WAIVER_FILES, *NOT_GATE_FILES}
    for name in kinds:
        assert pattern.search(f"policies/{name}"), name
        assert pattern.search(f"policies/team/{name}"), name
    for other in ("README.md", "policies.yml", "src/policies/x.py", "ops/task_registry.yml"):
        assert not pattern.search(other), other
    assert HOOK["pass_filenames"] is False  # the whole directory, so cross-file rules apply


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the module: `pre-commit run` installs the hook's environment once.
    (`try-repo` always installs into a store of its own, so it is used sparingly.)"""
    return tmp_path_factory.mktemp("pre-commit-home")


def _scratch_repository(tmp_path: Path, broken: str | None = None, config: str = "") -> Path:
    project = tmp_path / "project"
    shutil.copytree(REPO / "policies", project / "policies")
    if broken is not None:
        name, old, new = BROKEN[broken]
        target = project / "policies" / name
        if old is None:
            target.write_text(new)
        else:
            text = target.read_text()
            assert old in text, (name, old)
            target.write_text(text.replace(old, new, 1))
    if config:
        (project / ".pre-commit-config.yaml").write_text(config)
    return git_repository(project)


def _pre_commit(project: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT.exists(), f"pre-commit not installed next to {sys.executable}"
    return subprocess.run(
        [str(PRE_COMMIT), *args],
        cwd=project,
        env=clean_env(PRE_COMMIT_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _assert_failed_naming(result: subprocess.CompletedProcess[str], name: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"gatekeeper policy validate\.+Failed", result.stdout), result.stdout
    assert "- exit code: 2" in result.stdout
    assert "gatekeeper: error: " in result.stdout
    assert f"policies/{name}" in result.stdout, result.stdout


def test_try_repo_passes_on_good_policies_and_fails_naming_a_broken_file(
    tmp_path: Path, source_repo: Path
) -> None:
    good = _scratch_repository(tmp_path / "good")
    result = _pre_commit(
        good, "try-repo", str(source_repo), HOOK["id"], "--all-files", home=tmp_path / "h1"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"gatekeeper policy validate\.+Passed", result.stdout), result.stdout
    bad = _scratch_repository(tmp_path / "bad", "gates")
    result = _pre_commit(
        bad, "try-repo", str(source_repo), HOOK["id"], "--all-files", home=tmp_path / "h2"
    )
    _assert_failed_naming(result, "gates.yml")


def _config(source_repo: Path) -> str:
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=source_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    hooks = [{"id": HOOK["id"]}]
    return yaml.safe_dump({"repos": [{"repo": str(source_repo), "rev": rev, "hooks": hooks}]})


@pytest.mark.parametrize(
    "kind",
    [None, "gates", "more gates", "waivers", "roles"],
)
def test_the_configured_hook_checks_every_kind_of_policy_file(
    tmp_path: Path, source_repo: Path, pre_commit_home: Path, kind: str | None
) -> None:
    project = _scratch_repository(tmp_path, kind, config=_config(source_repo))
    result = _pre_commit(project, "run", HOOK["id"], "--all-files", home=pre_commit_home)
    if kind is None:
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r"gatekeeper policy validate\.+Passed", result.stdout), result.stdout
    else:
        _assert_failed_naming(result, BROKEN[kind][0])
