"""Global options are accepted after the command too, where the later one wins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from gatekeeper.cli import GLOBAL_OPTIONS, cli
from tests.conftest import CliRun, Seeded
from tests.gate.conftest import REPO

POLICY = str(REPO / "policies")
NOW = "2026-03-02T12:00:00Z"


def test_every_option_of_the_group_is_a_global_option() -> None:
    group_flags = {o for p in cli.params if isinstance(p, click.Option) for o in p.opts}
    assert group_flags - {"--version"} == {flag for flag, _ in GLOBAL_OPTIONS}


def test_check_takes_the_store_and_policy_after_the_command(
    run_cli: CliRun, seeded: Seeded
) -> None:
    args = ["--env", "prod", "--service", "gateway", "--format", "json", "--now", NOW]
    before = run_cli("--store-dir", str(seeded.store_dir), "--policy", POLICY, "check", *args)
    after = run_cli("check", *args, "--store-dir", str(seeded.store_dir), "--policy", POLICY)
    assert before.exit_code == after.exit_code == 1  # the open P1 blocks: the store was read
    assert _timeless(json.loads(after.stdout)) == _timeless(json.loads(before.stdout))


def _timeless(report: dict[str, Any]) -> dict[str, Any]:
    """The report without its measured durations."""
    for result in report["results"]:
        result.pop("duration_ms", None)
    return report


def test_the_later_of_two_global_options_wins(
    run_cli: CliRun, seeded: Seeded, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["--env", "prod", "--service", "gateway", "--now", NOW, "--policy", POLICY]
    blocked = run_cli(
        "--store-dir", str(empty), "check", *args, "--store-dir", str(seeded.store_dir)
    )
    assert blocked.exit_code == 1, blocked  # the seeded store: its open P1 blocks
    dead = run_cli("--store-dir", str(seeded.store_dir), "check", *args, "--store-dir", str(empty))
    assert dead.exit_code == 3, dead  # the empty directory: no store, fail closed
    assert f"{empty} (unavailable" in dead.stdout


def test_a_store_dir_after_the_command_moves_the_artifacts_with_it(
    run_cli: CliRun, seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # like --store-dir before the command: artifacts default to the store directory,
    # not to ops/incidents under the working directory
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes.md"
    notes.write_text("# notes\n")
    result = run_cli(
        "incident", "artifact", seeded.incident_id, str(notes),
        "--store-dir", str(seeded.store_dir), "--agent", "helion", "--policy", POLICY,
    )  # fmt: skip
    assert result.exit_code == 0, result
    stored = [p for p in seeded.store_dir.rglob("notes.md")]
    assert len(stored) == 1 and stored[0].read_text() == "# notes\n"
    assert not (tmp_path / "ops").exists()


@pytest.mark.parametrize(
    "path",
    [["incident", "list"], ["incident", "get"], ["policy", "validate"], ["store", "verify"]],
)
def test_nested_commands_take_global_options(
    run_cli: CliRun, seeded: Seeded, path: list[str]
) -> None:
    extra = [seeded.incident_id] if path[-1] == "get" else []
    result = run_cli(
        *path, *extra, "--store-dir", str(seeded.store_dir), "--policy", POLICY, "--now", NOW
    )
    assert result.exit_code == 0, result
    assert "no such option" not in result.stderr


def test_a_bad_backend_after_the_command_is_a_usage_error(run_cli: CliRun) -> None:
    result = run_cli("check", "--env", "prod", "--backend", "sqlite")
    assert result.exit_code == 2
    assert "'sqlite' is not one of 'jsonl', 'postgres', 'auto'" in result.stderr
    assert "Did you mean" not in result.stderr


def test_backend_names_come_from_one_list() -> None:
    from gatekeeper.config import BACKENDS
    from gatekeeper.store import OPENERS

    backend = next(p for p in cli.params if p.name == "backend")
    assert isinstance(backend.type, click.Choice)
    assert tuple(backend.type.choices) == BACKENDS == tuple(OPENERS)
