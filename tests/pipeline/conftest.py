"""Session fixtures for the packaging tests: one source snapshot, one build, one venv.

Building and installing take tens of seconds, so each happens once per test session
and every test that needs the installed wheel or a committed copy of the repository
shares it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "gatekeeper tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "gatekeeper tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def run(command: list[str], cwd: Path, timeout: float = 600, **env: str) -> str:
    """Run a command that must succeed; its combined output on failure."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that would let a child see this checkout's venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"} and not k.startswith("GATEKEEPER_")
    }
    ours = Path(sys.executable).parent
    path = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in path if Path(p) != ours)
    return {**env, **GIT_IDENTITY, **extra}


def git_repository(path: Path) -> Path:
    """Make ``path`` a git repository with everything in it committed."""
    run(["git", "init", "-q", "-b", "main", str(path)], cwd=path)
    run(["git", "add", "-A"], cwd=path)
    run(["git", "commit", "-q", "--no-gpg-sign", "-m", "snapshot"], cwd=path)
    return path


@pytest.fixture(scope="session")
def source_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as committed would be: its tracked and new, not ignored, files
    copied into a scratch repository with one commit (pre-commit reads a repository at a
    commit, and the build should see what a release would, not local leftovers)."""
    listed = run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"], cwd=REPO)
    target = tmp_path_factory.mktemp("source")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a deleted but still tracked file is listed too
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return git_repository(target)


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="session")
def dists(source_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """``python -m build``: the sdist, then the wheel built from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(source_repo)], cwd=source_repo)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dists(sdist=sdist, wheel=wheel)


@pytest.fixture(scope="session")
def wheel_venv(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the wheel and the pinned constraints; its bin/."""
    venv = tmp_path_factory.mktemp("wheel-venv")
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv)
    # The same index configuration pip uses on this machine (no --no-index): the runtime
    # dependencies come from where any user's pip would get them, pinned as the action does.
    run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--constraint",
            str(REPO / "constraints.txt"),
            str(dists.wheel),
        ],
        cwd=venv,
    )
    return venv / "bin"
