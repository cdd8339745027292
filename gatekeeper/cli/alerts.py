"""``gatekeeper alerts``: put alerts in the inbox, and triage them into incidents."""

from __future__ import annotations

import sys

import click

from gatekeeper.cli._app import App, echo_json, format_option, now_option, pass_app
from gatekeeper.cli._ops import agent_option
from gatekeeper.ops.alerts.inbox import JsonlInbox, open_inbox, parse_alerts
from gatekeeper.ops.alerts.policy import load_triage_policy
from gatekeeper.rbac import load_rbac


@click.group("alerts")
def command() -> None:
    """The alert inbox and the triage loop that turns alerts into incidents.

    Example: echo '{"source": "prometheus", "service": "gateway", "env": "prod",
    "severity": "P2", "title": "5xx rate"}' | gatekeeper --agent helion alerts add
    """


@command.command("add")
@click.option("--dry-run", is_flag=True, help="Validate and print; write nothing.")
@agent_option
@now_option
@format_option("text", "json")
@pass_app
def add(app: App, dry_run: bool, output_format: str) -> None:
    """Read one JSON alert, or JSON Lines, from stdin into the inbox (all or nothing).

    Example: gatekeeper --agent helion alerts add < alerts.jsonl
    """
    agent = load_rbac(app.settings.policy).require(app.settings.agent, "incident_write")
    fields = load_triage_policy(app.settings.policy).fingerprint_fields
    records = parse_alerts(sys.stdin.read(), fields=fields, now=app.now, agent=agent)
    if not dry_run:
        open_inbox(app.settings, app.store()).add(records)
    if output_format == "json":
        echo_json({"dry_run": dry_run, "added": len(records), "alerts": records})
    else:
        verb = "would add" if dry_run else "added"
        click.echo(f"{verb} {len(records)} alert{'s' * (len(records) != 1)}")


@command.command("triage")
@click.option("--dry-run", is_flag=True, help="Say what triage would do; write nothing.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@agent_option
@now_option
@format_option("text", "json")
@pass_app
def triage(app: App, dry_run: bool, batch_size: int, output_format: str) -> None:
    """Turn every new alert into an incident event: join, open, escalate (exactly once).

    Example: gatekeeper --agent helion alerts triage --dry-run --format json
    """
    from gatekeeper.ops.alerts.triage import Triage
    from gatekeeper.ops.locks import advisory_lock, file_lock

    agent = load_rbac(app.settings.policy).require(app.settings.agent, "incident_write")
    policy = load_triage_policy(app.settings.policy)
    inbox = open_inbox(app.settings, app.store())
    run = Triage(app.store(), inbox, policy, agent=agent, now=app.now)
    if dry_run:
        result = run.run(dry_run=True, batch_size=batch_size)
    else:
        lock = (
            file_lock(app.settings.store_dir, "alert_triage", app.now)
            if isinstance(inbox, JsonlInbox)
            else advisory_lock(app.settings.database_url, "alert_triage", app.now)
        )
        with lock:
            result = run.run(batch_size=batch_size)
    if output_format == "json":
        echo_json(result.to_json_dict())
    else:
        head = "dry run: would process" if dry_run else "processed"
        click.echo(
            f"{head} {result.processed} alerts: {result.created} incidents created, "
            f"{result.updated} updated, {result.escalated} escalated"
        )
