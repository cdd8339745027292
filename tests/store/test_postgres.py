"""PostgreSQL backend specifics: error boundary, outages mid-write, indexes at 50k rows."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gatekeeper.errors import ConfigError, Conflict, GatekeeperError, StoreUnavailable
from gatekeeper.store import WriteBatch
from gatekeeper.store import pg_sql as q
from gatekeeper.store.migrations import LATEST_VERSION, migrate_database
from gatekeeper.store.pg_connection import PostgresTarget, PostgresUnreachable, translate
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.conftest import REPO, CliRun
from tests.store.factories import artifact, event, incident
from tests.store.tcp_proxy import TcpProxy

TARGET = PostgresTarget.parse("postgresql://gk:s3cret-pw@db.internal:6432/incidents")


def _all_subclasses(cls: type[Exception]) -> Iterator[type[Exception]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


@pytest.mark.parametrize(
    "error",
    sorted(set(_all_subclasses(psycopg.Error)), key=str),  # by qualified name
    ids=lambda c: str(getattr(c, "__name__", c)),
)
def test_every_psycopg_error_becomes_a_one_line_gatekeeper_error(error: type[Exception]) -> None:
    with pytest.raises(GatekeeperError) as caught, translate(TARGET, "write"):
        raise error("boom s3cret-pw\nsecond line")
    message = str(caught.value)
    assert "\n" not in message and "s3cret-pw" not in message
    assert "gk@db.internal:6432/incidents" in message
    expected = Conflict if issubclass(error, psycopg.errors.UniqueViolation) else StoreUnavailable
    assert isinstance(caught.value, expected)


def test_an_unreachable_server_names_host_and_database_never_the_password() -> None:
    with pytest.raises(PostgresUnreachable) as caught:
        PostgresIncidentStore.open("postgresql://gk:s3cret-pw@127.0.0.1:1/incidents")
    message = str(caught.value)
    assert message.startswith("cannot connect: connection ")
    assert message.endswith("(postgres gk@127.0.0.1:1/incidents)")
    assert "\n" not in message and "s3cret-pw" not in message


def test_a_malformed_url_is_a_configuration_error_that_does_not_echo_it() -> None:
    with pytest.raises(ConfigError) as caught:
        PostgresIncidentStore.open("host=x password=s3cret-pw port")
    assert str(caught.value) == (
        "not a PostgreSQL URL (expected e.g. postgresql://user@host:5432/dbname) "
        "(DATABASE_URL/--database-url)"
    )


def test_an_unmigrated_schema_says_to_run_migrate(pg_url: str) -> None:
    needs = rf"schema is at version 0, needs {LATEST_VERSION}; run `gatekeeper"
    with pytest.raises(StoreUnavailable, match=needs):
        PostgresIncidentStore.open(pg_url)


def test_a_schema_can_be_given_to_the_constructor(pg_server: str, pg_schema: str) -> None:
    migrate_database(pg_server, schema=pg_schema)
    store = PostgresIncidentStore.open(pg_server, schema=pg_schema)
    try:
        created = incident()
        store.write(WriteBatch(new_incidents=(created,)))
        assert store.info()["location"].endswith(f"schema {pg_schema}")
    finally:
        store.close()
    with psycopg.connect(pg_server) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{pg_schema}".incidents'.encode()).fetchone()
    assert count == (1,)


def _counts(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    row = conn.execute(q.COUNTS).fetchone()
    assert row is not None
    return (row[0], row[1], row[2])


def test_postgres_going_away_mid_write_leaves_nothing(
    proxy: TcpProxy, proxied_url: str, pg_conn: psycopg.Connection[Any]
) -> None:
    store = PostgresIncidentStore.open(proxied_url)
    inc = incident()
    # The incidents are inserted, then the connection dies as the events are sent.
    proxy.cut_when_sent(b"INSERT INTO incident_events")
    with pytest.raises(PostgresUnreachable) as caught:
        store.write(
            WriteBatch(new_incidents=(inc,), events=(event(inc),), artifacts=(artifact(inc),))
        )
    store.close()
    assert proxy.cuts == 1
    assert str(caught.value).startswith("write failed: ")
    assert "\n" not in str(caught.value)
    assert _counts(pg_conn) == (0, 0, 0)


def test_a_long_lived_store_reconnects_once_the_server_is_back(
    proxy: TcpProxy, proxied_url: str
) -> None:
    store = PostgresIncidentStore.open(proxied_url)
    created = incident()
    store.write(WriteBatch(new_incidents=(created,)))
    proxy.cut()
    with pytest.raises(PostgresUnreachable, match="read failed: "):
        store.get_incident(created.id)
    with pytest.raises(PostgresUnreachable, match="cannot connect: "):
        store.get_incident(created.id)
    proxy.restore()
    assert store.get_incident(created.id) == created
    store.close()


def test_cli_import_cut_mid_transaction_is_one_line_and_writes_nothing(
    proxy: TcpProxy,
    proxied_url: str,
    pg_conn: psycopg.Connection[Any],
    tmp_path: Path,
    run_cli: CliRun,
) -> None:
    records = [incident(summary="x" * 500) for _ in range(1500)]
    bundle = tmp_path / "bundle.jsonl"
    header = {"format": "gatekeeper-bundle", "version": 1, "exported_at": "x", "source": "t"}
    lines = [json.dumps(header)] + [
        json.dumps({"type": "incident", "record": r.to_json_dict()}) for r in records
    ]
    bundle.write_text("\n".join(lines) + "\n")
    # The first ~1000 rows reach the server inside the transaction, then it goes away.
    proxy.cut_when_sent(records[1000].id.encode())

    result = run_cli(
        "--backend", "postgres", "--database-url", proxied_url, "--agent", "sofiia",
        "--policy", str(tmp_path / "no-policy"), "store", "import", str(bundle),
    )  # fmt: skip

    assert result.exit_code == 1
    assert proxy.cuts == 1 and proxy.sent_before_cut > 400_000  # rows did reach the server
    assert result.stdout == ""
    assert result.stderr.startswith("gatekeeper: error: write failed: ")
    assert result.stderr.endswith(f"(postgres postgres@127.0.0.1:{proxy.port}/test schema "
                                  f"{proxied_url.rsplit('%3D', 1)[1]})\n")  # fmt: skip
    assert result.stderr.count("\n") == 1
    assert _counts(pg_conn) == (0, 0, 0)


def _index_names(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.add(plan["Index Name"])
        for value in plan.values():
            found |= _index_names(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _index_names(value)
    return found


_FILL = """
INSERT INTO incidents (id, service, env, severity, status, title, labels, started_at,
                       created_at, updated_at, created_by)
