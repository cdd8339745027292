"""Concurrent writers: 8 processes appending events through the store's write path,
against the baseline of one plain-Python loop appending fsync'd lines to a file.
Then the cost of updates as patches (the latest version re-read under the lock)
against whole-version updates (no read under the lock, the old way), on stores
of a few sizes, each as a ratio to the same baseline.

    python -m bench.writers
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gatekeeper.models import Event, Incident, new_event_id
from gatekeeper.store import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore, encode
from gatekeeper.store.patch import make_patch

NOW = datetime(2026, 6, 1, tzinfo=UTC)
INCIDENT = Incident(
    id="inc_20260601_0000_bench1",
    service="svc-000",
    env="prod",
    severity="P1",
    title="bench",
    started_at=NOW,
    created_at=NOW,
    updated_at=NOW,
    created_by="helion",
)


def _event(n: int) -> Event:
    return Event(
        id=new_event_id(),
        incident_id=INCIDENT.id,
        ts=NOW,
        recorded_at=NOW,
        type="note",
        message=f"note {n}",
        actor="helion",
    )


def _writer(directory: str, count: int, ready: Any, go: Any) -> None:
    store = JsonlIncidentStore(directory)
    events = [_event(n) for n in range(count)]
    ready.release()
    go.wait()
    for event in events:
        store.write(WriteBatch(events=(event,)))


def plain_appends(path: Path, count: int) -> float:
    """Records/s of the simplest durable loop: append a line, flush, fsync."""
    lines = [encode(_event(n)) for n in range(count)]
    start = time.perf_counter()
    with path.open("ab") as handle:
        for line in lines:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    return count / (time.perf_counter() - start)


def single_writer(directory: Path, count: int) -> float:
    """Records/s of one process writing one event per ``store.write`` (lock, fsync, index)."""
    store = JsonlIncidentStore(directory)
    store.write(WriteBatch(new_incidents=(INCIDENT,)))
    events = [_event(n) for n in range(count)]
    start = time.perf_counter()
    for event in events:
        store.write(WriteBatch(events=(event,)))
    return count / (time.perf_counter() - start)


def create_batches(directory: Path, count: int) -> float:
    """Batches/s of one process creating incidents, each with its opening event.

    Two files per batch: on JSONL this is the atomic-batch path (intent file).
    """
    store = JsonlIncidentStore(directory)
    batches = []
    for n in range(count):
        incident = INCIDENT.model_copy(update={"id": f"inc_20260601_0000_{n:06d}"})
        opened = _event(n).model_copy(update={"incident_id": incident.id, "type": "status_change"})
        batches.append(WriteBatch(new_incidents=(incident,), events=(opened,)))
    start = time.perf_counter()
    for batch in batches:
        store.write(batch)
    return count / (time.perf_counter() - start)


def concurrent_writers(directory: Path, writers: int, per_writer: int) -> float:
    JsonlIncidentStore(directory).write(WriteBatch(new_incidents=(INCIDENT,)))
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [
        ctx.Process(target=_writer, args=(str(directory), per_writer, ready, go))
        for _ in range(writers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()  # every writer has started and built its records
    start = time.perf_counter()
    go.set()
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - start
    written = sum(1 for _ in (directory / "events.jsonl").open("rb"))
    assert written == writers * per_writer, f"lost records: {written}"
    return written / elapsed


def _seeded(directory: Path, incidents: int) -> list[Incident]:
    seeded = [
        INCIDENT.model_copy(update={"id": f"inc_20260601_0000_{n:06d}", "title": f"bench {n}"})
        for n in range(incidents)
    ]
    JsonlIncidentStore(directory).write(WriteBatch(new_incidents=tuple(seeded)))
    return seeded


def updates(directory: Path, incidents: int, count: int, *, as_patches: bool) -> float:
    """Updates/s on a store of ``incidents``: patches (read under the lock) or whole versions."""
    seeded = _seeded(directory, incidents)
    store = JsonlIncidentStore(directory)
    batches = []
    for n in range(count):
        target = seeded[n % len(seeded)]
        if as_patches:
            patch = make_patch(incident_id=target.id, fields={"title": f"edit {n}"},
                               updated_at=NOW, actor="helion")  # fmt: skip
            batches.append(WriteBatch(patches=(patch,)))
        else:
            batches.append(WriteBatch(updated_incidents=(target.model_copy(
                update={"title": f"edit {n}"}),)))  # fmt: skip
    start = time.perf_counter()
    for batch in batches:
        store.write(batch)
    return count / (time.perf_counter() - start)


def compare_updates(count: int = 300, sizes: tuple[int, ...] = (100, 2000)) -> None:
    """Print updates/s before (whole versions) and after (patches under the lock)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = plain_appends(Path(tmp) / "plain.jsonl", count)
        rows = []
        for size in sizes:
            before = updates(Path(tmp) / f"whole{size}", size, count, as_patches=False)
            after = updates(Path(tmp) / f"patch{size}", size, count, as_patches=True)
            rows.append((size, before, after))
    print(f"\nupdates ({count}, one per write)                 records/s  ×baseline")
    print(f"baseline: plain single-writer fsync loop        {base:9.0f}")
    for size, before, after in rows:
        print(
            f"{size:5d} incidents, whole versions (before)    {before:9.0f}  {before / base:8.2f}"
        )
        print(f"{size:5d} incidents, patches under lock (after) {after:9.0f}  {after / base:8.2f}")


def compare_writers(writers: int = 8, per_writer: int = 200) -> None:
    """Print records/s: the plain fsync loop, one gatekeeper writer, ``writers`` at once.

    The clock starts once every writer process is up and has built its records,
    so process start-up is not counted.
    """
    total = writers * per_writer
    with tempfile.TemporaryDirectory() as tmp:
        base = plain_appends(Path(tmp) / "plain.jsonl", total)
        one = single_writer(Path(tmp) / "single", total)
        many = concurrent_writers(Path(tmp) / "store", writers, per_writer)
        creates = create_batches(Path(tmp) / "creates", total // 4)
    print(f"\nwriters ({total} events, one per write)          records/s  ×baseline")
    print(f"baseline: plain single-writer fsync loop    {base:9.0f}")
    print(f"1 gatekeeper writer (one process)           {one:9.0f}  {one / base:8.2f}")
    print(f"{writers} gatekeeper writers at once (processes)   {many:9.0f}  {many / base:8.2f}")
    print(f"creates: incident + event per write (batches) {creates:9.0f}  {creates / base:8.2f}")


if __name__ == "__main__":
    compare_writers()
    compare_updates()
