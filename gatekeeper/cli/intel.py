"""``digest weekly``, ``correlate``, ``recurrence``, ``risk``, ``postmortem``: intelligence.

Each parses its options, calls one function of :mod:`gatekeeper.intelligence`
and renders the result (``--format text|json``; the digest also ``markdown``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from gatekeeper.cli._app import App, echo_json, format_option, now_option, pass_app
from gatekeeper.errors import ConfigError, InvalidInput
from gatekeeper.intelligence import correlate as correlate_module
from gatekeeper.intelligence import digest as digest_module
from gatekeeper.intelligence import postmortem as postmortem_module
from gatekeeper.intelligence.policy_settings import correlation_settings, risk_settings
from gatekeeper.intelligence.recurrence import DEFAULT_WINDOW_DAYS, find_recurrence
from gatekeeper.intelligence.risk import compute_risk, render_text
from gatekeeper.intelligence.weeks import IsoWeek, last_complete_week, parse_week
from gatekeeper.rbac import load_rbac


@click.group("digest")
def digest() -> None:
    """Incident digests.

    Example: gatekeeper digest weekly --week 2026-W09 --format json
    """


@digest.command("weekly")
@click.option("--week", metavar="YYYY-Www", help="ISO week [default: the last complete week].")
@click.option("--save", is_flag=True, help="Write WEEK.json and WEEK.md (CTO/on-call agent).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=digest_module.DIGEST_DIR,
    show_default=True,
    help="Directory --save writes into.",
)
@format_option("text", "json", "markdown")
@now_option
@pass_app
def weekly(app: App, week: str | None, save: bool, out: Path, output_format: str) -> None:
    """The weekly incident digest: opened/resolved, MTTA/MTTR, backlog, recurrence.

    Example: gatekeeper --agent helion digest weekly --week 2026-W09 --save
    """
    if save:
        load_rbac(app.settings.policy).require(app.settings.agent, "digest_write")
    chosen = _week(week) if week else last_complete_week(app.now)
    result = digest_module.weekly_digest(app.store(), chosen, now=app.now)
    data = result.to_json()
    if save:
        paths = digest_module.save_digest(result, out)
        for path in paths:
            click.echo(f"wrote {path}", err=True)
        data = {**data, "saved": [str(p) for p in paths]}  # as the tool answers
    if output_format == "json":
        echo_json(data)
    else:
        click.echo(digest_module.render_markdown(result), nl=False)


def _week(text: str) -> IsoWeek:
    try:
        return parse_week(text, field="--week")
    except InvalidInput as exc:  # a bad option value is a usage error (exit 2)
        raise ConfigError(exc.message, where=exc.where) from None


@click.command("recurrence")
@click.option(
    "--window-days", type=click.IntRange(1, 3650), default=DEFAULT_WINDOW_DAYS, show_default=True
)
@click.option("--service", help="Only this service.")
@format_option("text", "json")
@now_option
@pass_app
def recurrence(app: App, window_days: int, service: str | None, output_format: str) -> None:
    """Incidents grouped by signature; 3+ flagged recurring, with undone follow-ups.

    Example: gatekeeper recurrence --window-days 30 --service checkout --format json
    """
    report = find_recurrence(app.store(), now=app.now, window_days=window_days, service=service)
    if output_format == "json":
        echo_json(report.to_json())
        return
    click.echo(f"recurrence over {window_days} days: {len(report.groups)} group(s)")
    for group in report.groups:
        flag = "RECURRING" if group.recurring else "repeated"
        click.echo(f"  {group.count:3d} {flag:<9} {group.frequency:<10} {group.signature}")
        for undone in group.undone_followups:
            f = undone.followup
            click.echo(
                f"        not done: {f.followup_id} {f.title!r} ({f.owner}, {f.status}) "
                f"when {undone.came_back_in} started"
            )


@click.command("risk")
@click.option("--service", help="Only this service.")
@click.option("--env", help="Only this environment.")
@format_option("text", "json", "markdown")
@now_option
@pass_app
def risk(app: App, service: str | None, env: str | None, output_format: str) -> None:
    """Risk 0-100 per service and environment, with the parts that make it.

    Example: gatekeeper risk --service checkout --env prod --format json
    """
    from gatekeeper.intelligence.risk import render_markdown

    report = compute_risk(
        app.store(), risk_settings(app.settings.policy), now=app.now, service=service, env=env
    )
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    elif output_format == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(render_text(report), nl=False)


@click.command("correlate")
@click.argument("incident_id")
@click.option(
    "--append-note", is_flag=True, help="Record the result as a correlation event (writer)."
)
@click.option(
    "--window-days",
    type=click.IntRange(1, correlate_module.MAX_WINDOW_DAYS),
    help="Candidates started this many days around it [default: the policy's, 7].",
)
@click.option(
    "--limit",
    type=click.IntRange(1, correlate_module.MAX_LIMIT),
    help="At most this many related incidents [default: the policy's, 10].",
)
@format_option("text", "json")
@now_option
@pass_app
def correlate(
    app: App,
    incident_id: str,
    append_note: bool,
    window_days: int | None,
    limit: int | None,
    output_format: str,
) -> None:
    """Incidents related to INCIDENT_ID, each with a 0-1 score and its reasons.

    Example: gatekeeper --agent helion correlate inc_20260218_1430_abc123 --append-note
    """
    data = correlate_module.run(
        app.incidents(),
        incident_id,
        correlation_settings(app.settings.policy),
        now=app.now,
        window_days=window_days,
        limit=limit,
        note=append_note,
    )
    if output_format == "json":
        echo_json(data)
    else:
        click.echo(correlate_module.render_text(data), nl=False)


@click.command("postmortem")
@click.argument("incident_id")
@click.option("--save", is_flag=True, help="Attach it as postmortem_draft.md (writer).")
@format_option("text", "json")
@now_option
@pass_app
def postmortem(app: App, incident_id: str, save: bool, output_format: str) -> None:
    """A Markdown postmortem draft of INCIDENT_ID: the record filled in, prompts for the rest.

    The saved draft never satisfies the postmortem_required gate: review it and
    attach the result as postmortem.md.

    Example: gatekeeper --agent helion postmortem inc_20260218_1430_abc123 --save
    """
    data = postmortem_module.run(
        app.incidents(),
        incident_id,
        correlation_settings(app.settings.policy),
        now=app.now,
        save=save,
    )
    if save:
        name, incident_id = postmortem_module.DRAFT_NAME, data["incident_id"]
        if data["saved"]["unchanged"]:
            click.echo(f"{name} of {incident_id} is unchanged: not saved again", err=True)
        else:
            click.echo(f"attached {name} to {incident_id}", err=True)
    if output_format == "json":
        echo_json(data)
    else:
        click.echo(data["markdown"], nl=False)
