"""Builders for intelligence fixture stores: incidents with timelines, follow-ups, artifacts.

Ids are deterministic (a per-builder counter) so golden files stay stable.
Times are given as offsets in hours from an anchor, so expected values can be
worked out by hand from the test itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.models import Artifact, Event, Incident
from gatekeeper.store.base import IncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.writes import WriteBatch


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class StoreBuilder:
    """Collects records, then writes them in one batch (``build``)."""

    incidents: list[Incident] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    counter: int = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def incident(
        self,
        started: datetime | str,
        *,
        service: str = "checkout",
        env: str = "prod",
        severity: str = "P1",
        title: str = "Checkout 5xx rate above 5%",
        labels: dict[str, str] | None = None,
        ack_after_s: float | None = None,
        mitigate_after_s: float | None = None,
        resolve_after_s: float | None = None,
        close_after_s: float | None = None,
        suffix: str | None = None,
    ) -> Incident:
        """An incident with ``ack``/``status_change`` events at the given offsets."""
        start = at(started) if isinstance(started, str) else started
        steps: list[tuple[float, str]] = []
        if mitigate_after_s is not None:
            steps.append((mitigate_after_s, "mitigated"))
        if resolve_after_s is not None:
            steps.append((resolve_after_s, "resolved"))
        if close_after_s is not None:
            steps.append((close_after_s, "closed"))
        status = steps[-1][1] if steps else "open"
        resolved = start + timedelta(seconds=resolve_after_s) if resolve_after_s else None
        closed = start + timedelta(seconds=close_after_s) if close_after_s else None
        last = start + timedelta(seconds=max([s for s, _ in steps], default=0))
        incident = Incident(
            id=f"inc_{start:%Y%m%d_%H%M}_{suffix or f'f{self._next():05d}'}",
            service=service,
            env=env,
            severity=severity,
            status=status,
            title=title,
            labels=labels or {},
            started_at=start,
            created_at=start,
            updated_at=last,
            resolved_at=resolved,
            closed_at=closed,
            created_by="helion",
        )
        self.incidents.append(incident)
        if ack_after_s is not None:
            self.event(incident, ack_after_s, "ack", "acknowledged")
        previous = "open"
        for offset, to in steps:
            self.status(incident, offset, previous, to)
            previous = to
        return incident

    def event(
        self,
        of: Incident,
        after_s: float,
        type: str,
        message: str = "",
        meta: dict[str, Any] | None = None,
    ) -> Event:
        ts = of.started_at + timedelta(seconds=after_s)
        event = Event(
            id=f"evt_{self._next():016d}",
            incident_id=of.id,
            ts=ts,
            recorded_at=ts,
            type=type,
            message=message,
            meta=meta or {},
            actor="helion",
        )
        self.events.append(event)
        return event

    def status(self, of: Incident, after_s: float, frm: str, to: str) -> Event:
        return self.event(
            of, after_s, "status_change", f"status {frm} -> {to}", {"from": frm, "to": to}
        )

    def followup(
        self,
        of: Incident,
        followup_id: str,
        *,
        after_s: float = 3600,
        title: str = "Add a circuit breaker",
        owner: str = "bob",
        due: str = "2026-02-20",
        priority: str = "P1",
        status: str = "open",
        ticket: str | None = None,
    ) -> Event:
        meta: dict[str, Any] = {
            "followup_id": followup_id,
            "title": title,
            "owner": owner,
            "due": due,
            "priority": priority,
            "status": status,
        }
        if ticket is not None:
            meta["ticket"] = ticket
        return self.event(of, after_s, "followup", f"follow-up {followup_id}", meta)

    def update_followup(
        self, of: Incident, followup_id: str, after_s: float, **fields: Any
    ) -> Event:
        return self.event(
            of, after_s, "followup", "follow-up updated", {"followup_id": followup_id, **fields}
        )

    def artifact(
        self, of: Incident, name: str = "postmortem.md", after_s: float = 3 * 86400
    ) -> Artifact:
        artifact = Artifact(
            incident_id=of.id,
            name=name,
            kind=name.rsplit(".", 1)[1],
            size_bytes=10,
            sha256="0" * 64,
            created_at=of.started_at + timedelta(seconds=after_s),
            created_by="helion",
        )
        self.artifacts.append(artifact)
        return artifact

    def build(self, store_dir: Path) -> JsonlIncidentStore:
        store = JsonlIncidentStore(store_dir)
        self.write_to(store)
        return store

    def write_to(self, store: IncidentStore) -> None:
        store.write(
            WriteBatch(
                new_incidents=tuple(self.incidents),
                events=tuple(self.events),
                artifacts=tuple(self.artifacts),
            )
        )
