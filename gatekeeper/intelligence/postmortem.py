"""Postmortem drafts: what the record knows, laid out as a postmortem, with prompts for the rest.

The sections follow the Google SRE postmortem template: summary, impact,
timeline, detection, resolution, root cause, action items, lessons learned.
What the store holds is filled in — every timeline event to the second (UTC),
time to acknowledge / mitigate / resolve (as the weekly digest measures them,
:mod:`gatekeeper.intelligence.timeline`), the follow-ups as action items, the
incidents :mod:`~gatekeeper.intelligence.correlate` relates to it and the
earlier occurrences of its signature (:mod:`~gatekeeper.intelligence.recurrence`)
with their follow-ups still not done. What only people know is left as prompts.

A draft is a starting point, never the postmortem: saved, it is the artifact
``postmortem_draft.md``, which the ``postmortem_required`` gate does not count.
The draft depends only on the store and ``now`` (its ``generated_at``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.artifacts import artifact_path
from gatekeeper.followups import fold_followups
from gatekeeper.gates.postmortem_required import resolution_time
from gatekeeper.incidents import IncidentService, check_incident_id
from gatekeeper.intelligence.correlate import correlate
from gatekeeper.intelligence.reading import read_window
from gatekeeper.intelligence.recurrence import group_incidents
from gatekeeper.intelligence.settings import CorrelationSettings
from gatekeeper.intelligence.signature import signature
from gatekeeper.intelligence.timeline import response_times
from gatekeeper.models import Artifact, Event, Incident
from gatekeeper.store.base import IncidentStore, Problem, collecting
from gatekeeper.timeutil import format_timestamp

DRAFT_NAME = "postmortem_draft.md"
RECURRENCE_LOOKBACK_DAYS = 90


@dataclass(frozen=True)
class PostmortemDraft:
    data: dict[str, Any]

    @property
    def markdown(self) -> str:
        return str(self.data["markdown"])

    def to_json(self) -> dict[str, Any]:
        return self.data


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def _seconds(start: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else (moment - start).total_seconds()


_FOLLOWUP_FIELDS = ("followup_id", "title", "owner", "priority", "status", "due", "ticket")


def _what(event: Event) -> str:
    """The event's message; for a follow-up, also the fields it sets."""
    if event.type != "followup":
        return event.message
    fields = [f"{k} {event.meta[k]}" for k in _FOLLOWUP_FIELDS if event.meta.get(k) is not None]
    return f"{event.message} ({', '.join(fields)})" if fields else event.message


