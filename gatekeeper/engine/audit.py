"""The audit trail of break-glass: every softened run leaves a trace in the store.

A run softened by ``--override`` (block → warn) or by ``--no-strict`` on a strict
environment appends one ``gate_override`` event to every incident behind a
finding it softened (:func:`override_events`). When there is no such incident —
the run passed anyway, or its findings name none (a freeze window) — one entry
goes to the store's ``gate_overrides`` log instead: ``gate_overrides.jsonl`` in
the JSONL store's directory (appended under the store's lock, fsynced), or the
``gate_overrides`` table in PostgreSQL. Either way the report says where.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gatekeeper.engine.report import Report
from gatekeeper.errors import StoreUnavailable
from gatekeeper.models import Event, new_event_id
from gatekeeper.store.base import IncidentStore
from gatekeeper.store.writes import WriteBatch
from gatekeeper.timeutil import format_timestamp

LOG_FILE = "gate_overrides.jsonl"  # gatekeeper.store.overrides reads it back
_INSERT = (
    "INSERT INTO gate_overrides (id, ts, env, services, agent, reason, no_strict, gates, entry)"
    " VALUES (%(id)s, %(ts)s, %(env)s, %(services)s, %(agent)s, %(reason)s, %(no_strict)s,"
    " %(gates)s, %(entry)s)"
)


def record_break_glass(store: IncidentStore, report: Report, now: datetime) -> str:
    """Write the run's audit trail; returns where it went (for the report's line)."""
    events = override_events(report, now)
    if events:
        store.write(WriteBatch(events=events))
        return f"gate_override events on {len(events)} incident(s)"
    return append_log(store, log_entry(report, now))


def override_events(report: Report, now: datetime) -> tuple[Event, ...]:
    """One ``gate_override`` event per incident behind a softened finding."""
    override = report.override
    if override is None:
        return ()
    events = []
    for incident_id in override.incidents:
        behind = [
            r for r in report.results if any(f.incident_id == incident_id for f in r.findings)
        ]
        gates = sorted({r.gate for r in behind if r.gate in override.gates})
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
                    "no_strict": override.no_strict,
                    "env": report.env,
                    "services": list(report.services),
                },
                actor=override.agent,
            )
        )
    return tuple(events)


def log_entry(report: Report, now: datetime) -> dict[str, Any]:
    """The ``gate_overrides`` log entry for a break-glass run with no incident to note it on."""
    override = report.override
    assert override is not None
    return {
        "id": new_event_id().replace("evt_", "gov_", 1),
        "ts": format_timestamp(now),
        "env": report.env,
        "services": list(report.services),
        "agent": override.agent,
        "reason": override.reason,
        "no_strict": override.no_strict,
        "gates": list(override.gates),
        "decision": report.decision,
    }


def append_log(store: IncidentStore, entry: dict[str, Any]) -> str:
    """Append ``entry`` to the store's ``gate_overrides`` log; returns where it went."""
    # Imported here: the gate loads a backend's module only when it is in use.
    from gatekeeper.store.auto import AutoIncidentStore
    from gatekeeper.store.jsonl import JsonlIncidentStore
    from gatekeeper.store.postgres import PostgresIncidentStore

    target: IncidentStore | None = store
    if isinstance(store, AutoIncidentStore):
        target = store._current() or store._fallback  # noqa: SLF001 - the live backend
    if isinstance(target, JsonlIncidentStore):
        return _append_jsonl(target, entry)
    if isinstance(target, PostgresIncidentStore):
        return _append_postgres(target, entry)
    raise StoreUnavailable(
        f"the {store.backend} backend keeps no gate_overrides log", where="gate_overrides"
    )


def _append_jsonl(store: Any, entry: dict[str, Any]) -> str:
    from gatekeeper.store.fileio import append_lines, ensure_directory

    ensure_directory(store.directory)
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
    with store.locked():
        append_lines(store.directory / LOG_FILE, line.encode("utf-8"))
    return f"gate_overrides log {store.directory / LOG_FILE}"


def _append_postgres(store: Any, entry: dict[str, Any]) -> str:
    from psycopg.types.json import Jsonb

    row = {**entry, "services": list(entry["services"]), "gates": list(entry["gates"])}
    row["entry"] = Jsonb(entry)
    with store._translate("write gate_overrides"), store._conn.transaction():  # noqa: SLF001
        store._conn.execute(_INSERT, row)  # noqa: SLF001
    return f"gate_overrides table at {store.target.label}"
