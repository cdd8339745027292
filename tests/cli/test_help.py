"""Every incident and tool command has --help with an ``Example:`` line."""

from __future__ import annotations

import click
import pytest

from gatekeeper.cli.incident import command as incident_group
from gatekeeper.cli.tool import command as tool_command
from tests.conftest import CliRun


def command_paths(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            paths += command_paths(sub, (*path, name))
    return paths


PATHS = command_paths(incident_group, ("incident",)) + command_paths(tool_command, ("tool",))


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_help_has_an_example(run_cli: CliRun, path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert "Example: gatekeeper" in result.stdout or "Example: echo" in result.stdout
