"""``followup_watch``: active serious incidents and overdue follow-ups.

Findings, for the service in the environment:

* every *active* incident (``open`` or ``mitigated``) whose severity is listed;
* every *overdue* follow-up — ``open``/``in_progress`` and due before now — whose
  priority is in ``followup_priorities`` (default: all), of the service's
  incidents that started within ``window_days`` or are still active, whatever
  the incident's own status: closing an incident does not excuse its follow-ups.

An incident's owner is its ``owner`` label, when it has one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, get_args

from pydantic import Field

from gatekeeper.followups import days_overdue
from gatekeeper.gates.base import Finding, GateConfig, GateContext, describe_due
from gatekeeper.models import FollowUp, FollowupPriority, Incident, Severity
from gatekeeper.timeutil import format_second

FOLLOWUP_PRIORITIES: tuple[FollowupPriority, ...] = get_args(FollowupPriority)


class FollowupWatchConfig(GateConfig):
    type: Literal["followup_watch"] = "followup_watch"
    severities: tuple[Severity, ...] = ("P0", "P1")
    window_days: int = Field(default=30, ge=1, le=3650)
    followup_priorities: tuple[FollowupPriority, ...] = Field(
        default=FOLLOWUP_PRIORITIES, min_length=1
    )


class FollowupWatch:
    config_model = FollowupWatchConfig

    def lookback(self, config: FollowupWatchConfig) -> timedelta:
        return timedelta(days=config.window_days)

    def evaluate(self, config: FollowupWatchConfig, context: GateContext) -> list[Finding]:
        record = context.store_record()
        since = context.now - timedelta(days=config.window_days)
        in_window = {i.id: i for i in record.incidents if i.active or i.started_at >= since}
        active = [
            active_incident_finding(i)
            for i in sorted(in_window.values(), key=lambda i: (i.severity, i.started_at, i.id))
            if i.active and i.severity in config.severities
        ]
        overdue = [
            overdue_followup_finding(f, in_window[f.incident_id], context)
            for f in sorted(record.followups, key=lambda f: (f.due, f.followup_id))
            if f.incident_id in in_window
            and f.priority in config.followup_priorities
            and f.is_overdue(context.now)
        ]
        return active + overdue


def active_incident_finding(incident: Incident) -> Finding:
    """A finding for an incident that is still open or mitigated."""
    return Finding(
        kind="active_incident",
        incident_id=incident.id,
        severity=incident.severity,
        owner=incident.labels.get("owner"),
        message=(
            f"{incident.severity} incident {incident.id} is {incident.status} since "
            f"{format_second(incident.started_at)}: {incident.title}"
        ),
    )


def overdue_followup_finding(
    followup: FollowUp, incident: Incident, context: GateContext
) -> Finding:
    """A finding for a follow-up that is still open past its due time."""
    days = days_overdue(followup, context.now)
    return Finding(
        kind="overdue_followup",
        incident_id=followup.incident_id,
        followup_id=followup.followup_id,
        severity=incident.severity,
        owner=followup.owner,
        due=followup.due,
        message=(
            f"follow-up {followup.followup_id} ({followup.priority}, {followup.status}) "
            f'"{followup.title}" owned by {followup.owner} was due '
            f"{describe_due(followup.due)}, {days} day{'s' if days != 1 else ''} overdue"
        ),
    )


GATE_TYPE = FollowupWatch()
