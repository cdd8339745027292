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
