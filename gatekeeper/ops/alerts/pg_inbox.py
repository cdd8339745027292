"""The alert inbox in PostgreSQL: the ``alerts`` table (migrations 4 and 5).

``add`` inserts the whole batch in one transaction. A triage batch is one
transaction on the incident store's own connection: its incidents and events
(upserts, idempotent by id) and ``UPDATE alerts SET state = 'processed' ...
WHERE state = 'new'``. A run killed anywhere leaves either all of a batch or
none of it, so every alert is processed exactly once; a batch that finds one of
its alerts already processed (another triage got there) is rolled back whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from gatekeeper.errors import Conflict
from gatekeeper.ops.alerts.inbox import InboxState
from gatekeeper.ops.alerts.plan import TriagePlan
from gatekeeper.store import IncidentStore
from gatekeeper.store.postgres import PostgresIncidentStore


def postgres_store_of(store: IncidentStore) -> PostgresIncidentStore | None:
    """The Postgres store behind ``store`` (None for auto while Postgres is away)."""
    from gatekeeper.store.auto import AutoIncidentStore

    if isinstance(store, AutoIncidentStore):
        primary = store.reachable_primary()
        return primary if isinstance(primary, PostgresIncidentStore) else None
    return store if isinstance(store, PostgresIncidentStore) else None


class PostgresInbox:
    def __init__(self, store: PostgresIncidentStore) -> None:
        self.store = store
        self.label = f"table alerts at {store.target.label}"

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        rows = [
            (r["id"], r["fingerprint"], r["received_at"], Jsonb(r), r.get("ingested_by"))
            for r in records
        ]
        with self.store.transaction("alert inbox") as cur:
            cur.executemany(
                "INSERT INTO alerts (id, fingerprint, state, received_at, record, ingested_by)"
                " VALUES (%s, %s, 'new', %s, %s, %s)",
                rows,
            )

    def recover(self, store: IncidentStore) -> int:
        return 0  # a batch is one transaction: nothing is ever left half done

    def load(self) -> InboxState:
        with self.store.transaction("alert inbox") as cur:
            cur.execute("SELECT record FROM alerts WHERE state = 'new' ORDER BY seq")
            pending = [row["record"] for row in cur.fetchall()]
            cur.execute(
                "SELECT fingerprint, received_at FROM alerts WHERE fingerprint = ANY(%s)",
                (sorted({a["fingerprint"] for a in pending}),),
            )
            times: dict[str, list[datetime]] = defaultdict(list)
            for row in cur.fetchall():
                times[row["fingerprint"]].append(row["received_at"].astimezone(UTC))
        for values in times.values():
            values.sort()
        return InboxState(pending, times)

    def apply(self, store: IncidentStore, plan: TriagePlan) -> None:
        marks = [(m["incident_id"], m["outcome"], m["processed_at"], m["id"]) for m in plan.marks]
        with self.store.transaction("alert triage") as cur:
            self.store.write_in(cur, plan.batch(), upsert=True)
            cur.execute(
                "UPDATE alerts AS a SET state = 'processed', incident_id = m.incident_id,"
                " outcome = m.outcome, processed_at = m.processed_at::timestamptz,"
                " record = a.record || jsonb_build_object('state', 'processed',"
                " 'incident_id', m.incident_id, 'outcome', m.outcome,"
                " 'processed_at', m.processed_at)"
                " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])"
                " AS m(incident_id, outcome, processed_at, id)"
                " WHERE a.id = m.id AND a.state = 'new'",
                tuple(map(list, zip(*marks, strict=True))) if marks else ([], [], [], []),
            )
            if cur.rowcount != len(marks):
                raise Conflict(
                    f"{len(marks) - cur.rowcount} alert(s) of the batch were already processed "
                    "by another triage; the batch was rolled back",
                    where="alerts",
                )

    def folded(self) -> dict[str, dict[str, Any]]:
        with self.store.transaction("alert inbox") as cur:
            cur.execute("SELECT record FROM alerts ORDER BY seq")
            return {row["record"]["id"]: row["record"] for row in cur.fetchall()}
