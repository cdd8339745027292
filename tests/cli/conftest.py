"""``gatekeeper`` against a JSONL store in ``tmp_path`` with the shipped roles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, CliResult, CliRun

NOW_TEXT = "2026-03-02T12:00:00Z"
Gatekeeper = Callable[..., CliResult]


@pytest.fixture
def gk(run_cli: CliRun, store_dir: Path) -> Gatekeeper:
    """``gk(*args, agent=None, input=None)``: run with the store, policy and --now set."""

    def run(*args: str, agent: str | None = None, input: str | None = None) -> CliResult:
        options = ["--store-dir", str(store_dir), "--policy", str(REPO / "policies")]
        options += ["--now", NOW_TEXT]
        if agent is not None:
            options += ["--agent", agent]
        return run_cli(*options, *args, input=input)

    return run


def one_error(result: CliResult, exit_code: int = 1) -> str:
    """The single stderr line of a failed command, without its prefix."""
    assert result.exit_code == exit_code, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("gatekeeper: error: ")
    return result.stderr.removeprefix("gatekeeper: error: ").rstrip("\n")
