"""Versioned, idempotent migrations; `store migrate` and the ops script run the same code."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import psycopg
import pytest

from gatekeeper.errors import StoreUnavailable
from gatekeeper.store.migrations import LATEST_VERSION, MIGRATIONS, migrate_database
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.conftest import REPO, CliRun

SCRIPT = REPO / "ops" / "scripts" / "migrate_incidents_postgres.py"
ALL = [m.version for m in MIGRATIONS]
TABLES = {
    "incidents",
    "incident_events",
    "incident_artifacts",
    "schema_migrations",
    "gate_overrides",
}
# Tables of later migrations (ops: job runs, the alert inbox, risk history, backlog).
TABLES |= {"job_runs", "alerts", "risk_history", "backlog_items"}  # intents: dropped by 5


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
    return {row[0] for row in rows}


def ledger(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        ).fetchall()


def test_migrate_applies_every_version_once_and_then_nothing(pg_url: str) -> None:
    first = migrate_database(pg_url)
    assert [m.version for m in first.migrations] == list(range(1, LATEST_VERSION + 1))
    assert (first.version_before, first.version_after) == (0, LATEST_VERSION)
    assert tables(pg_url) == TABLES
    recorded = ledger(pg_url)

    again = migrate_database(pg_url)

    assert (list(again.migrations), again.version_after) == ([], LATEST_VERSION)
    assert ledger(pg_url) == recorded


def test_only_the_missing_versions_are_applied(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a database left at version 1
        conn.execute(MIGRATIONS[0].sql.encode())
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now());"
            " INSERT INTO schema_migrations (version, name) VALUES (1, 'incident tables')"
        )
    assert [m.version for m in migrate_database(pg_url, dry_run=True).migrations] == ALL[1:]
    assert [m.version for m in migrate_database(pg_url).migrations] == ALL[1:]
    assert [row[0] for row in ledger(pg_url)] == ALL


def test_a_failing_migration_rolls_the_whole_run_back(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE incident_events (stray integer)")
    with pytest.raises(StoreUnavailable, match='migrate failed: relation "incident_events"'):
        migrate_database(pg_url)
    assert tables(pg_url) == {"incident_events"}  # no incidents table, no ledger


def test_concurrent_migrators_are_serialised(pg_url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    applied: list[int] = []

    def run() -> None:
        barrier.wait()
        try:
            applied.extend(m.version for m in migrate_database(pg_url).migrations)
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(applied) == ALL  # one migrator did the work, the others found none
    assert [row[0] for row in ledger(pg_url)] == ALL


def test_a_search_path_without_a_schema_is_refused(pg_server: str) -> None:
    url = f"{pg_server}?options=-csearch_path%3Dgk_no_such_schema"
    with pytest.raises(StoreUnavailable, match="search_path names no existing schema"):
        migrate_database(url)


def test_cli_migrate_dry_run_prints_the_ddl_and_touches_nothing(
    pg_url: str, run_cli: CliRun
) -> None:
    result = run_cli("--database-url", pg_url, "store", "migrate", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(
        f"-- dry run: {len(ALL)} migration(s) to apply to postgres postgres@"
    )
    assert "CREATE TABLE incidents (" in result.stdout
    assert "CREATE INDEX incidents_active_idx" in result.stdout
    assert tables(pg_url) == set()


def test_cli_migrate_then_again(pg_url: str, run_cli: CliRun) -> None:
    first = run_cli("--database-url", pg_url, "store", "migrate")
    assert (first.exit_code, first.stderr) == (0, "")
    assert first.stdout == "".join(f"applied migration {m.version}: {m.name}\n" for m in MIGRATIONS)
    again = run_cli("--database-url", pg_url, "store", "migrate", "--format", "json")
    assert again.exit_code == 0
    assert (
        f'"version_after": {LATEST_VERSION}' in again.stdout and '"migrations": []' in again.stdout
    )
    store = PostgresIncidentStore.open(pg_url)  # and the store accepts the schema
    store.close()


def test_cli_migrate_without_a_url_is_a_configuration_error(run_cli: CliRun) -> None:
    result = run_cli("store", "migrate")
    assert result.exit_code == 2
    assert result.stderr == (
        "gatekeeper: error: no PostgreSQL URL given; set DATABASE_URL or --database-url "
        "(DATABASE_URL/--database-url)\n"
    )


def test_cli_dry_run_without_a_url_prints_every_migration(run_cli: CliRun) -> None:
    result = run_cli("store", "migrate", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        f"-- dry run: {len(ALL)} migration(s) to apply to a new database (no URL given)",
        "-- migration 1: incident tables",
    ]


def _script(*args: str, url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url is not None:
        env["DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_ops_script_runs_the_same_migrations(pg_url: str) -> None:
    dry = _script("--dry-run", url=pg_url)
    assert (dry.returncode, dry.stderr) == (0, "")
    assert "CREATE TABLE incident_artifacts (" in dry.stdout
    assert tables(pg_url) == set()

    done = _script(url=pg_url)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("applied migration 1: incident tables\n")
    assert tables(pg_url) == TABLES

    again = _script("--database-url", pg_url, url=None)
    assert again.returncode == 0
    assert again.stdout.startswith(f"up to date: schema version {LATEST_VERSION} at postgres ")


def test_the_ops_script_fails_cleanly_when_the_server_is_away() -> None:
    result = _script(url="postgresql://postgres:pw@127.0.0.1:1/test")
    assert result.returncode == 1
    assert result.stderr.startswith("gatekeeper: error: cannot connect: connection ")
    assert result.stderr.count("\n") == 1 and ":pw@" not in result.stderr
