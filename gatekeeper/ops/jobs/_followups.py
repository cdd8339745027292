"""Overdue follow-ups across the whole store, with their incident's service and env."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gatekeeper.followups import fold_followups
from gatekeeper.models import FollowUp, Incident
from gatekeeper.store import IncidentStore


@dataclass(frozen=True)
class OverdueFollowup:
    followup: FollowUp
    incident: Incident


def all_followups(store: IncidentStore) -> tuple[list[FollowUp], dict[str, Incident]]:
    incidents = {i.id: i for i in store.iter_incidents()}
    events = [e for e in store.iter_events() if e.type == "followup"]
    return fold_followups(events), incidents


def overdue_followups(store: IncidentStore, now: datetime) -> list[OverdueFollowup]:
    followups, incidents = all_followups(store)
    return [
        OverdueFollowup(f, incidents[f.incident_id])
        for f in sorted(followups, key=lambda f: (f.due, f.followup_id))
        if f.is_overdue(now) and f.incident_id in incidents
    ]
