from __future__ import annotations

import pytest

from tests.conftest import CliRun


def test_help_lists_commands(run_cli: CliRun) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "incident" in result.stdout


def test_unknown_command_is_a_usage_error_on_one_line(run_cli: CliRun) -> None:
    result = run_cli("bogus")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("gatekeeper: error: No such command 'bogus'")


def test_a_bug_is_one_line_and_exit_3_not_a_traceback(
    run_cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("gatekeeper.cli.check.run_check", broken)
    result = run_cli(
        "--store-dir", "examples/incidents", "check", "--env", "prod", "--service", "x"
    )
    assert result.exit_code == 3
    assert result.stderr == (
        "gatekeeper: error: internal error: KeyError: 'boom' "
        "(set GATEKEEPER_DEBUG=1 for the traceback, and please report it)\n"
    )
