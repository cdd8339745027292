"""``gatekeeper retention``: remove old closed incidents (CTO only), optionally archived first."""

from __future__ import annotations

from pathlib import Path

import click

from gatekeeper.cli._app import App, echo_json, format_option, now_option, pass_app
from gatekeeper.cli._ops import agent_option
from gatekeeper.ops.retention import apply_retention, require_cto
from gatekeeper.rbac import load_rbac


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@click.command("retention")
@click.option("--closed-older-than", "days", type=int, required=True, metavar="DAYS",
              help="Remove incidents closed more than DAYS days before --now.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@click.option("--archive", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="First write them as a store export bundle.")  # fmt: skip
@agent_option
@now_option
@format_option("text", "json")
@pass_app
def command(app: App, days: int, dry_run: bool, archive: Path | None, output_format: str) -> None:
    """Remove closed incidents older than DAYS with their events, follow-ups and artifacts.

    Never touches active incidents or incidents with open follow-ups. Needs a
    CTO agent. `gatekeeper store import FILE` restores an --archive.

    Example: gatekeeper --agent sofiia retention --closed-older-than 365 --archive old.jsonl
    """
    require_cto(load_rbac(app.settings.policy), app.settings.agent)
    result = apply_retention(app.store(), days=days, now=app.now,
                             artifacts_dir=app.settings.artifacts_dir, dry_run=dry_run,
                             archive=archive, warn=_warn)  # fmt: skip
    if output_format == "json":
        echo_json(result.to_json_dict())
        return
    verb = "would remove" if dry_run else "removed"
    for incident_id in result.removed:
        click.echo(f"{verb} {incident_id}")
    for incident_id in result.kept_open_followups:
        click.echo(f"kept {incident_id}: it has open follow-ups")
    click.echo(f"{verb} {len(result.removed)} incident(s) closed before {result.cutoff:%Y-%m-%d}")
