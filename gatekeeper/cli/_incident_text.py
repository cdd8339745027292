"""Compact text renderings for ``gatekeeper incident`` (``--format text``).

One line per record, columns aligned, meant for a terminal or a CI log; the
``json`` format carries every field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gatekeeper.incidents import IncidentDetails
from gatekeeper.models import Artifact, Event, FollowUp, Incident
from gatekeeper.summary import FollowupSummary, OverdueFollowup
from gatekeeper.timeutil import format_timestamp


def _ts(value: datetime | None) -> str:
    return format_timestamp(value) if value is not None else "-"


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def incident_line(incident: Incident) -> str:
    """``id  severity  status  service/env  started_at  title``."""
    scope = f"{incident.service}/{incident.env}"
    return (
        f"{incident.id}  {incident.severity}  {incident.status:<9}  {scope:<24}  "
        f"{_ts(incident.started_at)}  {incident.title}"
    )


def incident_table(incidents: Sequence[Incident]) -> str:
    if not incidents:
        return "no incidents"
    header = f"{'ID':<24}  SEV {'STATUS':<9}  {'SERVICE/ENV':<24}  {'STARTED':<20}  TITLE"
    return "\n".join([header, *(incident_line(i) for i in incidents)])


def event_line(event: Event) -> str:
    return f"{_ts(event.ts)}  {event.type:<13}  {event.actor:<10}  {event.message}"


def followup_line(followup: FollowUp, *, with_incident: bool = False) -> str:
    ticket = f"  [{followup.ticket}]" if followup.ticket else ""
    incident = f"  {followup.incident_id}" if with_incident else ""
    return (
        f"{followup.followup_id}{incident}  {followup.priority}  {followup.status:<11}  "
        f"owner {followup.owner:<12}  due {_ts(followup.due)}  {followup.title}{ticket}"
    )


def artifact_line(artifact: Artifact) -> str:
    return (
        f"{artifact.name}  {artifact.size_bytes} bytes  sha256 {artifact.sha256[:12]}  "
        f"{_ts(artifact.created_at)}  by {artifact.created_by}"
    )


def incident_details(details: IncidentDetails) -> str:
    incident = details.incident
    lines = [
        incident_line(incident),
        f"  labels: {_labels(incident.labels)}   created by {incident.created_by}"
        f"   resolved {_ts(incident.resolved_at)}   closed {_ts(incident.closed_at)}",
    ]
    if incident.summary:
        lines.append(f"  summary: {incident.summary}")
    sections: list[tuple[str, list[str]]] = [
        ("events", [event_line(e) for e in details.events]),
        ("follow-ups", [followup_line(f) for f in details.followups]),
        ("artifacts", [artifact_line(a) for a in details.artifacts]),
    ]
    for title, rows in sections:
        lines.append(f"{title} ({len(rows)}):")
        lines.extend(f"  {row}" for row in rows)
    return "\n".join(lines)


def overdue_line(overdue: OverdueFollowup) -> str:
    followup = overdue.followup
    plural = "" if overdue.days_overdue == 1 else "s"
    return (
        f"{followup.followup_id}  {followup.incident_id}  owner {followup.owner:<12}  "
        f"{overdue.days_overdue} day{plural} overdue (due {_ts(followup.due)})  {followup.title}"
    )


def followup_summary(summary: FollowupSummary) -> str:
    counts = ", ".join(f"{sev} {n}" for sev, n in summary.active_by_severity.items())
    lines = [
        f"{summary.service}/{summary.env}: follow-ups over the last {summary.window_days} days "
        f"(at {_ts(summary.evaluated_at)})",
        f"active incidents: {len(summary.active_incidents)} ({counts})",
        *(f"  {incident_line(i)}" for i in summary.active_incidents),
        f"open follow-ups: {len(summary.open_followups)}",
        *(f"  {followup_line(f, with_incident=True)}" for f in summary.open_followups),
        f"overdue follow-ups: {len(summary.overdue_followups)}",
        *(f"  {overdue_line(o)}" for o in summary.overdue_followups),
    ]
    return "\n".join(lines)
