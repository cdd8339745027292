"""Builders for incident data the gate tests read, written straight to a JSONL store.

Ids are deterministic (a counter in the suffix) so golden files stay stable.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.models import Artifact, Event, Incident
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.writes import WriteBatch
from tests.conftest import NOW

_counter = itertools.count()


def _suffix() -> str:
    n = next(_counter)
    return f"t{n:05d}"


def incident(
    *,
    service: str = "checkout",
    env: str = "prod",
    severity: str = "P1",
    status: str = "open",
    started_at: datetime | None = None,
    resolved_at: datetime | None = None,
    title: str = "Checkout 5xx rate above 5%",
    owner: str | None = "alice",
    suffix: str | None = None,
) -> Incident:
    """An incident; resolved/closed ones get ``resolved_at`` a day after they start."""
    started = started_at or NOW - timedelta(days=2)
    if status in ("resolved", "closed") and resolved_at is None:
        resolved_at = started + timedelta(days=1)
    return Incident(
        id=f"inc_{started:%Y%m%d_%H%M}_{suffix or _suffix()}",
        service=service,
        env=env,
        severity=severity,
        status=status,
        title=title,
        labels={"owner": owner} if owner else {},
        started_at=started,
        created_at=started,
        updated_at=resolved_at or started,
        resolved_at=resolved_at,
        closed_at=resolved_at if status == "closed" else None,
        created_by="helion",
    )


def followup(
    of: Incident,
    *,
    followup_id: str = "fu_00000001",
    title: str = "Add a circuit breaker to the payment client",
    owner: str = "bob",
    due: str = "2026-02-20",
    priority: str = "P1",
    status: str = "open",
    ts: datetime | None = None,
) -> Event:
    """A ``followup`` event creating (or, with a later ``ts``, updating) a follow-up."""
    when = ts or of.started_at + timedelta(hours=1)
    meta: dict[str, Any] = {
        "followup_id": followup_id,
        "title": title,
        "owner": owner,
        "due": due,
        "priority": priority,
        "status": status,
    }
    return Event(
        id=f"evt_{next(_counter):016d}",
        incident_id=of.id,
        ts=when,
        recorded_at=when,
        type="followup",
        message=f"follow-up {followup_id}",
        meta=meta,
        actor="helion",
    )


def artifact(of: Incident, name: str = "postmortem.md") -> Artifact:
    return Artifact(
        incident_id=of.id,
        name=name,
        kind=name.rsplit(".", 1)[1],
        size_bytes=10,
        sha256="0" * 64,
        created_at=of.started_at + timedelta(days=3),
        created_by="helion",
    )


def write(
    store_dir: Path,
    incidents: Iterable[Incident] = (),
    events: Iterable[Event] = (),
    artifacts: Iterable[Artifact] = (),
) -> JsonlIncidentStore:
    """Write the records into the JSONL store at ``store_dir`` in one batch."""
    store = JsonlIncidentStore(store_dir)
    store.write(
        WriteBatch(new_incidents=tuple(incidents), events=tuple(events), artifacts=tuple(artifacts))
    )
    return store


def events_of_type(store_dir: Path, kind: str) -> list[Event]:
    return [e for e in JsonlIncidentStore(store_dir).iter_events() if e.type == kind]
