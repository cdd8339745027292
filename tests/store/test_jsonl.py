"""JSONL-specific behaviour: many writer processes, torn and corrupt lines, compaction, memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

from gatekeeper.models import Incident
from gatekeeper.store import IncidentFilter, Problem, WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore, encode
from tests.conftest import REPO, CliRun
from tests.store.factories import changed, event, incident

WRITERS = 6
EVENTS_EACH = 80

_APPEND_EVENTS = """
import sys
from datetime import UTC, datetime, timedelta
from gatekeeper.models import Event
from gatekeeper.store import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore

directory, incident_id, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = JsonlIncidentStore(directory)
t0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
for n in range(count):
    ts = t0 + timedelta(seconds=n)
    # 20 KB per record: far above PIPE_BUF, so only the lock keeps lines whole.
    message = f"w{worker}n{n}:" + "x" * 20_000
    store.write(WriteBatch(events=(Event(
        id=f"evt_{worker:08x}{n:08x}", incident_id=incident_id, ts=ts, recorded_at=ts,
        type="note", message=message, actor=f"w{worker}"),)))
"""


def run_python(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO)


def test_six_processes_appending_at_once_lose_and_corrupt_nothing(
    jsonl_store: JsonlIncidentStore, store_dir: Path
) -> None:
    inc = incident()
    jsonl_store.write(WriteBatch(new_incidents=(inc,)))
    writers = [
        run_python(_APPEND_EVENTS, str(store_dir), inc.id, str(w), str(EVENTS_EACH))
        for w in range(WRITERS)
    ]
    assert [p.wait(timeout=120) for p in writers] == [0] * WRITERS

    assert jsonl_store.verify() == []
    events = jsonl_store.events(inc.id)
    assert len(events) == WRITERS * EVENTS_EACH
    assert len({e.id for e in events}) == WRITERS * EVENTS_EACH
    assert all(e.message.endswith("x" * 20_000) for e in events)
    lines = (store_dir / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == WRITERS * EVENTS_EACH
    # The writers really ran at the same time: their records interleave in the file.
    actors = [json.loads(line)["actor"] for line in lines]
    switches = sum(1 for a, b in zip(actors, actors[1:], strict=False) if a != b)
    assert switches > 2 * WRITERS, switches


def test_a_torn_last_line_is_reported_and_new_writes_read_back_intact(
    jsonl_store: JsonlIncidentStore, store_dir: Path
) -> None:
    first, second = incident(), incident()
    jsonl_store.write(WriteBatch(new_incidents=(first,)))
    path = store_dir / "incidents.jsonl"
    with path.open("ab") as handle:  # a writer that died half-way through its line
        handle.write(encode(second)[:40])

    assert jsonl_store.verify() == [
        Problem(str(path), 2, "torn write: no newline at end"),
    ]
    third = incident()
    jsonl_store.write(WriteBatch(new_incidents=(third,)))

    assert jsonl_store.get_incident(third.id) == third
    assert [i.id for i in jsonl_store.iter_incidents()] == [first.id, third.id]
    [problem] = jsonl_store.verify()  # the fragment is now a line of its own
    assert (problem.line, problem.reason.startswith("not JSON")) == (2, True)


def _store_with_a_corrupt_middle_line(store_dir: Path) -> tuple[list[Incident], Path]:
    good = [incident(), incident(), incident()]
    bad = json.loads(encode(incident()))
    bad["severity"] = "P9"
    path = store_dir / "incidents.jsonl"
    path.write_bytes(
        encode(good[0])
        + b'{"id": "inc_2026\n'
        + json.dumps(bad).encode()
        + b"\n"
        + encode(good[1])
        + encode(good[2])
    )
    return good, path


def test_corrupt_lines_are_skipped_reported_and_the_rest_served(store_dir: Path) -> None:
    good, path = _store_with_a_corrupt_middle_line(store_dir)
    reported: list[Problem] = []
    store = JsonlIncidentStore(store_dir, on_problem=reported.append)

    listed = store.list_incidents(IncidentFilter(limit=None))

    assert sorted(i.id for i in listed) == sorted(i.id for i in good)
    assert [str(p) for p in reported] == [
        f"{path}:2: skipped corrupt record (not JSON: Unterminated string starting at: "
        "line 1 column 8 (char 7))",
        f"{path}:3: skipped corrupt record (severity: Input should be 'P0', 'P1', 'P2', "
        "'P3' or 'P4')",
    ]
    store.list_incidents(IncidentFilter())
    assert len(reported) == 2  # reported once per store, not on every read


def test_cli_reports_corrupt_lines_on_stderr_and_verify_lists_them(
    store_dir: Path, run_cli: CliRun
) -> None:
    good, path = _store_with_a_corrupt_middle_line(store_dir)

    info = run_cli("--store-dir", str(store_dir), "store", "info", "--format", "json")
    assert info.exit_code == 0
    assert json.loads(info.stdout)["incidents"] == len(good)
    assert info.stderr.splitlines() == [
        f"warning: {path}:2: skipped corrupt record (not JSON: Unterminated string starting "
        "at: line 1 column 8 (char 7))",
        f"warning: {path}:3: skipped corrupt record (severity: Input should be 'P0', 'P1', "
        "'P2', 'P3' or 'P4')",
    ]

    verify = run_cli("--store-dir", str(store_dir), "store", "verify")
    assert verify.exit_code == 1
    assert verify.stdout.splitlines() == [
        line.removeprefix("warning: ") for line in info.stderr.splitlines()
    ]
    assert verify.stderr == "gatekeeper: error: store verify found 2 damaged records\n"


def test_compact_keeps_latest_versions_and_moves_unparsable_lines_aside(
    store_dir: Path,
) -> None:
    good, path = _store_with_a_corrupt_middle_line(store_dir)
    store = JsonlIncidentStore(store_dir, on_problem=lambda _p: None)
    latest = changed(good[0], status="resolved")
    store.write(WriteBatch(updated_incidents=(latest,)))
    before = {i.id: i for i in store.iter_incidents()}
    inode = path.stat().st_ino

    result = store.compact()

    assert (result.lines_before, result.lines_after) == (6, 3)
    assert {i.id: i for i in store.iter_incidents()} == before
    assert store.get_incident(latest.id) == latest
    assert store.verify() == []
    assert len(path.read_bytes().splitlines()) == 3
    assert path.stat().st_ino != inode  # replaced by rename, never rewritten in place
    rejected = (store_dir / "incidents.jsonl.rejected").read_bytes().splitlines()
    assert len(rejected) == 2 and rejected[0] == b'{"id": "inc_2026'
    assert not list(store_dir.glob(".*.tmp"))


_UPDATE_LOOP = """
import sys
from datetime import timedelta
from gatekeeper.store import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore

