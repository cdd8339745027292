"""Every command has --help with an ``Example:`` line and is documented somewhere."""

from __future__ import annotations

import re

import click
import pytest

from gatekeeper.cli import cli
from tests.conftest import REPO, CliRun


def command_paths(group: click.Group) -> list[tuple[str, ...]]:
    """Every command path below ``group``, loading lazy commands as click would."""
    ctx = click.Context(group)
    paths: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, name
                walk(sub, (*path, name))

    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        walk(command, (name,))
    return paths


PATHS = command_paths(cli)
DOCS = "\n".join(
    p.read_text(encoding="utf-8") for p in [REPO / "README.md", *sorted(REPO.glob("docs/*.md"))]
)


def test_every_spec_command_group_is_there() -> None:
    assert {p[0] for p in PATHS} >= {"check", "incident", "policy", "store", "tool"}


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_help_has_an_example(run_cli: CliRun, path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert "Example: gatekeeper" in result.stdout or "Example: echo" in result.stdout


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_command_is_documented(path: tuple[str, ...]) -> None:
    # `gatekeeper [global options] PATH`, as a user would type it.
    pattern = r"\bgatekeeper\b[^\n`]*?\s" + r"\s+".join(map(re.escape, path)) + r"\b"
    assert re.search(pattern, DOCS), f"no example of `gatekeeper {' '.join(path)}` in the docs"
