"""Versioned, idempotent PostgreSQL migrations for the incident store (see docs/store.md).

Each :class:`Migration` is applied at most once, in version order; the versions
applied are recorded in ``schema_migrations``. One run is one transaction that
first takes ``pg_advisory_xact_lock`` (keyed by the schema), so two migrators
started at once are serialised and the second finds nothing left to do.
``gatekeeper store migrate`` and ``ops/scripts/migrate_incidents_postgres.py``
both call :func:`migrate_database`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import StoreUnavailable

if TYPE_CHECKING:  # psycopg is imported only when a database is really used
    from gatekeeper.store.pg_connection import Connection, PostgresTarget


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "incident tables",
        """\
CREATE TABLE incidents (
    id          text COLLATE "C" PRIMARY KEY,
    service     text NOT NULL,
    env         text NOT NULL,
    severity    text NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3', 'P4')),
    status      text NOT NULL CHECK (status IN ('open', 'mitigated', 'resolved', 'closed')),
    title       text NOT NULL,
    summary     text,
    labels      jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    resolved_at timestamptz,
    closed_at   timestamptz,
    created_by  text NOT NULL
);
-- seq keeps insertion order, so an export lists events as the JSONL files do.
CREATE TABLE incident_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    id          text COLLATE "C" PRIMARY KEY,
    incident_id text COLLATE "C" NOT NULL,
    ts          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    type        text NOT NULL,
    message     text NOT NULL DEFAULT '',
    meta        jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor       text NOT NULL
);
-- Metadata only: the bytes stay in the artifacts directory.
CREATE TABLE incident_artifacts (
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    incident_id text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('md', 'json', 'txt')),
    size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
    sha256      text NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    PRIMARY KEY (incident_id, name)
);
""",
    ),
    Migration(
        2,
        "indexes for the gate and listings",
        """\
-- followup_watch: the active incidents of a service in an env, by severity.
CREATE INDEX incidents_active_idx ON incidents (service, env, severity)
    WHERE status IN ('open', 'mitigated');
-- the gate's window and `incident list --service`: newest first per service/env.
CREATE INDEX incidents_service_env_started_idx ON incidents (service, env, started_at DESC);
-- `incident list` without a service: newest first.
CREATE INDEX incidents_started_idx ON incidents (started_at DESC, id DESC);
-- an incident's timeline in time order.
CREATE INDEX incident_events_timeline_idx ON incident_events (incident_id, ts, recorded_at, id);
-- the follow-up events the gate folds, by incident.
CREATE INDEX incident_events_followup_idx ON incident_events (incident_id, ts)
    WHERE type = 'followup';
""",
    ),
    Migration(
        3,
        "gate_overrides log",
        """\
-- break-glass runs of the gate that named no incident to record the override on.
CREATE TABLE gate_overrides (
    seq       bigint GENERATED ALWAYS AS IDENTITY,
    id        text COLLATE "C" PRIMARY KEY,
    ts        timestamptz NOT NULL,
    env       text NOT NULL,
    services  text[] NOT NULL,
    agent     text NOT NULL,
    reason    text NOT NULL,
    no_strict boolean NOT NULL,
    gates     text[] NOT NULL,
    entry     jsonb NOT NULL
);
""",
    ),
    Migration(
        4,
        "ops: job runs, alert inbox, risk history, backlog",
        """\
-- one row per run of a scheduled job (`jobs list` shows the last of each job).
CREATE TABLE job_runs (
    run_id      text COLLATE "C" PRIMARY KEY,
    job         text NOT NULL,
    slot        timestamptz NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    outcome     text NOT NULL CHECK (outcome IN ('running', 'ok', 'failed')),
    record      jsonb NOT NULL
);
CREATE INDEX job_runs_job_idx ON job_runs (job, started_at DESC);
-- the alert inbox: `alerts add` inserts, `alerts triage` marks each alert processed once.
CREATE TABLE alerts (
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    id           text COLLATE "C" PRIMARY KEY,
    fingerprint  text NOT NULL,
    state        text NOT NULL CHECK (state IN ('new', 'processed')),
    received_at  timestamptz NOT NULL,
    record       jsonb NOT NULL,
    incident_id  text,
    outcome      text,
    processed_at timestamptz
);
CREATE INDEX alerts_new_idx ON alerts (seq) WHERE state = 'new';
CREATE INDEX alerts_fingerprint_idx ON alerts (fingerprint, received_at);
-- a triage batch planned but not yet marked: replayed as planned after a crash.
CREATE TABLE alert_triage_intents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    plan       jsonb NOT NULL
);
-- hourly_risk_snapshot: one row per slot, service and env.
CREATE TABLE risk_history (
    slot    timestamptz NOT NULL,
    service text NOT NULL,
    env     text NOT NULL,
    score   double precision NOT NULL,
    record  jsonb NOT NULL,
    PRIMARY KEY (slot, service, env)
);
-- weekly_backlog_generate: every version of every item (the last per id wins).
CREATE TABLE backlog_items (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text COLLATE "C" NOT NULL,
    status      text NOT NULL,
    recorded_at timestamptz NOT NULL,
    record      jsonb NOT NULL
);
CREATE INDEX backlog_items_id_idx ON backlog_items (id, seq DESC);
""",
    ),
    Migration(
        5,
        "alert inbox: triage marks alerts in the transaction of their incidents",
        """\
