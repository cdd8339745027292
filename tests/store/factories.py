"""Records for store tests: valid by default, every field overridable."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from gatekeeper.models import Artifact, Event, Incident

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
_serial = itertools.count(1)


def incident(*, started_at: datetime = T0, **fields: Any) -> Incident:
    """A P1 ``checkout``/``prod`` incident, open, with a fresh id."""
    n = next(_serial)
    values: dict[str, Any] = {
        "id": f"inc_{started_at:%Y%m%d_%H%M}_{n:06d}",
        "service": "checkout",
        "env": "prod",
        "severity": "P1",
        "status": "open",
        "title": f"Checkout errors #{n}",
        "started_at": started_at,
        "created_at": started_at,
        "updated_at": started_at,
        "created_by": "helion",
    }
    values.update(fields)
    return Incident(**values)


def changed(
    record: Incident, *, after: timedelta = timedelta(minutes=1), **fields: Any
) -> Incident:
    """A later version of ``record``: ``fields`` changed, ``updated_at`` moved on."""
    return record.model_copy(update={"updated_at": record.updated_at + after, **fields})


def event(of: Incident, *, ts: datetime | None = None, **fields: Any) -> Event:
    n = next(_serial)
    when = ts or of.started_at + timedelta(minutes=n % 50)
    values: dict[str, Any] = {
        "id": f"evt_{n:016x}",
        "incident_id": of.id,
        "ts": when,
        "recorded_at": when,
        "type": "note",
        "message": f"note {n}",
        "actor": "helion",
    }
    values.update(fields)
    return Event(**values)


def followup(of: Incident, followup_id: str, *, ts: datetime | None = None, **meta: Any) -> Event:
    return event(of, ts=ts, type="followup", meta={"followup_id": followup_id, **meta})


def artifact(
    of: Incident, name: str = "postmortem.md", content: bytes = b"# Postmortem\n", **fields: Any
) -> Artifact:
    values: dict[str, Any] = {
        "incident_id": of.id,
        "name": name,
        "kind": name.rsplit(".", 1)[1],
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "created_at": of.started_at + timedelta(hours=1),
        "created_by": "helion",
    }
    values.update(fields)
    return Artifact(**values)
