"""Break-glass: who may override a block, and the audit trail it leaves.

An override needs an agent whose role has ``gate_override``; anything else is
refused as a configuration error (exit 2) before any gate runs. When it turns a
block into warn, every incident behind a finding of an overridden gate gets one
``gate_override`` event recording the reason, the agent, the gates and the
decision it replaced.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gatekeeper.engine.report import Override, Report
from gatekeeper.errors import ConfigError, Forbidden
from gatekeeper.models import Event, new_event_id
from gatekeeper.rbac import load_rbac
from gatekeeper.store.base import IncidentStore, WriteBatch


def authorize_override(policy_path: Path, agent: str | None, reason: str) -> Override:
    """The override, if ``agent`` may override gates; :class:`ConfigError` otherwise."""
    if not reason.strip():
        raise ConfigError("an override needs a reason", where="--override")
    try:
        load_rbac(policy_path).require(agent, "gate_override")
    except Forbidden as exc:
        raise ConfigError(f"override refused: {exc.message}", where="--override") from exc
    assert agent is not None  # require() refuses a missing agent
    return Override(reason=reason.strip(), agent=agent)


def override_events(report: Report, now: datetime) -> tuple[Event, ...]:
    """One ``gate_override`` event per incident behind an overridden finding."""
    if report.override is None:
        return ()
    override = report.override
    events = []
    for incident_id in override.incidents:
        gates = sorted(
            {
                r.gate
                for r in report.results
                if r.override and any(f.incident_id == incident_id for f in r.findings)
            }
        )
        events.append(
            Event(
                id=new_event_id(),
                incident_id=incident_id,
                ts=now,
                recorded_at=now,
                type="gate_override",
                message=f"release gate overridden in {report.env}: {override.reason}",
                meta={
                    "reason": override.reason,
                    "agent": override.agent,
                    "gates": gates,
                    "replaced_decision": "block",
                    "env": report.env,
                    "services": list(report.services),
                },
                actor=override.agent,
            )
        )
    return tuple(events)


def record_override(store: IncidentStore, report: Report, now: datetime) -> int:
    """Append the override's audit events; returns how many were written."""
    events = override_events(report, now)
    if events:
        store.write(WriteBatch(events=events))
    return len(events)
