"""The action's cache key and path for gatekeeper's virtualenv, run by that venv's Python.

Writes ``key=`` and ``path=`` to ``$GITHUB_OUTPUT``. The key names what a cached
venv depends on, so a restored one is never another install's:

- the runner's OS and architecture, and this interpreter (implementation and
  exact version in the key; its path and build string in the digest: the venv's
  ``pyvenv.cfg`` and ``bin/python`` point at it);
- the venv's own path (its scripts' shebang lines hold it);
- the action's ref, as a label: ``github.action_ref`` is empty for a local
  ``uses: ./`` and a branch name moves, so the digest of what the install reads
  (``constraints.txt``, ``pyproject.toml``, the install script and every file
  of the package) is what tells two checkouts apart. ``hashFiles()`` cannot do this: it ignores
  files outside the workspace, where a used action's checkout lives.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

ROOT_FILES = ("constraints.txt", "pyproject.toml", "scripts/action/install.sh")
PACKAGE = "gatekeeper"
VENV_DIR = "gatekeeper-venv"


def source_files(root: Path) -> list[Path]:
    """What the install reads from the action's checkout, in a stable order."""
    package = root / PACKAGE
    files = [p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return [*(root / name for name in ROOT_FILES), *sorted(files)]


def digest(root: Path, venv: str) -> str:
    h = hashlib.sha256()
    for part in (sys.executable, sys.version, venv):
        h.update(f"{part}\0".encode())
    for path in source_files(root):
        data = path.read_bytes()  # a missing constraints.txt fails the step
        h.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:24]


def label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:64] or "local"


def cache_key(root: Path, venv: str, runner_os: str, arch: str, ref: str) -> str:
    version = ".".join(map(str, sys.version_info[:3]))
    python = f"{sys.implementation.name}{version}"
    parts = ["gatekeeper-venv", runner_os, arch, python, label(ref), digest(root, venv)]
    return "-".join(parts)


def main() -> int:
    root = Path(os.environ.get("GITHUB_ACTION_PATH") or Path(__file__).resolve().parents[2])
    venv = str(Path(os.environ["RUNNER_TEMP"]) / VENV_DIR)
    key = cache_key(
        root,
        venv,
        os.environ.get("RUNNER_OS", sys.platform),
        os.environ.get("RUNNER_ARCH", os.uname().machine),
        os.environ.get("GK_ACTION_REF", ""),
    )
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"key={key}\npath={venv}\n")
    print(f"gatekeeper's virtualenv: {venv}\ncache key: {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
