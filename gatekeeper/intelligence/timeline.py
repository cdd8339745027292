"""Response times read from an incident's timeline (MTTA, time to mitigate, MTTR).

* acknowledged: the first ``ack`` event;
* mitigated: the first ``status_change`` to ``mitigated`` — or to ``resolved``
  (or ``closed``) when mitigation was skipped;
* resolved: the first ``status_change`` to ``resolved`` or ``closed`` (a
  reopened incident keeps its first resolution).

Durations are measured from ``started_at``; a negative one is a data error,
reported apart and never averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gatekeeper.models import Event, Incident

RESOLVED = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class ResponseTimes:
    incident: Incident
    acked_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None

    def seconds(self, moment: datetime | None) -> float | None:
        return None if moment is None else (moment - self.incident.started_at).total_seconds()


def response_times(incident: Incident, events: Sequence[Event]) -> ResponseTimes:
    ordered = sorted(events, key=lambda e: (e.ts, e.recorded_at, e.id))
    acked = next((e.ts for e in ordered if e.type == "ack"), None)
    changes = [(e.ts, e.meta.get("to")) for e in ordered if e.type == "status_change"]
    mitigated = next((ts for ts, to in changes if to == "mitigated" or to in RESOLVED), None)
    resolved = next((ts for ts, to in changes if to in RESOLVED), None)
    return ResponseTimes(incident, acked, mitigated, resolved)