directory, incident_id, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = JsonlIncidentStore(directory)
for n in range(1, rounds + 1):
    current = store.get_incident(incident_id)
    update = current.model_copy(update={
        "title": f"round {n}", "updated_at": current.updated_at + timedelta(seconds=1)})
    store.write(WriteBatch(updated_incidents=(update,)))
"""


def test_compaction_racing_writer_processes_loses_no_version(
    jsonl_store: JsonlIncidentStore, store_dir: Path
) -> None:
    incidents = [incident() for _ in range(3)]
    jsonl_store.write(WriteBatch(new_incidents=tuple(incidents)))
    writers = [run_python(_UPDATE_LOOP, str(store_dir), i.id, "60") for i in incidents]
    while any(p.poll() is None for p in writers):
        jsonl_store.compact()
    assert [p.wait(timeout=60) for p in writers] == [0, 0, 0]
    jsonl_store.compact()
    assert [jsonl_store.get_incident(i.id).title for i in incidents] == ["round 60"] * 3
    assert len((store_dir / "incidents.jsonl").read_bytes().splitlines()) == 3


def test_listing_streams_instead_of_holding_every_incident(
    jsonl_store: JsonlIncidentStore, store_dir: Path
) -> None:
    count = 3000
    big = "s" * 2000  # each record ~2.5 KB on disk, more once parsed
    records = [incident(summary=big, labels={"n": str(n)}) for n in range(count)]
    jsonl_store.write(WriteBatch(new_incidents=tuple(records)))
    file_size = (store_dir / "incidents.jsonl").stat().st_size
    assert file_size > 6_000_000

    tracemalloc.start()
    try:
        found = jsonl_store.list_incidents(IncidentFilter(limit=10))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(found) == 10
    # Holding every parsed incident would need more than the file's size.
    assert peak < file_size / 4, f"peak {peak} bytes for a {file_size}-byte file"


def test_events_of_one_incident_do_not_parse_the_others(
    jsonl_store: JsonlIncidentStore, store_dir: Path
) -> None:
    wanted, other = incident(), incident()
    jsonl_store.write(WriteBatch(new_incidents=(wanted, other)))
    jsonl_store.write(WriteBatch(events=tuple(event(other) for _ in range(50))))
    jsonl_store.write(WriteBatch(events=(event(wanted),)))
    with (store_dir / "events.jsonl").open("ab") as handle:
        handle.write(b"garbage that is not about the wanted incident\n")
    reported: list[Problem] = []
    store = JsonlIncidentStore(store_dir, on_problem=reported.append)
    assert len(store.events(wanted.id)) == 1
    assert reported == []  # the byte prefilter never even parsed the garbage


def test_events_of_skips_other_incidents_lines_and_reports_damage_that_may_be_theirs(
    jsonl_store: JsonlIncidentStore, store_dir: Path
) -> None:
    wanted, other = incident(), incident()
    jsonl_store.write(WriteBatch(new_incidents=(wanted, other)))
    jsonl_store.write(WriteBatch(events=tuple(event(other) for _ in range(50))))
    jsonl_store.write(WriteBatch(events=(event(wanted),)))
    with (store_dir / "events.jsonl").open("ab") as handle:
        handle.write(b'{"incident_id":"' + other.id.encode() + b'","ts": cut\n')
        handle.write(b'{"incident_id":"' + wanted.id.encode() + b'","ts": cut\n')
        handle.write(b"garbage with no readable incident id\n")
    reported: list[Problem] = []
    store = JsonlIncidentStore(store_dir, on_problem=reported.append)

    found = store.events_of([wanted.id])

    # The other incident's damaged line is plainly its own: never parsed, never reported.
    assert [p.line for p in reported] == [53, 54]
    assert list(found) == [wanted.id]
    assert found[wanted.id] == store.events(wanted.id)
