"""Fixtures for the gate tests: a policy directory to write into, and how to run check."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, CliRun

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "tests" / "schemas"

PolicyWriter = Callable[..., Path]
CheckRun = Callable[..., CliResult]


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    path = tmp_path / "policies"
    path.mkdir()
    return path


@pytest.fixture
def write_policy(policy_dir: Path) -> PolicyWriter:
    """Write ``gates.yml`` (and optionally ``waivers.yml``) from dedented text."""

    def write(gates: str, waivers: str | None = None, name: str = "gates.yml") -> Path:
        (policy_dir / name).write_text(textwrap.dedent(gates), encoding="utf-8")
        if waivers is not None:
            (policy_dir / "waivers.yml").write_text(textwrap.dedent(waivers), encoding="utf-8")
        return policy_dir

    return write


@pytest.fixture
def check(run_cli: CliRun, policy_dir: Path, store_dir: Path) -> CheckRun:
    """``gatekeeper --policy P --store-dir S check ARGS --now 2026-03-02T12:00:00Z``."""

    def run(*args: str, agent: str | None = None, now: str = "2026-03-02T12:00:00Z") -> CliResult:
        globals_ = ["--policy", str(policy_dir), "--store-dir", str(store_dir)]
        if agent:
            globals_ += ["--agent", agent]
        return run_cli(*globals_, "check", *args, "--now", now)

    return run
