"""Atomic batches on JSONL: whole or absent after a crash, a refused write writes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest

from gatekeeper.artifacts import ArtifactFile
from gatekeeper.errors import StoreUnavailable
from gatekeeper.models import Event, Incident
from gatekeeper.store import IncidentFilter, WriteBatch, jsonl_batch, jsonl_maintenance
from gatekeeper.store.jsonl import JsonlIncidentStore, encode
from tests.conftest import CliRun

from . import factories as f

EVENTS_PER_INCIDENT = 3


def _create_batch(n: int) -> tuple[Incident, tuple[Event, ...]]:
    inc = f.incident(id=f"inc_20260301_1000_{n:06d}", title=f"kill loop {n}")
    opened = f.event(inc, type="status_change", meta={"from": None, "to": "open"})
    notes = tuple(f.event(inc, message="x" * random.randint(10, 30_000)) for _ in range(2))
    return inc, (opened, *notes)


def _attach_batch(store_dir: Path, inc: Incident, n: int) -> WriteBatch:
    content = (f"# Postmortem {n}\n" + "y" * random.randint(10, 50_000)).encode()
    meta = f.artifact(inc, content=content)
    event = f.event(inc, type="artifact", meta={"name": meta.name, "sha256": meta.sha256})
    file = ArtifactFile.of(store_dir, meta, content)
    return WriteBatch(artifacts=(meta,), events=(event,), files=(file,))


def _writer_loop(store_dir: Path, first: int) -> None:
    """Create incidents with events, then attach an artifact to each, until killed."""
    store = JsonlIncidentStore(store_dir, on_problem=lambda _p: None)
    n = first
    while True:
        inc, events = _create_batch(n)
        store.write(WriteBatch(new_incidents=(inc,), events=events))
        store.write(_attach_batch(store_dir, inc, n))
        n += 1


def _check_whole(store_dir: Path, *, pending: bool = False) -> int:
    """Every incident has all its events; every artifact record its event; returns #incidents.

    ``pending``: a killed writer's batch is still there, and ``verify`` names only that.
    """
    store = JsonlIncidentStore(store_dir, on_problem=lambda p: pytest.fail(str(p)))
    incidents = list(store.iter_incidents())
    ids = {i.id for i in incidents}
    for inc in incidents:
        events = store.events(inc.id)
        kinds = sorted(e.type for e in events)
        artifacts = store.artifacts(inc.id)
        expected = ["note", "note", "status_change"]
        if artifacts:
            expected = ["artifact", *expected]
        assert kinds == expected, (inc.id, kinds, artifacts)
        for artifact in artifacts:
            [attached] = [e for e in events if e.type == "artifact"]
            assert attached.meta["sha256"] == artifact.sha256
    assert {e.incident_id for e in store.iter_events()} <= ids
    assert {a.incident_id for a in store.iter_artifacts()} <= ids
    expected_problems = [str(store_dir / jsonl_batch.INTENT)] if pending else []
    assert [p.path for p in store.verify()] == expected_problems
    return len(incidents)


def test_sigkill_at_random_points_leaves_every_batch_whole_or_absent(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    JsonlIncidentStore(store_dir).init(f.T0)
    rounds, started, seen_pending, first = 0, time.monotonic(), 0, 0
    while rounds < 40 and time.monotonic() - started < 25:
        pid = os.fork()
        if pid == 0:  # the writer
            try:
                random.seed(os.getpid())
                _writer_loop(store_dir, first)
            finally:
                os._exit(1)
        time.sleep(random.uniform(0.005, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        rounds += 1
        was_pending = jsonl_batch.pending(store_dir)
        seen_pending += was_pending

        # Readers hide a batch cut short, before recovery; verify reports it.
        before = _check_whole(store_dir, pending=was_pending)
        inc, events = _create_batch(900_000 + rounds)  # the next write recovers first
        store = JsonlIncidentStore(store_dir, on_problem=lambda p: pytest.fail(str(p)))
        store.write(WriteBatch(new_incidents=(inc,), events=events))
        assert _check_whole(store_dir) == before + 1
        assert not jsonl_batch.pending(store_dir)
        assert sorted(p.name for p in store_dir.rglob("*.tmp")) == []
        for artifact in store.iter_artifacts():  # published bytes match their metadata
            data = (store_dir / artifact.incident_id / artifact.name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == artifact.sha256
        first = 1000 * rounds
    assert seen_pending > 0  # some kills really cut a batch (about a third do)
    assert rounds >= 30, rounds
    assert _check_whole(store_dir) > rounds  # the writers really wrote


def _pending_state(store_dir: Path, *, complete: bool) -> tuple[Incident, Incident]:
    """A store with one committed incident and a batch whose writer died part-way."""
    store = JsonlIncidentStore(store_dir, on_problem=lambda _p: None)
    kept, lost = f.incident(), f.incident()
    store.write(WriteBatch(new_incidents=(kept,), events=(f.event(kept),)))
    payloads = {"events.jsonl": encode(f.event(lost)), "incidents.jsonl": encode(lost)}
    spans = {}
    for name, payload in payloads.items():
        size = (store_dir / name).stat().st_size
        spans[name] = jsonl_batch.Span(
            size, size + len(payload), hashlib.sha256(payload).hexdigest()
        )
    intent = jsonl_batch.Intent(spans, ())
    (store_dir / jsonl_batch.INTENT).write_bytes(intent.to_json())
    with (store_dir / "events.jsonl").open("ab") as handle:
        handle.write(payloads["events.jsonl"])
    with (store_dir / "incidents.jsonl").open("ab") as handle:
        handle.write(payloads["incidents.jsonl"] if complete else payloads["incidents.jsonl"][:-1])
    return kept, lost


def test_readers_hide_a_cut_batch_and_the_next_write_rolls_it_back(tmp_path: Path) -> None:
    kept, lost = _pending_state(tmp_path, complete=False)
    store = JsonlIncidentStore(tmp_path, on_problem=lambda p: pytest.fail(str(p)))
    assert [i.id for i in store.list_incidents(IncidentFilter())] == [kept.id]
    assert store.events(lost.id) == []  # its event is in the file, but not committed
    [problem] = store.verify()  # reported, not resolved: verify writes nothing
    assert problem.path == str(tmp_path / jsonl_batch.INTENT)
    assert "interrupted" in problem.reason and "next write" in problem.reason
    assert str(problem).startswith(f"{tmp_path / jsonl_batch.INTENT}:0: pending batch (")
    assert jsonl_batch.pending(tmp_path)
    assert lost.id.encode() in (tmp_path / "events.jsonl").read_bytes()
    store.write(WriteBatch(events=(f.event(kept),)))
    assert not jsonl_batch.pending(tmp_path)
    assert lost.id.encode() not in (tmp_path / "events.jsonl").read_bytes()
    assert lost.id.encode() not in (tmp_path / "incidents.jsonl").read_bytes()
    assert store.verify() == []


def test_the_gate_reads_up_to_where_a_pending_batch_began(tmp_path: Path) -> None:
    kept, lost = _pending_state(tmp_path, complete=False)
    store = JsonlIncidentStore(tmp_path, on_problem=lambda p: pytest.fail(str(p)))
    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))
    assert [i.id for i in read.records["checkout"].incidents] == [kept.id]
    assert read.skipped == ()  # a batch in flight is not damage: it is simply not there yet
    assert jsonl_batch.pending(tmp_path)  # the gate's read resolves nothing either


def test_store_verify_prints_a_pending_batch_as_one_line_and_exits_1(
    tmp_path: Path, run_cli: CliRun
) -> None:
    _pending_state(tmp_path, complete=False)
    result = run_cli("--store-dir", str(tmp_path), "store", "verify")
    assert result.exit_code == 1
    intent = tmp_path / jsonl_batch.INTENT
    assert result.stdout.splitlines() == [
        f"{intent}:0: pending batch ({jsonl_maintenance.PENDING_REASON})"
    ]
    assert jsonl_batch.pending(tmp_path)
    JsonlIncidentStore(tmp_path).reindex()  # takes the lock: the batch is undone
    again = run_cli("--store-dir", str(tmp_path), "store", "verify")
    assert (again.exit_code, again.stdout) == (0, "ok: no damaged records\n")


def test_a_complete_batch_whose_writer_died_before_the_commit_is_rolled_forward(
    tmp_path: Path,
) -> None:
    kept, lost = _pending_state(tmp_path, complete=True)
    store = JsonlIncidentStore(tmp_path, on_problem=lambda p: pytest.fail(str(p)))
    assert {i.id for i in store.list_incidents(IncidentFilter())} == {kept.id, lost.id}
    assert [p.path for p in store.verify()] == [str(tmp_path / jsonl_batch.INTENT)]
    store.write(WriteBatch(events=(f.event(kept),)))
    assert not jsonl_batch.pending(tmp_path)
    assert len(store.events(lost.id)) == 1
    assert store.verify() == []


def test_a_refused_event_append_stores_no_incident_and_a_retry_makes_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JsonlIncidentStore(tmp_path)
    store.init(f.T0)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    inc = f.incident()
    real = jsonl_batch._write_all
    calls = []

    def failing(fd: int, payload: bytes, path: Path) -> None:
        calls.append(path.name)
        real(fd, payload, path)
        if path.name == "incidents.jsonl":
            raise StoreUnavailable("write failed: No space left on device", where=str(path))

    monkeypatch.setattr(jsonl_batch, "_write_all", failing)
    with pytest.raises(StoreUnavailable, match="No space left"):
        store.write(WriteBatch(new_incidents=(inc,), events=(f.event(inc),)))
    assert calls == ["events.jsonl", "incidents.jsonl"]  # both were written, then undone
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    cache = {".index.sqlite3", ".lock"}  # the index is a cache: it may learn the files' state
    assert {n: d for n, d in after.items() if d and n not in cache} == {
        n: d for n, d in before.items() if d and n not in cache
    }
    monkeypatch.setattr(jsonl_batch, "_write_all", real)
    store.write(WriteBatch(new_incidents=(inc,), events=(f.event(inc),)))  # the retry
    assert [i.id for i in store.iter_incidents()] == [inc.id]
    assert len(store.events(inc.id)) == 1
    assert store.verify() == []


def test_a_batch_refused_at_open_writes_nothing(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path)
    store.init(f.T0)
    os.mkfifo(tmp_path / "events.jsonl")
    inc = f.incident()
    with pytest.raises(StoreUnavailable, match="not a regular file"):
        store.write(WriteBatch(new_incidents=(inc,), events=(f.event(inc),)))
    assert not (tmp_path / "incidents.jsonl").exists()
    assert not jsonl_batch.pending(tmp_path)


def test_a_symlinked_artifact_folder_is_refused_and_nothing_written_outside(
    tmp_path: Path,
) -> None:
    from gatekeeper.incidents import IncidentService
    from gatekeeper.rbac import load_rbac

    store_dir, outside = tmp_path / "store", tmp_path / "outside"
    outside.mkdir()
    store = JsonlIncidentStore(store_dir)
    inc = f.incident()
    store.write(WriteBatch(new_incidents=(inc,), events=(f.event(inc),)))
    (store_dir / inc.id).symlink_to(outside, target_is_directory=True)
    lines_before = (store_dir / "events.jsonl").read_bytes()
    meta = f.artifact(inc)
    batch = WriteBatch(
        artifacts=(meta,), files=(ArtifactFile.of(store_dir, meta, b"# Postmortem\n"),)
    )
    with pytest.raises(StoreUnavailable, match="artifact folder is a symlink") as caught:
        store.write(batch)
    assert "\n" not in str(caught.value)
    service = IncidentService(store, load_rbac(tmp_path), store_dir, agent="helion")
    with pytest.raises(StoreUnavailable, match="artifact folder is a symlink"):
        service.attach_artifact(inc.id, "postmortem.md", b"# PM\n", now=f.T0 + timedelta(hours=1))
    assert list(outside.iterdir()) == []
    assert store.artifacts(inc.id) == []
    assert (store_dir / "events.jsonl").read_bytes() == lines_before


def test_an_unterminated_valid_last_line_is_served_and_verify_names_it(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda p: pytest.fail(str(p)))
    first, second = f.incident(), f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(first,)))
    path = tmp_path / "incidents.jsonl"
    with path.open("ab") as handle:  # a hand edit that forgot the last newline
        handle.write(encode(second).rstrip(b"\n"))

    assert store.get_incident(second.id) == second
    assert {i.id for i in store.list_incidents(IncidentFilter())} == {first.id, second.id}
    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))
    assert read.skipped == ()
    assert {i.id for i in read.records["checkout"].incidents} == {first.id, second.id}
    [problem] = JsonlIncidentStore(tmp_path).verify()
    assert (problem.line, problem.reason.startswith("no newline at end")) == (2, True)

    third = f.incident()
    store.write(WriteBatch(new_incidents=(third,)))  # adds the newline first
    assert path.read_bytes().count(b"\n") == 3
    assert [i.id for i in store.iter_incidents()] == [first.id, second.id, third.id]
    assert store.verify() == []


def test_an_unterminated_last_line_shorter_than_its_high_water_is_still_damage(
    tmp_path: Path,
) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    first, second = f.incident(severity="P0"), f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(first,)))
    store.write(WriteBatch(new_incidents=(second,)))
    path = tmp_path / "incidents.jsonl"
    size = path.stat().st_size
    path.write_bytes(encode(first).rstrip(b"\n"))  # rewritten shorter; its last line parses

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))
    assert [i.id for i in read.records["checkout"].incidents] == [first.id]
    assert [p.reason for p in read.skipped] == [
        f"truncated: {path.stat().st_size} bytes < high-water {size}"
    ]


def test_the_scan_path_and_the_index_agree_on_an_unterminated_tail(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda p: pytest.fail(str(p)))
    first, second = f.incident(), f.incident()
    store.write(WriteBatch(new_incidents=(first,), events=(f.followup(first, "fu_1", title="a"),)))
    with (tmp_path / "events.jsonl").open("ab") as handle:
        handle.write(encode(f.followup(first, "fu_2", title="b")).rstrip(b"\n"))
    with (tmp_path / "incidents.jsonl").open("ab") as handle:
        handle.write(encode(second).rstrip(b"\n"))
    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))
    assert {i.id for i in read.records["checkout"].incidents} == {first.id, second.id}
    assert {u.followup_id for u in read.records["checkout"].followups} == {"fu_1", "fu_2"}
    store.reindex()  # the index never describes a file with an unterminated tail
    again = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))
    assert again.records == read.records


def test_the_intent_is_json_naming_each_file_span(tmp_path: Path) -> None:
    intent = jsonl_batch.Intent({"events.jsonl": jsonl_batch.Span(0, 5, "ab")}, ())
    (tmp_path / jsonl_batch.INTENT).write_bytes(intent.to_json())
    data = json.loads((tmp_path / jsonl_batch.INTENT).read_bytes())
    assert data == {
        "files": {"events.jsonl": {"from": 0, "to": 5, "sha256": "ab"}},
        "artifacts": [],
    }
    assert jsonl_batch.visible_sizes(tmp_path) == {"events.jsonl": 0}


def test_a_planted_intent_link_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    store_dir, victim = tmp_path / "store", tmp_path / "victim.txt"
    victim.write_bytes(b"keep me\n")
    store = JsonlIncidentStore(store_dir)
    store.init(f.T0)
    (store_dir / jsonl_batch.INTENT).symlink_to(victim)
    inc = f.incident()
    with pytest.raises(StoreUnavailable):
        store.write(WriteBatch(new_incidents=(inc,), events=(f.event(inc),)))
    assert victim.read_bytes() == b"keep me\n"
    assert not (store_dir / "incidents.jsonl").exists()
