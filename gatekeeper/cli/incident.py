"""``gatekeeper incident``: create, read and update incidents, events, artifacts, follow-ups.

Each command parses its options, calls one method of the permission-checked
:class:`~gatekeeper.incidents.IncidentService` (or the follow-up summary) and
renders the result; option syntax errors are :class:`InvalidInput` naming the option.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from gatekeeper.cli import _incident_text as text
from gatekeeper.cli._app import App, echo_json, format_option, now_option, pass_app
from gatekeeper.errors import InvalidInput, NotFound
from gatekeeper.inputs import (
    FollowupChanges,
    IncidentChanges,
    IncidentQuery,
    NewEvent,
    NewFollowup,
    NewIncident,
    SummaryQuery,
    load_json,
    parse_input,
)
from gatekeeper.models import FOLLOWUP_PRIORITIES, FOLLOWUP_STATUSES, INCIDENT_STATUSES, SEVERITIES
from gatekeeper.summary import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, followup_summary
from gatekeeper.timeutil import parse_due, parse_timestamp

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
STATUSES = INCIDENT_STATUSES
output_format = format_option("text", "json")


@click.group("incident")
def command() -> None:
    """Create, read and update incidents, events, artifacts and follow-ups.

    Example: gatekeeper incident list --service checkout --status open
    """


# -- option parsing ------------------------------------------------------------------


def _parsed(parse: Callable[..., T], value: str | None, option: str) -> T | None:
    """Run a library parser on an option value; its error names the option."""
    if value is None:
        return None
    try:
        return parse(value, field=option)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.removeprefix(f"{option}: "), where=option) from None


def _choice(*decls: str, choices: Sequence[str], **attrs: Any) -> Callable[[F], F]:
    """An option whose value is one of ``choices``, taken as plain text.

    ``--help`` lists the choices and shell completion offers them, but the typed
    input checks the value, so a wrong one is invalid input (exit 1) worded as
    the tool words it, not a click usage error.
    """

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        return [CompletionItem(c) for c in choices if c.startswith(incomplete)]

    metavar = "[" + "|".join(choices) + "]"
    return click.option(*decls, metavar=metavar, shell_complete=complete, **attrs)


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` options into a dict (a later key wins)."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"expected KEY=VALUE, got {value!r}", where=option)
        pairs[key.strip()] = item
    return pairs


def _label_changes(values: Sequence[str]) -> dict[str, str | None]:
    """``--label KEY=VALUE`` sets a label, ``--label KEY=`` removes it (``None``)."""
    return {k: (v if v != "" else None) for k, v in _pairs(values, "--label").items()}


def _json_object(value: str, option: str) -> dict[str, Any]:
    try:
        data = load_json(value, field=option)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.removeprefix(f"{option}: "), where=option) from None
    if not isinstance(data, dict):
        raise InvalidInput("expected a JSON object", where=option)
    return data


def _given(**values: Any) -> dict[str, Any]:
    """Only the options the user gave (``None`` and empty repeats mean "not given")."""
    return {k: v for k, v in values.items() if v is not None and v != ()}


def _emit(output_format: str, data: Any, render: Callable[[], str]) -> None:
    if output_format == "json":
        echo_json(data)
    else:
        click.echo(render())


# -- incidents -----------------------------------------------------------------------


@command.command("create")
@click.option("--service", required=True, help="Service name, e.g. checkout.")
@click.option("--env", required=True, help="Environment, e.g. prod.")
@_choice("--severity", choices=SEVERITIES, required=True, help="P0 … P4.")
@click.option("--title", required=True, help="1-200 characters.")
@click.option("--started-at", metavar="TIMESTAMP", help="UTC ISO-8601 [default: now].")
@click.option("--summary", help="Free-text summary.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@output_format
@now_option
@pass_app
def create(
    app: App,
    service: str,
    env: str,
    severity: str,
    title: str,
    started_at: str | None,
    summary: str | None,
    labels: tuple[str, ...],
    output_format: str,
) -> None:
    """Open an incident (needs a CTO or on-call agent).

    Example: gatekeeper --agent helion incident create --service checkout --env prod
    --severity P1 --title "5xx on /pay" --label region=eu
    """
    params = _given(
        service=service,
        env=env,
        severity=severity,
        title=title,
        started_at=_parsed(parse_timestamp, started_at, "--started-at"),
        summary=summary,
        labels=_pairs(labels, "--label") or None,
    )
    incident = app.incidents().create(parse_input(NewIncident, params), now=app.now)
    _emit(output_format, incident.to_json_dict(), lambda: text.incident_line(incident))


@command.command("get")
@click.argument("incident_id")
@output_format
@pass_app
def get(app: App, incident_id: str, output_format: str) -> None:
    """Show an incident with its timeline, follow-ups and artifacts.

    Example: gatekeeper incident get inc_20260223_1000_abc123 --format json
    """
    details = app.incidents().get(incident_id)
    _emit(output_format, details.to_json_dict(), lambda: text.incident_details(details))


@command.command("list")
@_choice("--status", choices=STATUSES, multiple=True, help="Repeatable.")
@click.option("--service", help="Only this service.")
@click.option("--env", help="Only this environment.")
@_choice("--severity", choices=SEVERITIES, multiple=True, help="Repeatable.")
@click.option("--since", metavar="TIMESTAMP", help="Started at or after (UTC).")
@click.option("--until", metavar="TIMESTAMP", help="Started before (UTC).")
@click.option("--limit", type=int, default=20, show_default=True, help="1-1000.")
@click.option(
    "--stale-days",
    type=click.IntRange(min=1),
    help="Only active incidents with no event for this many days (the daily stale review).",
)
@output_format
@now_option
@pass_app
def list_command(
    app: App,
    /,
    status: tuple[str, ...],
    severity: tuple[str, ...],
    since: str | None,
    until: str | None,
    limit: int,
    stale_days: int | None,
    output_format: str,
    **options: str | None,
) -> None:
    """List incidents, newest first.

    Example: gatekeeper incident list --env prod --status open --status mitigated --limit 50
    """
    given = parse_input(
        IncidentQuery,
        _given(
            status=list(status) or None,
            service=options["service"],
            env=options["env"],
            severity=list(severity) or None,
            since=_parsed(parse_timestamp, since, "--since"),
            until=_parsed(parse_timestamp, until, "--until"),
            limit=limit,
        ),
    )
    query = given.to_filter()
    service = app.incidents()
    if stale_days is None:
        incidents = service.list_incidents(query)
    else:
        incidents = service.stale(query, stale_days=stale_days, now=app.now)
    data = [i.to_json_dict() for i in incidents]
    _emit(output_format, data, lambda: text.incident_table(incidents))


@command.command("update")
@click.argument("incident_id")
@_choice("--status", choices=STATUSES, help="New status (recorded as an event).")
@_choice("--severity", choices=SEVERITIES, help="New severity.")
@click.option("--title", help="New title.")
@click.option("--summary", help="New summary.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="Repeatable; sets KEY (KEY= removes it); other labels are kept.",
)
@click.option(
    "--replace-labels",
    is_flag=True,
    help="The --label values given replace all labels (none given: remove every label).",
)
@output_format
@now_option
@pass_app
def update(
    app: App,
    /,
    incident_id: str,
    labels: tuple[str, ...],
    replace_labels: bool,
    output_format: str,
    **options: str | None,
) -> None:
    """Change an incident's status, severity, title, summary or labels.

    Labels merge: --label KEY=VALUE sets one, --label KEY= removes one, the others
    stay; --replace-labels makes the labels given the only ones.

    Example: gatekeeper --agent helion incident update inc_20260223_1000_abc123 --status resolved
    """
    changes = _given(**options, labels=_label_changes(labels) or None)
    if replace_labels:
        changes["labels"] = {k: v for k, v in changes.get("labels", {}).items() if v is not None}
        changes["replace_labels"] = True
    if not changes:
        raise InvalidInput(
            "nothing to update: give --status, --severity, --title, --summary, --label "
            "or --replace-labels"
        )
    typed = parse_input(IncidentChanges, changes)
    incident = app.incidents().update(incident_id, typed, now=app.now)
    _emit(output_format, incident.to_json_dict(), lambda: text.incident_line(incident))


@command.command("event")
@click.argument("incident_id")
@click.option("--type", "event_type", required=True, help="note, ack, escalation, …")
@click.option("--message", required=True, help="What happened.")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Repeatable string fields.")
@click.option("--meta-json", metavar="JSON", help="Meta as a JSON object (not with --meta).")
@click.option("--ts", metavar="TIMESTAMP", help="When it happened, UTC [default: now].")
@output_format
@now_option
@pass_app
def event(
    app: App,
    incident_id: str,
    event_type: str,
    message: str,
    meta: tuple[str, ...],
    meta_json: str | None,
    ts: str | None,
    output_format: str,
) -> None:
    """Append an event to an incident's timeline.

    Example: gatekeeper --agent helion incident event inc_20260223_1000_abc123 --type ack
    --message "paged and looking" --meta pager=PD-123
    """
    if meta and meta_json is not None:
        raise InvalidInput("give either --meta or --meta-json, not both", where="--meta-json")
    fields = (
        _json_object(meta_json, "--meta-json") if meta_json is not None else _pairs(meta, "--meta")
    )
    new = parse_input(
        NewEvent,
        _given(
            type=event_type,
            message=message,
            meta=fields,
            ts=_parsed(parse_timestamp, ts, "--ts"),
        ),
    )
    recorded = app.incidents().append_event(incident_id, new, now=app.now)
    _emit(output_format, recorded.to_json_dict(), lambda: text.event_line(recorded))


@command.command("artifact")
@click.argument("incident_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", help="Artifact name (.md, .json or .txt) [default: the file's name].")
@output_format
@now_option
@pass_app
def artifact(app: App, incident_id: str, file: Path, name: str | None, output_format: str) -> None:
    """Attach a file (at most 2 MiB of UTF-8 text or JSON) to an incident.

    Example: gatekeeper --agent helion incident artifact inc_20260223_1000_abc123 ./postmortem.md
    """
    try:
        content = file.read_bytes()
    except FileNotFoundError:
        raise NotFound("no such file", where=str(file)) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read: {exc.strerror}", where=str(file)) from None
    stored = app.incidents().attach_artifact(incident_id, name or file.name, content, now=app.now)
    _emit(output_format, stored.to_json_dict(), lambda: text.artifact_line(stored))


# -- follow-ups ----------------------------------------------------------------------


@command.group("followup")
def followup() -> None:
    """Add and update an incident's follow-ups (action items).

    Example: gatekeeper --agent helion incident followup add inc_20260223_1000_abc123
    --title "Alert on 5xx ratio" --owner ana --priority P1
    """


@followup.command("add")
@click.argument("incident_id")
@click.option("--title", required=True, help="What needs doing.")
@click.option("--owner", required=True, help="Who does it.")
@click.option("--due", metavar="DATE|TIMESTAMP", help="[default: now + the priority's SLA]")
@_choice("--priority", choices=FOLLOWUP_PRIORITIES, help="[default: P2]")
@click.option("--ticket", help="External issue reference, e.g. OPS-123.")
@output_format
@now_option
@pass_app
def followup_add(
    app: App, /, incident_id: str, due: str | None, output_format: str, **options: str | None
) -> None:
    """Add a follow-up to an incident; due defaults to now + the policy's SLA for its priority.

    Example: gatekeeper --agent helion incident followup add inc_20260223_1000_abc123
    --title "Alert on 5xx ratio" --owner ana --priority P1 --due 2026-03-01
    """
    params = _given(**options, due=_parsed(parse_due, due, "--due"))
    new = parse_input(NewFollowup, params)
    added = app.incidents().add_followup(incident_id, new, now=app.now)
    _emit(output_format, added.to_json_dict(), lambda: text.followup_line(added))


@followup.command("update")
@click.argument("incident_id")
@click.argument("followup_id")
@_choice("--status", choices=FOLLOWUP_STATUSES, help="done stamps completed_at.")
@click.option("--due", metavar="DATE|TIMESTAMP", help="New due date or time (UTC).")
@click.option("--owner", help="New owner.")
@click.option("--title", help="New title.")
@_choice("--priority", choices=FOLLOWUP_PRIORITIES, help="New priority.")
@click.option("--ticket", help="External issue reference.")
@output_format
@now_option
@pass_app
def followup_update(
    app: App,
    /,
    incident_id: str,
    followup_id: str,
    due: str | None,
    output_format: str,
    **options: str | None,
) -> None:
    """Change a follow-up's status, due, owner, title, priority or ticket.

    Example: gatekeeper --agent helion incident followup update inc_20260223_1000_abc123
    fu_k3j9x2ab --status done
    """
    params = _given(**options, due=_parsed(parse_due, due, "--due"))
    if not params:
        raise InvalidInput(
            "nothing to update: give --status, --due, --owner, --title, --priority or --ticket"
        )
    changes = parse_input(FollowupChanges, params)
    changed = app.incidents().update_followup(incident_id, followup_id, changes, now=app.now)
    _emit(output_format, changed.to_json_dict(), lambda: text.followup_line(changed))


@command.command("followups")
@click.option("--service", required=True, help="Service name.")
@click.option("--env", required=True, help="Environment.")
@click.option(
    "--window-days",
    type=int,
    default=DEFAULT_WINDOW_DAYS,
    show_default=True,
    help=f"Incidents started this many days back, 1-{MAX_WINDOW_DAYS} (active ones count "
    "whatever their age).",
)
@output_format
@now_option
@pass_app
def followups(app: App, service: str, env: str, window_days: int, output_format: str) -> None:
    """Summarise a service's follow-ups: active incidents, open and overdue follow-ups.

    Example: gatekeeper incident followups --service checkout --env prod --window-days 30
    """
    query = parse_input(SummaryQuery, {"service": service, "env": env, "window_days": window_days})
    summary = followup_summary(
        app.store(),
        service=query.service,
        env=query.env,
        window_days=query.window_days,
        now=app.now,
    )
    _emit(output_format, summary.to_json_dict(), lambda: text.followup_summary(summary))
