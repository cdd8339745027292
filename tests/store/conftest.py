"""Store fixtures: a real PostgreSQL with a schema of its own per test, and every backend.

The server comes from ``GATEKEEPER_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). If it cannot be reached the
Postgres tests FAIL: a store suite that silently skipped its main backend
would prove nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from gatekeeper.store import IncidentStore
from gatekeeper.store.auto import AutoIncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.migrations import migrate_database
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.store.tcp_proxy import TcpProxy

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Nothing listens on port 1: connecting is refused at once (an outage, quickly).
UNREACHABLE_URL = "postgresql://postgres@127.0.0.1:1/test"


def with_schema(url: str, schema: str) -> str:
    """``url`` with its search_path set to ``schema`` (libpq ``options``)."""
    option = quote(f"-csearch_path={schema}", safe="")
    if "://" not in url:  # a key=value DSN
        return f"{url} options={option.replace('%3D', '=')}"
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    url = os.environ.get("GATEKEEPER_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.fail(
            f"the PostgreSQL test server is unreachable at {url} ({exc}); "
            "start it or set GATEKEEPER_TEST_DATABASE_URL (these tests are never skipped)",
            pytrace=False,
        )
    return url


@pytest.fixture
def pg_schema(pg_server: str) -> Iterator[str]:
    """A fresh, empty schema for this test, dropped afterwards."""
    name = f"gk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"'.encode())
    yield name
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE'.encode())


@pytest.fixture
def pg_url(pg_server: str, pg_schema: str) -> str:
    """The test server's URL, pointing at this test's (unmigrated) schema."""
    return with_schema(pg_server, pg_schema)


@pytest.fixture
def migrated_pg_url(pg_url: str) -> str:
    migrate_database(pg_url)
    return pg_url


@pytest.fixture
def pg_conn(migrated_pg_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A direct connection to the test schema, to look behind the store's back."""
    with psycopg.connect(migrated_pg_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def pg_store(migrated_pg_url: str) -> Iterator[PostgresIncidentStore]:
    store = PostgresIncidentStore.open(migrated_pg_url)
    yield store
    store.close()


@pytest.fixture
def proxy(pg_server: str) -> Iterator[TcpProxy]:
    """A cuttable TCP proxy in front of the test server."""
    parts = psycopg.conninfo.conninfo_to_dict(pg_server)
    with TcpProxy((str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432))) as p:
        yield p


@pytest.fixture
def proxied_url(proxy: TcpProxy, pg_server: str, pg_schema: str, migrated_pg_url: str) -> str:
    """The migrated test schema, reached through :func:`proxy`."""
    parts = psycopg.conninfo.conninfo_to_dict(pg_server)
    url = proxy.url(str(parts.get("user") or "postgres"), str(parts.get("dbname") or "test"))
    return with_schema(url, pg_schema)


def no_warning(_message: str) -> None:
    """Auto stores in the contract suite stay quiet (their warning has its own tests)."""


@pytest.fixture(params=["jsonl", "postgres", "auto", "auto-degraded"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IncidentStore]:
    """Every backend, for the contract suite; auto both healthy and with Postgres down."""
    directory = tmp_path / "store"
    directory.mkdir()
    opened: IncidentStore
    if request.param == "jsonl":
        opened = JsonlIncidentStore(directory)
    elif request.param == "postgres":
        opened = PostgresIncidentStore.open(request.getfixturevalue("migrated_pg_url"))
    else:
        url = UNREACHABLE_URL
        if request.param == "auto":
            url = request.getfixturevalue("migrated_pg_url")
        opened = AutoIncidentStore(
            JsonlIncidentStore(directory),
            lambda: PostgresIncidentStore.open(url),
            retry_s=3600,
            warn=no_warning,
        )
    yield opened
    opened.close()
