"""The ``gatekeeper`` command line: parses options, calls the library, renders.

No business logic lives here. Errors are turned into exit codes in exactly one
place, :func:`main`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gatekeeper import __version__
from gatekeeper.config import BACKENDS
from gatekeeper.errors import GatekeeperError

F = TypeVar("F", bound=Callable[..., Any])

USAGE_EXIT = 2
# A crash must never read as "pass"; for `check` it means the gate could not be
# evaluated, which is what exit 3 says, so pipelines treat it like a dead store.
INTERNAL_ERROR_EXIT = 3

# Each command lives in its own module, imported only when that command runs:
# `gatekeeper check` in a pipeline must not pay for the incident or store CLIs.
COMMANDS = {
    "alerts": "gatekeeper.cli.alerts",
    "check": "gatekeeper.cli.check",
    "correlate": "gatekeeper.cli.intel:correlate",
    "digest": "gatekeeper.cli.intel:digest",
    "recurrence": "gatekeeper.cli.intel:recurrence",
    "risk": "gatekeeper.cli.intel:risk",
    "incident": "gatekeeper.cli.incident",
    "jobs": "gatekeeper.cli.jobs",
    "keys": "gatekeeper.cli.keys",
    "policy": "gatekeeper.cli.policy",
    "postmortem": "gatekeeper.cli.intel:postmortem",
    "serve": "gatekeeper.cli.serve",
    "retention": "gatekeeper.cli.retention",
    "store": "gatekeeper.cli.store",
    "tool": "gatekeeper.cli.tool",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (``module.command``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module_name, _, attribute = module_name.partition(":")
        command = getattr(importlib.import_module(module_name), attribute or "command")
        assert isinstance(command, click.Command)
        accept_global_options(command)
        return command


# The global options: before the command, or after it (`check --env prod --store-dir X`),
# where the later one wins. Each is a settings field (gatekeeper.config).
GLOBAL_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--backend",
        {
            "type": click.Choice(BACKENDS),
            "help": "Incident store backend [env INCIDENT_BACKEND; default jsonl].",
        },
    ),
    ("--database-url", {"help": "PostgreSQL URL [env DATABASE_URL]."}),
    (
        "--store-dir",
        {"help": "Directory of the JSONL files [env INCIDENT_JSONL_DIR; default ops/incidents]."},
    ),
    (
        "--artifacts-dir",
        {"help": "Artifact files directory [env INCIDENT_ARTIFACTS_DIR; default the store dir]."},
    ),
    ("--policy", {"help": "Policy directory or file [env GATEKEEPER_POLICY; default policies]."}),
    ("--agent", {"help": "Agent acting (permissions, audit) [env GATEKEEPER_AGENT]."}),
    ("--keys-file", {"help": "API keys file for serve [env GATEKEEPER_KEYS_FILE]."}),
    (
        "--now",
        {
            "metavar": "TIMESTAMP",
            "help": "Evaluation time, UTC ISO-8601 [env GATEKEEPER_NOW; default the clock].",
        },
    ),
)


def _global_options(func: F) -> F:
    for flag, attributes in reversed(GLOBAL_OPTIONS):
        func = click.option(flag, default=None, **attributes)(func)
    return func


def accept_global_options(command: click.Command) -> None:
    """Let ``command`` (and every command below it) take the global options too.

    They are hidden from its help (the top-level help lists them) and only
    recorded: the settings are rebuilt as if the option had come first.
    """
    from gatekeeper.cli._app import GLOBAL_PREFIX, global_option_callback

    taken = {opt for param in command.params for opt in param.opts}
    for flag, attributes in GLOBAL_OPTIONS:
        if flag not in taken:
            field = flag.removeprefix("--").replace("-", "_")
            option = click.Option(
                [flag, f"{GLOBAL_PREFIX}{field}"],  # its own name: `keys add AGENT` has `agent`
                default=None,
                hidden=True,
                expose_value=False,
                callback=global_option_callback,
                **{k: v for k, v in attributes.items() if k != "help"},
            )
            command.params.append(option)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_global_options(sub)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="gatekeeper")
@_global_options
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Release gate for CI/CD pipelines, answered from the incident record.

    The options below may also follow the command (the later one wins).

    Example: gatekeeper --store-dir examples/incidents check --env prod --service checkout
    """
    from gatekeeper.cli._app import App  # the store and the models: not for --version or --help
    from gatekeeper.config import load_settings

    app = App(settings=load_settings(**options), options=options)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; the one place errors become exit codes."""
    try:
        result = cli.main(args=argv, prog_name="gatekeeper", standalone_mode=False)
    except GatekeeperError as exc:
        click.echo(f"gatekeeper: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("gatekeeper: error: aborted", err=True)
        return 1
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "gatekeeper"
        click.echo(f"gatekeeper: error: {exc.format_message()} (see '{command} --help')", err=True)
        return USAGE_EXIT
    except click.ClickException as exc:
        click.echo(f"gatekeeper: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: one line in the CI log, the traceback on request
        if os.environ.get("GATEKEEPER_DEBUG"):
            import traceback

            traceback.print_exc()
        click.echo(
            f"gatekeeper: error: internal error: {type(exc).__name__}: {exc} "
            "(set GATEKEEPER_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        return INTERNAL_ERROR_EXIT
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())
