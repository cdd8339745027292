"""The PostgreSQL backend: tables ``incidents``, ``incident_events``, ``incident_artifacts``.

One connection per store, in autocommit mode with explicit transactions: every
``write(batch)`` is one transaction, so a batch lands whole or not at all (a
connection cut mid-write leaves nothing behind). The tables are created by
:mod:`gatekeeper.store.migrations`; opening a store whose schema is behind is
an error that says to run ``gatekeeper store migrate``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, LiteralString, TypeVar

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from gatekeeper.artifacts import published_on_success
from gatekeeper.config import Settings
from gatekeeper.errors import Conflict, NotFound, StoreUnavailable
from gatekeeper.models import Artifact, Event, Incident, Record, describe_validation_error
from gatekeeper.store import pg_sql as q
from gatekeeper.store.base import (
    Collectors,
    GateRead,
    IncidentFilter,
    Problem,
    ServiceRecord,
    last_of_type,
    service_records,
)
from gatekeeper.store.migrations import LATEST_VERSION, applied_versions, schema_version
from gatekeeper.store.notes import Note
from gatekeeper.store.patch import IncidentPatch, apply_patch, status_events
from gatekeeper.store.pg_connection import (
    Connection,
    PostgresTarget,
    Timeouts,
    connect,
    deadline,
    snapshot,
    translate,
)
from gatekeeper.store.writes import CompactResult, WriteBatch

R = TypeVar("R", bound=Record)
ProblemSink = Callable[[Problem], None]
TABLES: dict[type[Record], str] = {
    Incident: "incidents",
    Event: "incident_events",
    Artifact: "incident_artifacts",
}


def _row_key(row: Any) -> str:
    if "id" in row:
        return str(row["id"])
    return f"{row.get('incident_id')}/{row.get('name')}"


def report_to_stderr(problem: Problem) -> None:
    import sys

    print(f"warning: {problem}", file=sys.stderr, flush=True)


class PostgresIncidentStore:
    """Incident store in PostgreSQL; see the module docstring."""

    backend = "postgres"

    def __init__(
        self, target: PostgresTarget, conn: Connection, *, on_problem: ProblemSink | None = None
    ) -> None:
        self.target = target
        self.timeouts = Timeouts.from_environment()
        self._conn = conn
        self._on_problem = on_problem or report_to_stderr
        self._collectors = Collectors()
        # One connection, one transaction at a time: threads (``serve``) take turns.
        self._lock = threading.RLock()
        self._closed = False  # by close(); a connection that broke is replaced instead

    @classmethod
    def from_settings(
        cls, settings: Settings, *, schema: str | None = None
    ) -> PostgresIncidentStore:
        """Connect to ``settings.database_url`` and check the schema is migrated."""
        return cls.open(settings.database_url, schema=schema)

    @classmethod
    def open(cls, url: str | None, *, schema: str | None = None) -> PostgresIncidentStore:
        target = PostgresTarget.parse(url, schema=schema)
        store = cls(target, connect(target))
        try:
            store._check_schema()
        except BaseException:
            store.close()
            raise
        return store

    def _check_schema(self) -> None:
        with self._translate("reading schema version"):
            version = schema_version(self._conn)
        if version < LATEST_VERSION:
            raise StoreUnavailable(
                f"schema is at version {version}, needs {LATEST_VERSION}; "
                "run `gatekeeper store migrate`",
                where=self.target.label,
            )

    @contextmanager
    def _translate(self, what: str, *, maintenance: bool = False) -> Iterator[None]:
        """Hold the connection for one operation; psycopg errors become gatekeeper errors.

        A connection that broke earlier (server restart, network cut) is replaced
        first, so a long-running process recovers once the server is back.
        """
        with self._lock:
            if self._conn.closed and not self._closed:
                self._conn = connect(self.target, self.timeouts)
            limit = self.timeouts.deadline_s
            if maintenance:  # exports stream for long; VACUUM may take a while
                limit = Timeouts.from_environment(maintenance=True).deadline_s
            with (
                deadline(self.target, self._conn, limit, what),
                translate(self.target, what, self._conn),
            ):
                yield

    # -- writing -----------------------------------------------------------------

    def write(self, batch: WriteBatch, *, upsert: bool = False) -> None:
        """Write ``batch`` in one transaction (see :meth:`IncidentStore.write`)."""
        if batch.is_empty():
            return
        with published_on_success(batch.files), self.transaction("write") as cur:
            self.write_in(cur, batch, upsert=upsert)

    @contextmanager
    def transaction(self, what: str) -> Iterator[Cursor[DictRow]]:
        """One transaction on the store's connection, for a caller that writes more with it
        (alert triage marks its alerts processed in the transaction of their events)."""
        with self._translate(what), self._conn.transaction(), self._conn.cursor() as cur:
            yield cur

    def write_in(self, cur: Cursor[DictRow], batch: WriteBatch, *, upsert: bool = False) -> None:
        """:meth:`write` inside the caller's :meth:`transaction`."""
        self._insert_incidents(cur, batch.new_incidents, upsert=upsert)
        self._update_incidents(cur, batch.updated_incidents, upsert=upsert)
        events = [*batch.events, *self._apply_patches(cur, batch.patches, upsert=upsert)]
        events += self._new_notes(cur, batch.notes)
        if events:
            statement = q.INSERT_EVENT_UPSERT if upsert else q.INSERT_EVENT
            cur.executemany(statement, [_event_row(e) for e in events])
        if batch.artifacts:
            statement = q.UPSERT_ARTIFACT if upsert else q.REPLACE_ARTIFACT
            cur.executemany(statement, [_artifact_row(a) for a in batch.artifacts])

    def _insert_incidents(
        self, cur: Cursor[DictRow], incidents: Sequence[Incident], *, upsert: bool
    ) -> None:
        if not incidents:
            return
        if not upsert:
            cur.execute(q.EXISTING_IDS, ([i.id for i in incidents],))
            existing = cur.fetchone()
            if existing is not None:
                raise Conflict("incident already exists", where=existing["id"])
        statement = q.INSERT_INCIDENT_IF_NEW if upsert else q.INSERT_INCIDENT
        cur.executemany(statement, [_incident_row(i) for i in incidents])

    def _update_incidents(
        self, cur: Cursor[DictRow], incidents: Sequence[Incident], *, upsert: bool
    ) -> None:
        if upsert:
            if incidents:
                cur.executemany(q.UPSERT_INCIDENT, [_incident_row(i) for i in incidents])
            return
        for incident in incidents:
            cur.execute(q.UPDATE_INCIDENT, _incident_row(incident))
            if cur.rowcount == 0:
                raise NotFound("no such incident", where=incident.id)

    def _new_notes(self, cur: Cursor[DictRow], notes: Sequence[Note]) -> list[Event]:
        """The events of ``notes`` that say something new: each incident's row is locked
        (``FOR UPDATE``) before its last event of the type is read, so a second writer
        waits for the first to commit and then sees its note."""
        if not notes:
            return []
        ids = sorted({n.event.incident_id for n in notes})  # one lock order: no deadlock
        cur.execute("SELECT id FROM incidents WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))
        locked = {row["id"] for row in cur.fetchall()}
        out: list[Event] = []
        for note in notes:
            incident_id, type_ = note.event.incident_id, note.event.type
            if incident_id not in locked:
                raise NotFound("no such incident", where=incident_id)
            cur.execute(q.SELECT_LAST_EVENT_OF_TYPE, (incident_id, type_))
            stored = [self._decode(Event, row, None) for row in cur.fetchall()]
            seen = [e for e in stored if e is not None]
            seen += [e for e in out if e.incident_id == incident_id]
            if note.is_new(last_of_type(seen, type_)):
                out.append(note.event)
        return out

    def _apply_patches(
        self, cur: Cursor[DictRow], patches: Sequence[IncidentPatch], *, upsert: bool
    ) -> list[Event]:
        """Lock the patched rows (``FOR UPDATE``), apply each patch, write the new versions."""
        if not patches:
            return []
        ids = sorted({p.incident_id for p in patches})  # one lock order: no deadlock
        cur.execute(q.SELECT_INCIDENT + " WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))
        latest = {row["id"]: Incident.model_validate(row) for row in cur.fetchall()}
        events: list[Event] = []
        for patch in patches:
            current = latest.get(patch.incident_id)
            if current is None:  # even on replay: a patch needs its incident
                raise NotFound("no such incident", where=patch.incident_id)
            updated = apply_patch(current, patch)
            events.extend(status_events(current, updated, patch))
            cur.execute(q.UPDATE_INCIDENT, _incident_row(updated))
            latest[updated.id] = updated
        return events

    # -- reading -----------------------------------------------------------------

    def _rows(
        self,
        model: type[R],
        statement: LiteralString,
        params: Any = None,
        problems: list[Problem] | None = None,
    ) -> list[R]:
        decoded = (
            self._decode(model, row, problems) for row in self._conn.execute(statement, params)
        )
        return [record for record in decoded if record is not None]

    def _decode(self, model: type[R], row: Any, problems: list[Problem] | None) -> R | None:
        """The row as a record; a row the model refuses is corrupt: reported, skipped."""
        sink = problems.append if problems is not None else self._report
        return decode_row(model, row, f"{TABLES[model]}[{_row_key(row)}]", sink)

    def _report(self, problem: Problem) -> None:
        self._on_problem(problem)
        self._collectors.add([problem])

    def collecting(self, into: list[Problem]) -> AbstractContextManager[None]:
        """See :func:`~gatekeeper.store.base.collecting`."""
        return self._collectors.block(into)

    def _fetch(self, model: type[R], statement: LiteralString, params: Any = None) -> list[R]:
        with self._translate("read"):
            return self._rows(model, statement, params)

    def get_incident(self, incident_id: str) -> Incident:
        found = self._fetch(Incident, q.SELECT_INCIDENT + " WHERE id = %s", (incident_id,))
        if not found:
            raise NotFound("no such incident", where=incident_id)
        return found[0]

    def list_incidents(self, query: IncidentFilter) -> list[Incident]:
        where, params = _filter_where(query)
        statement = q.SELECT_INCIDENT + where + " ORDER BY started_at DESC, id DESC"
        if query.limit is not None:
            statement += " LIMIT %s"
            params.append(query.limit)
        return self._fetch(Incident, statement, params)

    def incident_scopes(self, queries: Sequence[IncidentFilter]) -> dict[str, set[str]]:
        """See :func:`~gatekeeper.store.base.incident_scopes`: ``SELECT DISTINCT env, service``."""
        scopes: dict[str, set[str]] = {}
        with self._translate("read"):
            for query in queries:
                where, params = _filter_where(query)
                statement = "SELECT DISTINCT env, service FROM incidents" + where
                for row in self._conn.execute(statement, params):
                    scopes.setdefault(row["env"], set()).add(row["service"])
        return scopes

    def events(self, incident_id: str) -> list[Event]:
        return self._fetch(Event, q.SELECT_EVENTS_OF, (incident_id,))

    def last_event_times(self, incident_ids: Collection[str]) -> dict[str, datetime]:
        with self._translate("read"):
            rows = self._conn.execute(q.SELECT_LAST_EVENT_TIMES, (list(incident_ids),))
            return {row["incident_id"]: row["ts"] for row in rows}

    def events_of(self, incident_ids: Collection[str]) -> dict[str, list[Event]]:
        found: dict[str, list[Event]] = {}
        for event in self._fetch(Event, q.SELECT_EVENTS_OF_MANY, (list(incident_ids),)):
            found.setdefault(event.incident_id, []).append(event)
        return found

    def artifacts(self, incident_id: str) -> list[Artifact]:
        return self._fetch(Artifact, q.SELECT_ARTIFACTS_OF, ([incident_id],))

    def gate_records(
        self, env: str, services: Sequence[str], since: datetime
    ) -> dict[str, ServiceRecord]:
        read = self.gate_read(env, services, since)
        for problem in read.skipped:
            self._report(problem)
        return read.records

    def gate_read(self, env: str, services: Sequence[str], since: datetime) -> GateRead:
        """Three indexed queries in one read-only snapshot (see migration 2).

        A row the model refuses is skipped and listed. A damaged incident row
        is only read when its service, env and dates made the query select it,
        so every refused row here is one the gate cannot rule out.
        """
        skipped: list[Problem] = []
        with self._translate("read"), snapshot(self._conn):
            params = {"env": env, "services": list(services), "since": since}
            incidents = self._rows(Incident, q.SELECT_GATE_INCIDENTS, params, skipped)
            ids = [i.id for i in incidents] + [_skipped_id(p) for p in skipped]
            events = self._rows(Event, q.SELECT_FOLLOWUPS, (ids,), skipped)
            artifacts = self._rows(Artifact, q.SELECT_ARTIFACTS_OF, (ids,), skipped)
        records = service_records(env, services, incidents, events, artifacts)
        self._collectors.add(skipped)
        return GateRead(
            records, backend=self.backend, location=self.target.label, skipped=tuple(skipped)
        )

    def _stream(
        self, model: type[R], statement: LiteralString, problems: list[Problem] | None = None
    ) -> Iterator[R]:
        # A server-side cursor: an export of millions of rows never sits in memory.
        with (
            self._translate("read", maintenance=True),
            self._conn.transaction(),
            self._conn.cursor(name="gatekeeper_export") as cur,
        ):
            cur.itersize = 1000
            for row in cur.execute(statement):
                record = self._decode(model, row, problems)
                if record is not None:
                    yield record

    def iter_incidents(self) -> Iterator[Incident]:
        return self._stream(Incident, q.SELECT_INCIDENT + " ORDER BY started_at, id")

    def iter_events(self) -> Iterator[Event]:
        return self._stream(Event, q.SELECT_EVENT + " ORDER BY seq")

    def iter_artifacts(self) -> Iterator[Artifact]:
        return self._stream(Artifact, q.SELECT_ARTIFACT + " ORDER BY seq")

    # -- maintenance -------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        with self._translate("reading counts"):
            counts = self._conn.execute(q.COUNTS).fetchone() or {}
            version = max(applied_versions(self._conn), default=0)
        return {
            "backend": self.backend,
            "location": self.target.label,
            "schema_version": version,
            "incidents": counts.get("incidents", 0),
            "events": counts.get("events", 0),
            "artifacts": counts.get("artifacts", 0),
        }

    def verify(self) -> list[Problem]:
        """Every row the model refuses (the same check as the JSONL store), after the schema."""
        from gatekeeper.store.overrides import verify_overrides  # its model: not a gate's cost

        self._check_schema()
        found: list[Problem] = []
        for model, statement in (
            (Incident, q.SELECT_INCIDENT + " ORDER BY started_at, id"),
            (Event, q.SELECT_EVENT + " ORDER BY seq"),
            (Artifact, q.SELECT_ARTIFACT + " ORDER BY seq"),
        ):
            for _ in self._stream(model, statement, found):
                pass
        found.extend(verify_overrides(self))
        return found

    def compact(self) -> CompactResult:
        """Postgres keeps one row per incident already; VACUUM ANALYZE reclaims space."""
        longer = f"{round(Timeouts.from_environment(maintenance=True).statement_s * 1000)}ms"
        usual = f"{round(self.timeouts.statement_s * 1000)}ms"
        with self._translate("compact", maintenance=True):
            self._conn.execute("SELECT set_config('statement_timeout', %s, false)", (longer,))
            for statement in q.VACUUM:
                self._conn.execute(statement)
            self._conn.execute("SELECT set_config('statement_timeout', %s, false)", (usual,))
            row = self._conn.execute(q.COUNTS).fetchone() or {}
        rows = int(row.get("incidents", 0))
        return CompactResult(lines_before=rows, lines_after=rows)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()

    def delete_incidents(self, incident_ids: Collection[str]) -> list[str]:
        """One transaction per incident: its events, artifact rows, then the incident."""
        removed = []
        for incident_id in sorted(set(incident_ids)):
            with self._translate("delete"), self._conn.transaction():
                self._conn.execute(
                    "DELETE FROM incident_events WHERE incident_id = %s", (incident_id,)
                )
                self._conn.execute(
                    "DELETE FROM incident_artifacts WHERE incident_id = %s", (incident_id,)
                )
                row = self._conn.execute(
                    "DELETE FROM incidents WHERE id = %s RETURNING id", (incident_id,)
                ).fetchone()
            if row is not None:
                removed.append(incident_id)
        return removed


def _filter_where(query: IncidentFilter) -> tuple[LiteralString, list[Any]]:
    """The WHERE clause (may be empty) and parameters of ``query``'s filters."""
    clauses: list[LiteralString] = []
    params: list[Any] = []
    for clause, value in (
        ("status = ANY(%s)", sorted(query.status) if query.status is not None else None),
        ("service = %s", query.service),
        ("env = %s", query.env),
        ("severity = ANY(%s)", sorted(query.severity) if query.severity is not None else None),
        ("started_at >= %s", query.since),
        ("started_at < %s", query.until),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    where: LiteralString = " WHERE " + " AND ".join(clauses) if clauses else ""
    return where, params


def decode_row(model: type[R], row: Any, where: str, on_problem: ProblemSink) -> R | None:
    """``row`` validated by ``model``; ``None`` (and ``on_problem``) if it is corrupt.

    Any exception while decoding one row means that row is corrupt, never that
    the read fails.
    """
    try:
        return model.model_validate(row)
    except Exception as exc:
        reason = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        on_problem(Problem(where, 0, reason or type(exc).__name__))
        return None


def _skipped_id(problem: Problem) -> str:
    """The incident id of a skipped incident row (its events and artifacts are read too)."""
    return problem.path.partition("[")[2].rstrip("]")


def _incident_row(incident: Incident) -> dict[str, Any]:
    row = incident.model_dump()
    row["labels"] = Jsonb(row["labels"])
    return row


def _event_row(event: Event) -> dict[str, Any]:
    row = event.model_dump()
    row["meta"] = Jsonb(row["meta"])
    return row


def _artifact_row(artifact: Artifact) -> dict[str, Any]:
    return artifact.model_dump()