SELECT 'inc_20240101_0000_' || lpad(to_hex(g), 6, '0'), 'svc' || (g % 200),
       (ARRAY['prod', 'staging', 'dev'])[1 + g % 3], 'P' || (g % 5),
       CASE WHEN g % 250 = 0 THEN 'open' ELSE 'closed' END, 'title ' || g, '{}',
       timestamptz '2024-01-01' + g * interval '15 minutes',
       timestamptz '2024-01-01' + g * interval '15 minutes',
       timestamptz '2024-01-01' + g * interval '15 minutes', 'bench'
FROM generate_series(1, 50000) AS g;
INSERT INTO incident_events (id, incident_id, ts, recorded_at, type, message, meta, actor)
SELECT 'evt_' || lpad(to_hex(g), 16, '0'),
       'inc_20240101_0000_' || lpad(to_hex(1 + g % 50000), 6, '0'),
       timestamptz '2024-01-01' + g * interval '5 minutes',
       timestamptz '2024-01-01' + g * interval '5 minutes',
       CASE WHEN g % 4 = 0 THEN 'followup' ELSE 'note' END, 'm', '{}', 'bench'
FROM generate_series(1, 100000) AS g;
ANALYZE incidents;
ANALYZE incident_events;
"""


def _explain(conn: psycopg.Connection[Any], statement: str, params: Any) -> set[str]:
    cursor = psycopg.ClientCursor(conn)  # literal parameters: the plan a real call gets
    cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}".encode(), params)
    row = cursor.fetchone()
    assert row is not None
    return _index_names(row[0])


def test_the_gate_queries_use_their_indexes_at_50k_incidents(
    pg_conn: psycopg.Connection[Any],
) -> None:
    pg_conn.execute(_FILL.encode())
    assert _counts(pg_conn)[:2] == (50_000, 100_000)
    since = "2025-06-01T00:00:00Z"
    gate = _explain(
        pg_conn,
        q.SELECT_GATE_INCIDENTS,
        {"env": "prod", "services": ["svc7", "svc8"], "since": since},
    )
    assert {"incidents_active_idx", "incidents_service_env_started_idx"} <= gate
    ids = [f"inc_20240101_0000_{n:06x}" for n in range(1, 50_000, 2500)]
    assert "incident_events_followup_idx" in _explain(pg_conn, q.SELECT_FOLLOWUPS, (ids,))
    listing = (
        q.SELECT_INCIDENT + " WHERE service = %s AND env = %s ORDER BY started_at DESC LIMIT 20"
    )
    assert "incidents_service_env_started_idx" in _explain(pg_conn, listing, ("svc3", "prod"))
    assert "incident_events_timeline_idx" in _explain(pg_conn, q.SELECT_EVENTS_OF, (ids[0],))


def test_the_jsonl_path_never_imports_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from gatekeeper.cli import main\n"
        f"code = main(['--store-dir', {str(tmp_path)!r}, 'store', 'info', '--format', 'json'])\n"
        "assert code == 0, code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('psycopg'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
