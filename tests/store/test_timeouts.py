"""A server that stalls after connecting is unreachable within the deadline, never a hang."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from gatekeeper.errors import ConfigError, StoreUnavailable
from gatekeeper.store import IncidentFilter, WriteBatch
from gatekeeper.store.auto import AutoIncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.pg_connection import Timeouts
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.store.tcp_proxy import TcpProxy

from . import factories as f


@pytest.fixture
def short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEKEEPER_PG_STATEMENT_TIMEOUT_S", "0.5")
    monkeypatch.setenv("GATEKEEPER_PG_CONNECT_TIMEOUT_S", "2")


def test_timeouts_come_from_the_environment_with_longer_maintenance_defaults() -> None:
    assert (
        Timeouts.from_environment(environ={}).statement_s
        < Timeouts.from_environment(environ={}, maintenance=True).statement_s
    )
    given = {"GATEKEEPER_PG_STATEMENT_TIMEOUT_S": "3", "GATEKEEPER_PG_CONNECT_TIMEOUT_S": "4"}
    assert Timeouts.from_environment(environ=given) == Timeouts(connect_s=4, statement_s=3)
    with pytest.raises(ConfigError, match="GATEKEEPER_PG_STATEMENT_TIMEOUT_S"):
        Timeouts.from_environment(environ={"GATEKEEPER_PG_STATEMENT_TIMEOUT_S": "soon"})


def test_statement_timeout_is_set_on_the_session(short: None, migrated_pg_url: str) -> None:
    store = PostgresIncidentStore.open(migrated_pg_url)
    # A statement slower than the server allows.
    with pytest.raises(StoreUnavailable, match="statement timeout"), store._translate("read"):
        store._conn.execute("SELECT pg_sleep(2)")
    store.close()


def test_a_stalled_server_is_unavailable_for_the_gate(
    short: None, proxied_url: str, proxy: TcpProxy
) -> None:
    store = PostgresIncidentStore.open(proxied_url)
    proxy.stall_when_sent(b"SELECT")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="no answer from the server within 2.5 s"):
        store.gate_read("prod", ["checkout"], f.T0)
    assert proxy.stalls == 1 and time.monotonic() - started < 10
    store.close()


def test_auto_mode_falls_back_for_writes_when_the_server_stalls(
    short: None, tmp_path: Path, proxied_url: str, proxy: TcpProxy
) -> None:
    store = AutoIncidentStore(
        JsonlIncidentStore(tmp_path),
        lambda: PostgresIncidentStore.open(proxied_url),
        retry_s=3600,
        warn=lambda _m: None,
    )
    store.list_incidents(IncidentFilter())  # connected
    assert not store.degraded
    proxy.stall_when_sent(b"INSERT")
    inc = f.incident()
    store.write(WriteBatch(new_incidents=(inc,)))
    assert store.degraded and proxy.stalls == 1
    assert store.info()["pending_replay"] == 1
    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))
    assert read.degraded and [i.id for i in read.records["checkout"].incidents] == [inc.id]
    store.close()
