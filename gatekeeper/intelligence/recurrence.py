"""Recurrence: incidents grouped by signature (service + normalised title) over a window.

Groups of two or more are listed, three or more (``recurring_count``) flagged
recurring. Each group lists the earlier incidents' follow-ups that were still
not done when a later incident of the group started: it came back and the fix
was never done. A group is ``frequent`` when it holds at least 20% of its
service's incidents in the window, ``rare`` at 5% or less (as PagerDuty labels
them), ``occasional`` in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.errors import InvalidInput
from gatekeeper.intelligence.reading import read_window
from gatekeeper.intelligence.signature import signature
from gatekeeper.models import SEVERITIES, FollowUp, Incident
from gatekeeper.store.base import IncidentStore
from gatekeeper.timeutil import format_timestamp

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 3650
RECURRING_COUNT = 3
FREQUENT_SHARE = 0.20
RARE_SHARE = 0.05


@dataclass(frozen=True)
class UndoneFollowup:
    """A follow-up of an earlier incident still not done when the problem came back."""

    followup: FollowUp
    came_back_in: str

    def to_json(self) -> dict[str, Any]:
        f = self.followup
        return {
            "followup_id": f.followup_id,
            "incident_id": f.incident_id,
            "title": f.title,
            "owner": f.owner,
            "priority": f.priority,
            "status": f.status,
            "due": format_timestamp(f.due),
            "came_back_in": self.came_back_in,
        }


@dataclass(frozen=True)
class RecurrenceGroup:
    signature: str
    service: str
    incidents: tuple[Incident, ...]
    undone_followups: tuple[UndoneFollowup, ...]
    share: float
    recurring_count: int = RECURRING_COUNT

    @property
    def count(self) -> int:
        return len(self.incidents)

    @property
    def recurring(self) -> bool:
        return self.count >= self.recurring_count

    @property
    def frequency(self) -> str:
        if self.share >= FREQUENT_SHARE:
            return "frequent"
        return "rare" if self.share <= RARE_SHARE else "occasional"

    def to_json(self) -> dict[str, Any]:
        severities = {s: 0 for s in SEVERITIES}
        for incident in self.incidents:
            severities[incident.severity] += 1
        return {
            "signature": self.signature,
            "service": self.service,
            "count": self.count,
            "recurring": self.recurring,
            "frequency": self.frequency,
            "share": round(self.share, 4),
            "first_seen": format_timestamp(self.incidents[0].started_at),
            "last_seen": format_timestamp(self.incidents[-1].started_at),
            "severities": {s: n for s, n in severities.items() if n},
            "incidents": [i.id for i in self.incidents],
            "undone_followups": [u.to_json() for u in self.undone_followups],
        }


@dataclass(frozen=True)
class RecurrenceReport:
    generated_at: datetime
    window_days: int
    since: datetime
    service: str | None
    groups: tuple[RecurrenceGroup, ...]
    provenance: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": format_timestamp(self.generated_at),
            "window_days": self.window_days,
            "since": format_timestamp(self.since),
            "service": self.service,
            "groups": [g.to_json() for g in self.groups],
            **self.provenance,
        }


def group_incidents(
    incidents: Sequence[Incident],
    followups: Sequence[FollowUp],
    *,
    recurring_count: int = RECURRING_COUNT,
    min_count: int = 2,
) -> list[RecurrenceGroup]:
    """Groups of at least ``min_count`` incidents sharing a signature, biggest first."""
    by_signature: dict[str, list[Incident]] = {}
    per_service: dict[str, int] = {}
    of_incident = followups_by_incident(followups)
    for incident in sorted(incidents, key=lambda i: (i.started_at, i.id)):
        by_signature.setdefault(signature(incident.service, incident.title), []).append(incident)
        per_service[incident.service] = per_service.get(incident.service, 0) + 1
    groups = [
        RecurrenceGroup(
            signature=sig,
            service=members[0].service,
            incidents=tuple(members),
            undone_followups=undone_followups(members, of_incident),
            share=len(members) / per_service[members[0].service],
            recurring_count=recurring_count,
        )
        for sig, members in by_signature.items()
        if len(members) >= min_count
    ]
    return sorted(groups, key=lambda g: (-g.count, g.signature))


def followups_by_incident(followups: Sequence[FollowUp]) -> dict[str, list[FollowUp]]:
    of_incident: dict[str, list[FollowUp]] = {}
    for followup in followups:
        of_incident.setdefault(followup.incident_id, []).append(followup)
    return of_incident


def undone_followups(
    members: Sequence[Incident], of_incident: Mapping[str, Sequence[FollowUp]]
) -> tuple[UndoneFollowup, ...]:
    """Follow-ups of earlier members still not done when a later member started."""
    found: dict[str, UndoneFollowup] = {}
    for index, later in enumerate(members):
        for earlier in members[:index]:
            for f in of_incident.get(earlier.id, []):
                existed = f.created_at < later.started_at
                done = f.completed_at is not None and f.completed_at <= later.started_at
                if existed and not done and f.followup_id not in found:
                    found[f.followup_id] = UndoneFollowup(f, came_back_in=later.id)
    return tuple(found.values())


def find_recurrence(
    store: IncidentStore,
    *,
    now: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
    service: str | None = None,
    recurring_count: int = RECURRING_COUNT,
) -> RecurrenceReport:
    """Recurring signatures among incidents started in the ``window_days`` before ``now``."""
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(f"must be between 1 and {MAX_WINDOW_DAYS}", where="window_days")
    since = now - timedelta(days=window_days)
    window = read_window(store, since, service=service, with_active=False)
    incidents = [i for i in window.incidents() if i.started_at <= now]
    groups = group_incidents(incidents, window.followups(), recurring_count=recurring_count)
    return RecurrenceReport(
        generated_at=now,
        window_days=window_days,
        since=since,
        service=service,
        groups=tuple(groups),
        provenance=window.provenance(),
    )
