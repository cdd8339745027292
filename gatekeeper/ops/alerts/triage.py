"""Alert triage: each ``new`` alert joins the active incident of its fingerprint or opens one.

Exactly once, even if killed: a batch is planned in memory, then the inbox
applies it. JSONL saves the plan (``alerts.triage.intent.json``, atomic), applies
it to the store with ``upsert`` (idempotent by id), marks the alerts processed,
then removes the plan; a rerun first re-applies a plan left behind, as planned.
Postgres writes the batch and the marks in one transaction. Resolved
and closed incidents are never reopened: only active incidents are joined.
Escalation (an ``escalation`` event, severity one step up, never above the
policy's ceiling) when a fingerprint repeats ``repeat_threshold`` times within
the window, or a P0/P1 alert joins a less severe incident.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.models import SEVERITIES, Event, Incident, new_event_id, new_incident_id
from gatekeeper.ops.alerts.inbox import Inbox
from gatekeeper.ops.alerts.plan import TriagePlan
from gatekeeper.ops.alerts.policy import TriagePolicy
from gatekeeper.store import IncidentFilter, IncidentStore
from gatekeeper.timeutil import format_timestamp, parse_timestamp


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


def alert_event_id(alert_id: str) -> str:
    return "evt_" + hashlib.sha256(alert_id.encode()).hexdigest()[:24]


class Triage:
    def __init__(
        self,
        store: IncidentStore,
        inbox: Inbox,
        policy: TriagePolicy,
        *,
        agent: str,
        now: datetime,
    ) -> None:
        self.store, self.inbox, self.policy, self.agent, self.now = store, inbox, policy, agent, now
        self.times: dict[str, list[datetime]] = {}

    def run(self, *, dry_run: bool = False, batch_size: int = 1000) -> TriageResult:
        result = TriageResult(dry_run=dry_run)
        if not dry_run:
            result.replayed = self.inbox.recover(self.store)
        state = self.inbox.load()
        self.times = state.times
        active: dict[str, Incident] = {}
        query = IncidentFilter(status=frozenset({"open", "mitigated"}), limit=None)
        for incident in sorted(self.store.list_incidents(query), key=lambda i: i.started_at):
            if "fingerprint" in incident.labels:
                active[incident.labels["fingerprint"]] = incident
        pending = state.pending
        for start in range(0, len(pending), batch_size):
            plan = self._plan(pending[start : start + batch_size], active, result)
            if not dry_run:
                self.inbox.apply(self.store, plan)
        return result

    def _plan(
        self, alerts: list[dict[str, Any]], active: dict[str, Incident], result: TriageResult
    ) -> TriagePlan:
        plan = TriagePlan()
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
        self, alert: dict[str, Any], incident: Incident, received: datetime, plan: TriagePlan
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
