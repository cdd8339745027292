"""Replay applies operations, never whole stale records: two outages, two processes."""

from __future__ import annotations

import json
import multiprocessing
from datetime import timedelta
from pathlib import Path

import psycopg

from gatekeeper.store import WriteBatch
from gatekeeper.store.auto import AutoIncidentStore
from gatekeeper.store.journal import ReplayJournal
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.patch import make_patch
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.store.tcp_proxy import TcpProxy

from . import factories as f


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def auto(url: str, directory: Path, clock: Clock) -> AutoIncidentStore:
    return AutoIncidentStore(
        JsonlIncidentStore(directory, on_problem=lambda _p: None),
        lambda: PostgresIncidentStore.open(url),
        retry_s=60,
        clock=clock,
        warn=lambda _m: None,
    )


def patch(incident_id: str, minutes: int, base: object = None, **fields: object) -> WriteBatch:
    return WriteBatch(
        patches=(
            make_patch(incident_id=incident_id, fields=fields, actor="helion",
                       updated_at=f.T0 + timedelta(minutes=minutes), base_updated_at=base,
                       status_event_id=f"evt_{minutes:016x}" if "status" in fields else None),
        )
    )  # fmt: skip


def test_two_outages_keep_the_newer_postgres_state(
    tmp_path: Path,
    proxied_url: str,
    proxy: TcpProxy,
    pg_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    clock = Clock()
    first = auto(proxied_url, tmp_path, clock)  # "process" one
    proxy.cut()
    b, c = f.incident(), f.incident()
    first.write(WriteBatch(new_incidents=(b, c)))  # outage 1: created and resolved locally
    first.write(patch(b.id, 5, b.updated_at, status="resolved"))
    proxy.restore()
    clock.now += 60
    first.get_incident(b.id)  # recovers: replays outage 1
    assert not first.degraded
    first.write(patch(b.id, 10, None, status="open"))  # reopened in Postgres
    pg_conn.execute("DELETE FROM incidents WHERE id = %s", (c.id,))  # C removed meanwhile
    first.close()

    second = auto(proxied_url, tmp_path, clock)  # "process" two
    proxy.cut()
    stale = second.get_incident(b.id)  # the fallback's stale copy: resolved
    assert second.degraded and stale.status == "resolved"
    second.write(patch(b.id, 15, stale.updated_at, title="Edited offline"))
    second.write(patch(c.id, 16, c.updated_at, title="C edited offline"))  # Postgres refuses
    second.write(WriteBatch(events=(f.event(b),)))
    proxy.restore()
    clock.now += 60
    final = second.get_incident(b.id)

    assert (final.status, final.title) == ("open", "Edited offline")  # the reopen survives
    timeline = [e.meta.get("to") for e in second.events(b.id) if e.type == "status_change"]
    assert timeline == ["resolved", "open"]
    assert len(second.events(b.id)) == 3
    conflicts = [
        json.loads(x) for x in (tmp_path / "replay.conflicts.jsonl").read_text().splitlines()
    ]
    assert [(x["incident_id"], x["fields"]) for x in conflicts] == [(b.id, ["title"])]
    (rejected,) = (tmp_path / "replay.jsonl.rejected").read_text().splitlines()
    assert "no such incident" in json.loads(rejected)["reason"]
    info = second.info()
    assert (info["pending_replay"], info["replay_rejected"], info["replay_conflicts"]) == (0, 1, 1)
    second.close()


def _replay(directory: str, url: str) -> None:
    store = PostgresIncidentStore.open(url)
    try:
        ReplayJournal(Path(directory)).replay(lambda b: store.write(b, upsert=True))
    finally:
        store.close()


def test_concurrent_replays_are_safe(tmp_path: Path, migrated_pg_url: str) -> None:
    journal = ReplayJournal(tmp_path)
    fallback = JsonlIncidentStore(tmp_path)
    incidents = [f.incident() for _ in range(20)]
    for inc in incidents:
        batch = WriteBatch(new_incidents=(inc,), events=(f.event(inc),))
        journal.record(batch, lambda b=batch: fallback.write(b))  # type: ignore[misc]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_replay, args=(str(tmp_path), migrated_pg_url)) for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 6
    with psycopg.connect(migrated_pg_url) as conn:
        row = conn.execute("SELECT count(*) FROM incidents").fetchone()
    assert row == (20,)
    assert not (tmp_path / "replay.jsonl").exists()
