"""The README's commands work as written (the install step aside)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import REPO, CliRun

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def gatekeeper_args(line: str) -> list[str]:
    """The arguments after ``gatekeeper`` in a shell line (comments and `; echo` dropped)."""
    command = line.split(" #")[0].split(";")[0]
    words = shlex.split(command)
    start = next(i for i, w in enumerate(words) if w.endswith("gatekeeper"))
    return words[start + 1 :]


def test_quick_start_installs_then_gates_the_demo_store(run_cli: CliRun) -> None:
    (line,) = BLOCKS[0].strip().splitlines()
    assert line.startswith("python3 -m venv .venv && .venv/bin/pip install -q . && ")
    result = run_cli(*gatekeeper_args(line))
    assert result.exit_code == 1, result.stderr
    assert result.stdout.startswith("gatekeeper: BLOCK (exit 1)")
    assert "fu_ck000001" in result.stdout and "owned by ana" in result.stdout


@pytest.mark.parametrize("line", BLOCKS[1].strip().splitlines())
def test_follow_on_examples_exit_as_their_comments_say(run_cli: CliRun, line: str) -> None:
    expected = int(re.findall(r"exit (\d)", line)[-1])
    result = run_cli(*gatekeeper_args(line))
    assert result.exit_code == expected, result.stderr


def test_test_command_is_what_ci_runs() -> None:
    assert BLOCKS[2].strip() == "bash scripts/test.sh"
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_command_examples_run_against_a_fresh_store(run_cli: CliRun, store_dir: Path) -> None:
    block = next(b for b in BLOCKS if "incident create" in b)
    incident_id = ""
    for line in block.strip().splitlines():
        if line.startswith("echo "):
            envelope = shlex.split(line.split("|")[0])[1]
            result = run_cli("--store-dir", str(store_dir), "tool", input=envelope)
        else:
            args = [a.replace("INCIDENT_ID", incident_id) for a in gatekeeper_args(line)]
            result = run_cli("--store-dir", str(store_dir), *args)
        assert result.exit_code == 0, (line, result.stderr)
        if "incident create" in line:
            incident_id = re.search(r"inc_\d{8}_\d{4}_[a-z0-9]{6}", result.stdout).group(0)  # type: ignore[union-attr]


def test_the_repository_is_self_contained() -> None:
    """Code and docs point at the repository's own pages, never at an outside contract."""
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.yml", "*.yaml", "*.toml", "*.sh"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    this_file = Path(__file__).resolve()
    offenders = []
    for name in tracked:
        path = REPO / name
        if path.resolve() == this_file or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if re.search(r"\bSPEC\b(?:\.md| §)|\.\./shared/", text):
            offenders.append(name)
    assert offenders == []