def _timeline(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [
        {
            "ts": format_timestamp(e.ts),
            "type": e.type,
            "actor": e.actor,
            "message": e.message,
            "what": _what(e),
            "event_id": e.id,
        }
        for e in events
    ]


def _recurrence(store: IncidentStore, incident: Incident, now: datetime) -> dict[str, Any]:
    """The group of incidents sharing its signature, from 90 days before it until ``now``."""
    since = incident.started_at - timedelta(days=RECURRENCE_LOOKBACK_DAYS)
    window = read_window(store, since, service=incident.service, with_active=False)
    members = [i for i in window.incidents() if i.started_at <= now]
    if all(i.id != incident.id for i in members):
        members.append(incident)
    groups = group_incidents(members, window.followups(), min_count=1)
    group = next(g for g in groups if any(i.id == incident.id for i in g.incidents))
    return {
        "signature": signature(incident.service, incident.title),
        "since": format_timestamp(since),
        "count": group.count,
        "recurring": group.recurring,
        "incidents": [
            {
                "incident_id": i.id,
                "env": i.env,
                "severity": i.severity,
                "status": i.status,
                "started_at": format_timestamp(i.started_at),
            }
            for i in group.incidents
            if i.id != incident.id
        ],
        "undone_followups": [u.to_json() for u in group.undone_followups],
        **window.provenance(),
    }


def _action_items(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [
        {
            "followup_id": f.followup_id,
            "title": f.title,
            "owner": f.owner,
            "due": format_timestamp(f.due),
            "priority": f.priority,
            "status": f.status,
            "ticket": f.ticket,
        }
        for f in fold_followups(events)
    ]


def _provenance(*reads: dict[str, Any]) -> dict[str, Any]:
    skipped = sorted({s for r in reads for s in r.get("skipped_records", [])})
    return {"degraded": any(r.get("degraded") for r in reads), "skipped_records": skipped}


def draft_postmortem(
    store: IncidentStore,
    incident_id: str,
    correlation: CorrelationSettings,
    *,
    now: datetime,
) -> PostmortemDraft:
    """The draft of ``incident_id`` as known at ``now``; :class:`NotFound` if no such one."""
    from gatekeeper.intelligence.render_postmortem import render

    noticed: list[Problem] = []  # what the draft's own reads skip travels with it
    with collecting(store, noticed):
        incident = store.get_incident(check_incident_id(incident_id))
        # The draft leaves itself out (its artifact and the events that attached
        # it), so saving it does not change the next draft.
        events = sorted(
            (e for e in store.events(incident.id) if not _attaches_the_draft(e)),
            key=lambda e: (e.ts, e.recorded_at, e.id),
        )
        artifacts = [a for a in store.artifacts(incident.id) if a.name != DRAFT_NAME]
    times = response_times(incident, events)
    ack = next((e for e in events if e.type == "ack"), None)
    ended = times.resolved_at or resolution_time(incident)
    end = now if ended is None else ended
    related = correlate(store, incident.id, correlation, now=now).to_json()
    recurrence = _recurrence(store, incident, now)
    start = incident.started_at
    data: dict[str, Any] = {
        "incident_id": incident.id,
        "generated_at": format_timestamp(now),
        "name": DRAFT_NAME,
        "incident": incident.to_json_dict(),
        "impact": {
            "severity": incident.severity,
            "service": incident.service,
            "env": incident.env,
            "labels": dict(sorted(incident.labels.items())),
            "started_at": format_timestamp(start),
            "ended_at": _ts(ended),
            "ongoing": ended is None,
            "duration_s": (end - start).total_seconds(),
        },
        "timeline": _timeline(events),
        "detection": {
            "acked_at": _ts(times.acked_at),
            "acked_by": ack.actor if ack is not None else None,
            "time_to_ack_s": _seconds(start, times.acked_at),
        },
        "resolution": {
            "mitigated_at": _ts(times.mitigated_at),
            "time_to_mitigate_s": _seconds(start, times.mitigated_at),
            "resolved_at": _ts(times.resolved_at),
            "time_to_resolve_s": _seconds(start, times.resolved_at),
        },
        "correlated": related["related"],
        "correlation_window_days": related["window_days"],
        "recurrence": {k: v for k, v in recurrence.items() if k not in _PROVENANCE},
        "action_items": _action_items(events),
        "artifacts": sorted(a.name for a in artifacts),
        **_provenance(related, recurrence, {"skipped_records": [str(p) for p in noticed]}),
    }
    data["markdown"] = render(data)
    return PostmortemDraft(data)


_PROVENANCE = ("degraded", "skipped_records")


def _attaches_the_draft(event: Event) -> bool:
    return event.type == "artifact" and event.meta.get("name") == DRAFT_NAME


def save_draft(
    service: IncidentService, draft: PostmortemDraft, *, now: datetime
) -> tuple[Artifact, bool]:
    """Attach the draft as ``postmortem_draft.md`` (an agent that may write incidents).

    Returns the artifact and whether it was written: a draft identical to the one
    already attached (same bytes) is not written again, so saving twice adds no
    second ``artifact`` event. A different draft replaces it, with its own event.
    """
    incident_id = str(draft.data["incident_id"])
    content = draft.markdown.encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    for artifact in reversed(service.store.artifacts(incident_id)):
        if artifact.name == DRAFT_NAME:
            if artifact.sha256 == digest and _holds(
                artifact_path(service.artifacts_dir, incident_id, DRAFT_NAME), content
            ):
                return artifact, False
            break
    return service.attach_artifact(incident_id, DRAFT_NAME, content, now=now), True


def _holds(path: Path, content: bytes) -> bool:
    """Whether the published file still holds ``content`` (not removed or edited by hand)."""
    try:
        return path.read_bytes() == content
    except OSError:
        return False


def run(
    service: IncidentService,
    incident_id: str,
    correlation: CorrelationSettings,
    *,
    now: datetime,
    save: bool = False,
) -> dict[str, Any]:
    """What ``gatekeeper postmortem`` and ``postmortem_draft`` answer; saved if asked.

    With ``save``, the agent's permission to write is checked before anything is read.
    """
    if save:
        service.rbac.require(service.agent, "incident_write")
    draft = draft_postmortem(service.store, incident_id, correlation, now=now)
    data = dict(draft.to_json())
    if save:
        artifact, written = save_draft(service, draft, now=now)
        data["saved"] = {**artifact.to_json_dict(), "unchanged": not written}
    return data
