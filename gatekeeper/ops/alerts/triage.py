"""Alert triage: each ``new`` alert joins the active incident of its fingerprint or opens one.

Exactly once, even if killed: a batch is planned in memory, the plan is saved
(``alerts.triage.intent.json``, atomic), applied to the store with ``upsert``
(idempotent by id), the alerts are marked processed, then the plan is removed.
A rerun first re-applies a plan left behind, as planned, then goes on. Resolved
and closed incidents are never reopened: only active incidents are joined.
Escalation (an ``escalation`` event, severity one step up, never above the
policy's ceiling) when a fingerprint repeats ``repeat_threshold`` times within
the window, or a P0/P1 alert joins a less severe incident.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.models import SEVERITIES, Event, Incident, new_event_id, new_incident_id
from gatekeeper.ops.alerts.inbox import JsonlInbox
from gatekeeper.ops.alerts.policy import TriagePolicy
from gatekeeper.store import IncidentFilter, IncidentStore, WriteBatch
from gatekeeper.store.fileio import atomic_write
from gatekeeper.timeutil import format_timestamp, parse_timestamp

INTENT = "alerts.triage.intent.json"


@dataclass
class TriageResult:
    processed: int = 0
    created: int = 0
    updated: int = 0
    escalated: int = 0
    dry_run: bool = False
    replayed: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class _Plan:
    new: dict[str, Incident] = field(default_factory=dict)
    updated: dict[str, Incident] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps({
            "new": [i.to_json_dict() for i in self.new.values()],
            "updated": [i.to_json_dict() for i in self.updated.values()],
            "events": [e.to_json_dict() for e in self.events],
            "marks": self.marks,
        }).encode()  # fmt: skip

    @classmethod
    def from_json(cls, data: bytes) -> _Plan:
        raw = json.loads(data)
        plan = cls()
        plan.new = {i["id"]: Incident.model_validate(i) for i in raw["new"]}
        plan.updated = {i["id"]: Incident.model_validate(i) for i in raw["updated"]}
        plan.events = [Event.model_validate(e) for e in raw["events"]]
        plan.marks = raw["marks"]
        return plan

    def batch(self) -> WriteBatch:
        return WriteBatch(
            tuple(self.new.values()), tuple(self.updated.values()), tuple(self.events)
        )


def alert_event_id(alert_id: str) -> str:
    return "evt_" + hashlib.sha256(alert_id.encode()).hexdigest()[:24]


class Triage:
    def __init__(
        self,
        store: IncidentStore,
        inbox: JsonlInbox,
        policy: TriagePolicy,
        *,
        agent: str,
        now: datetime,
    ) -> None:
        self.store, self.inbox, self.policy, self.agent, self.now = store, inbox, policy, agent, now
        self.intent = inbox.directory / INTENT

    def run(self, *, dry_run: bool = False, batch_size: int = 1000) -> TriageResult:
        result = TriageResult(dry_run=dry_run)
        if not dry_run and self.intent.is_file():
            plan = _Plan.from_json(self.intent.read_bytes())
            self._apply(plan)
            result.replayed = len(plan.marks)
        alerts = self.inbox.folded()
        pending = [a for a in alerts.values() if a.get("state") == "new"]
        self.times = _times_by_fingerprint(alerts.values())
        active: dict[str, Incident] = {}
        query = IncidentFilter(status=frozenset({"open", "mitigated"}), limit=None)
        for incident in sorted(self.store.list_incidents(query), key=lambda i: i.started_at):
            if "fingerprint" in incident.labels:
                active[incident.labels["fingerprint"]] = incident
        for start in range(0, len(pending), batch_size):
            plan = self._plan(pending[start : start + batch_size], active, result)
            if not dry_run:
                atomic_write(self.intent, plan.to_json())
                self._apply(plan)
        return result

    def _apply(self, plan: _Plan) -> None:
        self.store.write(plan.batch(), upsert=True)
        state = self.inbox.folded()
        self.inbox.mark(m for m in plan.marks if state.get(m["id"], {}).get("state") != "processed")
        self.intent.unlink(missing_ok=True)

    def _plan(
        self, alerts: list[dict[str, Any]], active: dict[str, Incident], result: TriageResult
    ) -> _Plan:
        plan = _Plan()
        for alert in alerts:
            result.processed += 1
            fp = alert["fingerprint"]
            received = parse_timestamp(alert["received_at"])
            incident = active.get(fp)
            if incident is None and alert["status"] == "resolved":
                plan.marks.append(self._mark(alert, None, "no_incident"))
                continue
            if incident is None:
                incident = self._open(alert, received)
                plan.new[incident.id] = incident
                opened = {"from": None, "to": "open"}
                message = "incident opened from an alert"
                plan.events.append(
                    self._event(incident.id, "status_change", message, received, opened)
                )
                result.created += 1
                outcome = "created"
            else:
                if incident.id not in plan.new and incident.id not in plan.updated:
                    result.updated += 1
                outcome = "joined"
            plan.events.append(self._alert_event(alert, incident.id, received))
            escalated = self._escalate(alert, incident, received, plan)
            if escalated is not None:
                result.escalated += 1
                incident = escalated
                (plan.new if incident.id in plan.new else plan.updated)[incident.id] = incident
            active[fp] = incident
            plan.marks.append(self._mark(alert, incident.id, outcome))
        return plan

    def _open(self, alert: dict[str, Any], received: datetime) -> Incident:
        labels = {
            **alert.get("labels", {}),
            "fingerprint": alert["fingerprint"],
            "source": alert["source"],
        }
        return Incident(
            id=new_incident_id(received), service=alert["service"], env=alert["env"],
            severity=alert["severity"], title=alert["title"], labels=labels, started_at=received,
            created_at=self.now, updated_at=self.now, created_by=self.agent,
        )  # fmt: skip

    def _escalate(
        self, alert: dict[str, Any], incident: Incident, received: datetime, plan: _Plan
    ) -> Incident | None:
        window = timedelta(minutes=self.policy.repeat_window_minutes)
        times = self.times[alert["fingerprint"]]
        count = bisect.bisect_right(times, received) - bisect.bisect_left(times, received - window)
        last = incident.labels.get("escalated_at")
        repeat = count >= self.policy.repeat_threshold and (
            last is None or parse_timestamp(last) <= received - window
        )
        rank = SEVERITIES.index
        paged = alert["severity"] in self.policy.page_severities and rank(alert["severity"]) < rank(
            incident.severity
        )
        if not (repeat or paged):
            return None
        current = rank(incident.severity)
        raised = (
            SEVERITIES[max(current - 1, rank(self.policy.severity_ceiling))]
            if current > rank(self.policy.severity_ceiling)
            else incident.severity
        )
        reason = (
            f"{count} alerts in {self.policy.repeat_window_minutes} min"
            if repeat
            else f"{alert['severity']} alert"
        )
        meta = {"from": incident.severity, "to": raised, "alert_id": alert["id"]}
        plan.events.append(
            self._event(incident.id, "escalation", f"escalated: {reason}", received, meta)
        )
        labels = {**incident.labels, "escalated_at": format_timestamp(received)}
        return incident.model_copy(
            update={"severity": raised, "labels": labels, "updated_at": self.now}
        )

    def _alert_event(self, alert: dict[str, Any], incident_id: str, received: datetime) -> Event:
        meta = {k: alert[k] for k in ("source", "severity", "status", "fingerprint", "labels")}
        return Event(id=alert_event_id(alert["id"]), incident_id=incident_id, ts=received,
                     recorded_at=self.now, type="alert", message=alert["title"],
                     meta={"alert_id": alert["id"], **meta}, actor=self.agent)  # fmt: skip

    def _event(
        self, incident_id: str, type: str, message: str, ts: datetime, meta: dict[str, Any]
    ) -> Event:
        return Event(id=new_event_id(), incident_id=incident_id, ts=ts, recorded_at=self.now,
                     type=type, message=message, meta=meta, actor=self.agent)  # fmt: skip

    def _mark(self, alert: dict[str, Any], incident_id: str | None, outcome: str) -> dict[str, Any]:
        return {"id": alert["id"], "incident_id": incident_id, "outcome": outcome,
                "processed_at": format_timestamp(self.now)}  # fmt: skip


def _times_by_fingerprint(alerts: Any) -> dict[str, list[datetime]]:
    times: dict[str, list[datetime]] = defaultdict(list)
    for alert in alerts:
        if "fingerprint" in alert and "received_at" in alert:
            times[alert["fingerprint"]].append(parse_timestamp(alert["received_at"]))
    for values in times.values():
        values.sort()
    return times


def intent_path(directory: Path) -> Path:
    return directory / INTENT
