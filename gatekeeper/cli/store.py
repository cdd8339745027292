"""``gatekeeper store``: inspect and maintain the incident store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gatekeeper.cli._app import App, echo_json, format_option, now_option, pass_app
from gatekeeper.errors import GatekeeperError
from gatekeeper.rbac import load_rbac
from gatekeeper.store.bundle import BundleSummary, export_bundle, import_bundle


@click.group("store")
def command() -> None:
    """Inspect and maintain the incident store.

    Example: gatekeeper store verify
    """


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _echo_mapping(data: dict[str, Any], indent: str = "") -> None:
    for key, value in data.items():
        label = key.replace("_", " ")
        if isinstance(value, dict):
            click.echo(f"{indent}{label}:")
            _echo_mapping(value, indent + "  ")
        else:
            click.echo(f"{indent}{label}: {_scalar(value)}")


@command.command("init")
@now_option
@format_option("text", "json")
@pass_app
def init(app: App, output_format: str) -> None:
    """Mark the JSONL store directory as a store (creating it if needed).

    A directory gatekeeper never wrote is not a store, so the gate refuses to
    read it as "no incidents"; init makes an intentionally empty store. On an
    existing store it records the files as they are now (their new high-water).

    Example: gatekeeper --store-dir ops/incidents store init
    """
    from gatekeeper.store.jsonl import JsonlIncidentStore

    directory = app.settings.store_dir
    new = JsonlIncidentStore(directory).init(app.now)
    if output_format == "json":
        echo_json({"location": str(directory), "created": new})
    else:
        click.echo(f"{'initialised' if new else 're-marked'} store at {directory}")


@command.command("info")
@format_option("text", "json")
@pass_app
def info(app: App, output_format: str) -> None:
    """Show the backend in use, where it is, record counts and, in auto mode,
    whether it is degraded and how many writes await replay into Postgres.

    Example: gatekeeper --backend auto store info --format json
    """
    data = app.store().info()
    if output_format == "json":
        echo_json(data)
    else:
        _echo_mapping(data)


@command.command("verify")
@format_option("text", "json")
@pass_app
def verify(app: App, output_format: str) -> None:
    """List every damaged record in the store; exit 1 if there is any.

    Example: gatekeeper --store-dir ops/incidents store verify
    """
    problems = app.store().verify()
    if output_format == "json":
        listed = [{"path": p.path, "line": p.line, "reason": p.reason} for p in problems]
        echo_json({"ok": not problems, "problems": listed})
    elif problems:
        for problem in problems:
            click.echo(str(problem))
    else:
        click.echo("ok: no damaged records")
    if problems:
        count = len(problems)
        raise GatekeeperError(f"store verify found {count} damaged record{'s' * (count != 1)}")


@command.command("compact")
@format_option("text", "json")
@pass_app
def compact(app: App, output_format: str) -> None:
    """Rewrite the store keeping only the latest version of each incident, atomically.

    Unparsable lines are kept in incidents.jsonl.rejected, never dropped.

    Example: gatekeeper --store-dir ops/incidents store compact
    """
    result = app.store().compact()
    if output_format == "json":
        echo_json({"lines_before": result.lines_before, "lines_after": result.lines_after})
    else:
        click.echo(f"compacted: {result.lines_before} lines -> {result.lines_after}")


@command.command("migrate")
@click.option("--dry-run", is_flag=True, help="Print the DDL that would run; touch nothing.")
@format_option("text", "json")
@pass_app
def migrate(app: App, dry_run: bool, output_format: str) -> None:
    """Create or upgrade the PostgreSQL tables (versioned, idempotent).

    With --dry-run and no database URL, prints every migration's DDL.

    Example: gatekeeper --database-url postgresql://postgres@127.0.0.1:5432/gatekeeper store migrate
    """
    from gatekeeper.store.migrations import migrate_database

    report = migrate_database(app.settings.database_url, dry_run=dry_run)
    if output_format == "json":
        echo_json(report.to_json_dict())
    else:
        click.echo(report.text(), nl=False)


def _echo_summary(verb: str, summary: BundleSummary, output_format: str) -> None:
    if output_format == "json":
        echo_json(summary.to_json_dict())
        return
    click.echo(
        f"{verb} {summary.path}: {summary.incidents} incidents, {summary.events} events, "
        f"{summary.artifacts} artifacts ({summary.files} files)"
        + (f", {summary.gate_overrides} gate overrides" if summary.gate_overrides else "")
    )


@command.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@now_option
@format_option("text", "json")
@pass_app
def export(app: App, file: Path, output_format: str) -> None:
    """Write every incident, event and artifact (with its file) to a portable JSONL bundle.

    Example: gatekeeper --backend postgres store export backup.jsonl
    """
    summary = export_bundle(
        app.store(), file, artifacts_dir=app.settings.artifacts_dir, now=app.now, warn=_warn
    )
    _echo_summary("exported", summary, output_format)


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@format_option("text", "json")
@pass_app
def import_(app: App, file: Path, output_format: str) -> None:
    """Load a bundle made by `store export`: validated first, idempotent, any backend.

    Needs an agent allowed to write incidents.

    Example: gatekeeper --agent sofiia --backend postgres store import backup.jsonl
    """
    load_rbac(app.settings.policy).require(app.settings.agent, "incident_write")
    summary = import_bundle(app.store(), file, artifacts_dir=app.settings.artifacts_dir)
    _echo_summary("imported", summary, output_format)