-- A Postgres triage batch writes its incidents, events and processed marks in one
-- transaction, so no plan is saved between them: the intents table goes.
DROP TABLE IF EXISTS alert_triage_intents;
-- who put the alert in the inbox (`alerts add` or the alert_ingest tool action).
ALTER TABLE alerts ADD COLUMN ingested_by text;
-- a processed alert always says when and how.
ALTER TABLE alerts ADD CONSTRAINT alerts_processed_marked
    CHECK (state = 'new' OR (processed_at IS NOT NULL AND outcome IS NOT NULL));
-- the alerts an incident was opened or joined by.
CREATE INDEX alerts_incident_idx ON alerts (incident_id) WHERE incident_id IS NOT NULL;
""",
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version

_LEDGER = """\
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('gatekeeper.migrate:' || current_schema()))"


@dataclass(frozen=True)
class MigrationReport:
    """What a run did (or, with ``dry_run``, would do)."""

    dry_run: bool
    version_before: int
    migrations: Sequence[Migration] = field(default_factory=tuple)
    location: str = ""

    @property
    def version_after(self) -> int:
        return self.migrations[-1].version if self.migrations else self.version_before

    def text(self) -> str:
        """What ``store migrate`` prints: the DDL (as valid SQL) for a dry run, else a log."""
        if self.dry_run:
            head = f"-- dry run: {len(self.migrations)} migration(s) to apply to {self.location}\n"
            return head + render_sql(self.migrations)
        if not self.migrations:
            return f"up to date: schema version {self.version_after} at {self.location}\n"
        return "".join(f"applied migration {m.version}: {m.name}\n" for m in self.migrations)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "location": self.location,
            "version_before": self.version_before,
            "version_after": self.version_after,
            "migrations": [
                {"version": m.version, "name": m.name, "sql": m.sql} for m in self.migrations
            ],
        }


def render_sql(migrations: Sequence[Migration]) -> str:
    """The DDL of ``migrations``, each headed by a comment naming it."""
    return "\n".join(f"-- migration {m.version}: {m.name}\n{m.sql}" for m in migrations)


def applied_versions(conn: Connection) -> set[int]:
    """Versions recorded in ``schema_migrations`` (none if the ledger is missing)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS ok").fetchone()
    if not exists or not exists["ok"]:
        return set()
    return {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}


def schema_version(conn: Connection) -> int:
    """The latest version applied (0 without the ledger), in one round trip.

    What ``max(applied_versions(conn), default=0)`` answers, for the check
    every store open makes: a missing ledger is the error the one query
    raises, not a second query asked first.
    """
    from psycopg.errors import UndefinedTable

    try:
        row = conn.execute("SELECT max(version) AS version FROM schema_migrations").fetchone()
    except UndefinedTable:
        return 0
    return int(row["version"]) if row and row["version"] is not None else 0


def pending(applied: set[int]) -> list[Migration]:
    return [m for m in MIGRATIONS if m.version not in applied]


def migrate(conn: Connection, *, dry_run: bool = False) -> MigrationReport:
    """Apply the pending migrations in one locked transaction (or only list them)."""
    if dry_run:
        applied = applied_versions(conn)
        return MigrationReport(True, max(applied, default=0), pending(applied))
    with conn.transaction():
        schema = conn.execute("SELECT current_schema() AS name").fetchone()
        if not schema or schema["name"] is None:
            raise StoreUnavailable(
                "no schema to create tables in: the search_path names no existing schema"
            )
        conn.execute(_LOCK)
        conn.execute(_LEDGER)
        applied = applied_versions(conn)
        todo = pending(applied)
        for migration in todo:
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return MigrationReport(False, max(applied, default=0), todo)


def migrate_database(
    url: str | None, *, schema: str | None = None, dry_run: bool = False
) -> MigrationReport:
    """Connect to ``url`` and :func:`migrate`; a dry run without a URL lists every migration."""
    if dry_run and not url:
        return MigrationReport(True, 0, MIGRATIONS, location="a new database (no URL given)")
    from gatekeeper.store.pg_connection import PostgresTarget, Timeouts, connect, translate

    target: PostgresTarget = PostgresTarget.parse(url, schema=schema)
    conn = connect(target, Timeouts.from_environment(maintenance=True))
    try:
        with translate(target, "migrate", conn):
            report = migrate(conn, dry_run=dry_run)
    except StoreUnavailable as exc:
        exc.where = exc.where or target.label
        raise
    finally:
        conn.close()
    return MigrationReport(report.dry_run, report.version_before, report.migrations, target.label)
