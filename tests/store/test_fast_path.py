"""The JSONL store's fast paths agree with a naive full scan (docs/performance.md).

Random small stores are built the way real ones are: through ``store.write``
(which keeps the sidecar index current), mixed with lines other tools append by
hand (other spacing, ``\\u`` escapes, damaged records, a torn tail), which leave
the index stale until the next write rebuilds it. Every query is answered three
ways and compared: as the store is (index or scan), with the index deleted
(byte prefilters only), and by the naive scan written below (every line through
``json.loads`` + ``model_validate``, last version wins, filters in plain Python).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from gatekeeper.errors import NotFound
from gatekeeper.models import Artifact, Event, Incident, Record
from gatekeeper.store import IncidentFilter, Problem, WriteBatch, jsonl_scan
from gatekeeper.store.base import GateRead, newest_first_key, service_records
from gatekeeper.store.jsonl import JsonlIncidentStore, encode
from gatekeeper.store.jsonl_index import INDEX, snapshot
from gatekeeper.store.jsonl_reader import damage_matters
from gatekeeper.store.jsonl_scan import (
    field_value,
    incident_id_guess,
    leading_value,
    may_match,
    quoted,
)
from tests.store.factories import T0, artifact, changed, event, followup, incident

R = TypeVar("R", bound=Record)
SERVICES = ["svc-a", "svc-b", "svc-ab"]  # "svc-a" is inside "svc-ab": needles must be quoted
ENVS = ["prod", "staging"]
FILES = ("incidents.jsonl", "events.jsonl", "artifacts.jsonl")


# -- the naive reader -------------------------------------------------------------


def naive_records(path: Path, model: type[R]) -> Iterator[R]:
    """Every valid record of ``path``; the last line counts only if it ends in a newline."""
    if not path.exists():
        return
    for line in path.read_bytes().split(b"\n")[:-1]:
        try:
            yield model.model_validate(json.loads(line))
        except ValueError:
            continue


@dataclass
class Naive:
    directory: Path
    incidents: dict[str, Incident] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for found in naive_records(self.directory / FILES[0], Incident):
            self.incidents[found.id] = found
        self.events = list(naive_records(self.directory / FILES[1], Event))
        self.artifacts = list(naive_records(self.directory / FILES[2], Artifact))

    def gate(self, env: str, services: list[str], since: datetime) -> Any:
        relevant = [
            i
            for i in self.incidents.values()
            if i.service in services and i.env == env and (i.active or i.started_at >= since)
        ]
        ids = {i.id for i in relevant}
        events = [e for e in self.events if e.incident_id in ids]
        artifacts = [a for a in self.artifacts if a.incident_id in ids]
        return service_records(env, services, relevant, events, artifacts)

    def listed(self, query: IncidentFilter) -> list[Incident]:
        found = sorted(
            (i for i in self.incidents.values() if query.matches(i)),
            key=newest_first_key,
            reverse=True,
        )
        return found if query.limit is None else found[: query.limit]

    def timeline(self, incident_id: str) -> list[Event]:
        mine = [e for e in self.events if e.incident_id == incident_id]
        return sorted(mine, key=lambda e: (e.ts, e.recorded_at, e.id))


# -- building random stores -------------------------------------------------------


def _versions(draw: st.DrawFn, first: Incident) -> list[Incident]:
    """Later versions: scope changes and changes no query looks at."""
    out = [first]
    for _ in range(draw(st.integers(0, 3))):
        changes: dict[str, Any] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "service": st.sampled_from(SERVICES),
                    "env": st.sampled_from(ENVS),
                    "status": st.sampled_from(["open", "mitigated", "resolved", "closed"]),
                    "severity": st.sampled_from(["P0", "P1", "P2", "P3"]),
                    "title": st.sampled_from(['"svc-a" in quotes', "svc-b", "renamed"]),
                    "labels": st.sampled_from([{}, {"id": "x"}, {"env": "prod"}]),
                },
            )
        )
        out.append(changed(out[-1], **changes))
    return out


def _foreign(record: Record, draw: st.DrawFn) -> bytes:
    """The record as another tool might append it: valid, but not our compact form."""
    style = draw(st.sampled_from(["spaced", "reordered", "escaped", "values escaped"]))
    data = record.to_json_dict()
    if style == "spaced":
        return json.dumps(data).encode() + b"\n"
    if style == "reordered":
        return (
            json.dumps(dict(reversed(list(data.items()))), separators=(",", ":")).encode() + b"\n"
        )
    line = encode(record)
    if style == "escaped":  # every "-" and "_" escaped: no quoted needle survives
        return line.replace(b"-", b"\\u002d").replace(b"_", b"\\u005f")
    # only the values queries look for escaped; ids stay plain
    for value in (b'"svc-', b'"prod"', b'"followup"'):
        line = line.replace(value, value[:2] + b"\\u%04x" % value[2] + value[3:])
    return line


def _damaged(record: Record, draw: st.DrawFn) -> bytes:
    line = encode(record)
    kind = draw(st.sampled_from(["cut", "bad field", "garbage", "blank", "type quote"]))
    if kind == "type quote":  # '"type":"followup' (or any type): the line is no longer JSON
        return line.replace(b'"type":"followup"', b'"type":"followup').replace(b'"id":"', b'"id:"')
    if kind == "cut":
        return line[: draw(st.integers(1, len(line) - 2))] + b"\n"
    if kind == "bad field":
        return line.replace(b'"ts":"', b'"ts":"never').replace(b'"severity":"', b'"severity":"X')
    return b"not json at all\n" if kind == "garbage" else b"  \n"


def _edit_in_place(path: Path) -> None:
    """A hand edit that keeps the size: every "svc-a" becomes "svc-b" and back."""
    data = path.read_bytes()
    swapped = data.replace(b'"svc-a"', b'"svc-x"').replace(b'"svc-b"', b'"svc-a"')
    with path.open("r+b") as handle:  # the same file (inode), rewritten
        handle.write(swapped.replace(b'"svc-x"', b'"svc-b"'))
    # A person edits seconds after the last write; the file's clock moves on.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def build_store(directory: Path, draw: st.DrawFn) -> None:
    """A few incidents with versions, follow-ups and artifacts, and lines added by hand.

    Ids and texts are fixed by position, so every run of an example writes the
    same bytes (hypothesis replays and shrinks examples).
    """
    store = JsonlIncidentStore(directory, on_problem=lambda _p: None)
    serial = itertools.count(1)

    def note(of: Incident, **fields: Any) -> Event:
        return event(of, id=f"evt_{next(serial):016x}", message="about the followup", **fields)

    def update(of: Incident, n: int, **meta: Any) -> Event:
        return note(of, ts=of.started_at, type="followup", meta={"followup_id": f"fu_{n}", **meta})

    for n in range(draw(st.integers(1, 5))):
        start = T0 - timedelta(days=draw(st.integers(0, 60)))
        first = incident(
            id=f"inc_{start:%Y%m%d_%H%M}_{n:06d}",
            title="Checkout errors",
            started_at=start,
            service=draw(st.sampled_from(SERVICES)),
            env=draw(st.sampled_from(ENVS)),
            status=draw(st.sampled_from(["open", "resolved"])),
        )
        versions = _versions(draw, first)
        events = [update(first, n, title="t", owner="o", due="2026-03-05"), note(first)]
        if draw(st.booleans()):
            events.append(update(first, n, status="done"))
        store.write(
            WriteBatch(new_incidents=(first,), events=tuple(events), artifacts=(artifact(first),))
        )
        for version in versions[1:]:
            if draw(st.booleans()):
                store.write(WriteBatch(updated_incidents=(version,)))
            else:
                _append(directory / FILES[0], _foreign(version, draw))
        for _ in range(draw(st.integers(0, 2))):
            record: Record = draw(st.sampled_from([versions[-1], *events]))
            name = FILES[0] if isinstance(record, Incident) else FILES[1]
            _append(directory / name, _damaged(record, draw))
        if draw(st.booleans()):
            _append(directory / FILES[1], _foreign(update(first, n, status="open"), draw))
    # A write makes the index current (rebuilding it over every line so far);
    # an edit in place then makes it stale again, until the next write.
    for step in draw(st.sampled_from(["", "w", "e", "we", "ew", "wew"])):
        if step == "w":
            store.write(WriteBatch(events=(note(first),)))
        else:
            _edit_in_place(directory / FILES[0])
    if draw(st.booleans()):
        name = draw(st.sampled_from(FILES))
        _append(directory / name, b'{"id":"inc_2026')  # a writer died mid-line


# -- the comparison -------------------------------------------------------------------


def _queries(draw: st.DrawFn) -> IncidentFilter:
    return IncidentFilter(
        status=draw(st.none() | st.frozensets(st.sampled_from(["open", "mitigated", "closed"]))),
        service=draw(st.none() | st.sampled_from(SERVICES)),
        env=draw(st.none() | st.sampled_from(ENVS)),
        severity=draw(st.none() | st.frozensets(st.sampled_from(["P0", "P1", "P3"]))),
        since=draw(st.none() | st.just(T0 - timedelta(days=30))),
        until=draw(st.none() | st.just(T0 - timedelta(days=5))),
        limit=draw(st.sampled_from([None, 1, 3])),
    )


def _check_reports(directory: Path, reported: list[Problem], must: set[int]) -> None:
    """Reported lines are damaged ones (verify agrees); ``must`` (line numbers) all are."""
    every = set(JsonlIncidentStore(directory).verify())
    assert set(reported) <= every
    incidents = str(directory / FILES[0])
    assert must <= {p.line for p in reported if p.path == incidents}


def _damaged_gate_lines(directory: Path, env: str, services: list[str]) -> set[int]:
    """Damaged incident lines holding a requested service and the env: always reported."""
    path = directory / FILES[0]
    problems = [p for p in JsonlIncidentStore(directory).verify() if p.path == str(path)]
    lines = path.read_bytes().split(b"\n")
    torn = {p.line for p in problems if p.reason.startswith("torn")}
    return torn | {
        p.line
        for p in problems
        if f'"{env}"'.encode() in lines[p.line - 1]
        and any(f'"{s}"'.encode() in lines[p.line - 1] for s in services)
    }


def _lines(path: Path) -> Iterator[tuple[int, int, bytes, bool]]:
    """``(offset, line number, line, damaged)`` of every complete line, parsed the naive way."""
    if not path.exists():
        return
    offset = 0
    models: dict[str, type[BaseModel]] = {FILES[0]: Incident, FILES[1]: Event, FILES[2]: Artifact}
    model = models[path.name]
    for number, line in enumerate(path.read_bytes().split(b"\n")[:-1], start=1):
        damaged = False
        if line.strip():
            try:
                model.model_validate(json.loads(line))
            except ValueError:
                damaged = True
        yield offset, number, line, damaged
        offset += len(line) + 1


def _torn(path: Path) -> set[tuple[str, int]]:
    if not path.exists() or path.read_bytes().endswith(b"\n") or not path.read_bytes():
        return set()
    return {(str(path), path.read_bytes().count(b"\n") + 1)}


def naive_skipped(
    directory: Path, env: str, services: list[str], found: dict[str, int]
) -> set[tuple[str, int]]:
    """The damaged lines a full read cannot rule out as irrelevant to the gate.

    ``found``: the id of every incident the gate found, with the offset of its
    latest valid version. An incident line is irrelevant when it holds no quoted
    service or env (nor an escape), and it is not after the latest version of a
    found incident it may belong to (its id, or any when its id is unreadable).
    An event or artifact line is irrelevant when its bytes name an incident not
    found; a damaged event of a found incident may have been a follow-up, whatever
    its bytes say now. Torn tails of files read: always.
    """
    groups = [[quoted(s) for s in services], [quoted(env)]]
    kept = {key.encode(): pos for key, pos in found.items()}
    path = directory / FILES[0]
    out = _torn(path)
    for offset, number, line, damaged in _lines(path):
        key = leading_value(line, b'"id"')
        if damaged and (may_match(line, groups) or damage_matters(offset, key, kept)):
            out.add((str(path), number))
    if not found:
        return out
    ids = {key.encode() for key in found}
    for name, field_key in ((FILES[1], b'"incident_id"'), (FILES[2], b'"incident_id"')):
        path = directory / name
        out |= _torn(path)
        for _offset, number, line, damaged in _lines(path):
            if not damaged:
                continue
            if name == FILES[1]:  # any type: the damage may have hit "type":"followup"
                value = field_value(line, field_key)
            else:
                value = leading_value(line, field_key)
            if value is None or value in ids:
                out.add((str(path), number))
    return out


def _latest_positions(directory: Path, ids: set[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for offset, _number, line, damaged in _lines(directory / FILES[0]):
        if line.strip() and not damaged:
            record = Incident.model_validate(json.loads(line))
            if record.id in ids:
                positions[record.id] = offset
    return positions


def decision(read: GateRead) -> str:
    """What a strict gate answers from a read: damage it cannot rule out fails closed."""
    if read.skipped:
        return "error"
    active = any(i.active for record in read.records.values() for i in record.incidents)
    return "block" if active else "pass"


def _compare(directory: Path, data: st.DataObject) -> None:
    naive = Naive(directory)
    since = T0 - timedelta(days=data.draw(st.sampled_from([1, 20, 90])))
    for env in ENVS:
        for services in [*([s] for s in SERVICES), SERVICES]:
            reported: list[Problem] = []
            store = JsonlIncidentStore(directory, on_problem=reported.append)
            expected_records = naive.gate(env, services, since)
            found = {i.id for record in expected_records.values() for i in record.incidents}
            expected = GateRead(
                expected_records,
                backend="jsonl",
                location=str(directory),
                skipped=tuple(
                    Problem(path, line, "")
                    for path, line in sorted(
                        naive_skipped(directory, env, services, _latest_positions(directory, found))
                    )
                ),
            )
            read = store.gate_read(env, services, since)
            assert read.records == expected.records
            assert {(p.path, p.line) for p in read.skipped} == {
                (p.path, p.line) for p in expected.skipped
            }
            assert len(read.skipped) == len(expected.skipped)  # each reported once
            assert decision(read) == decision(expected)
            _check_reports(directory, reported, _damaged_gate_lines(directory, env, services))

    reported = []
    store = JsonlIncidentStore(directory, on_problem=reported.append)
    query = _queries(cast(st.DrawFn, data.draw))
    assert store.list_incidents(query) == naive.listed(query)
    for incident_id in [*naive.incidents, "inc_20260301_1000_zzzzzz"]:
        assert store.events(incident_id) == naive.timeline(incident_id)
        if incident_id in naive.incidents:
            assert store.get_incident(incident_id) == naive.incidents[incident_id]
        else:
            with pytest.raises(NotFound):
                store.get_incident(incident_id)
    _check_reports(directory, reported, set())


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fast_paths_agree_with_a_naive_full_scan(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    directory = tmp_path_factory.mktemp("store")
    build_store(directory, cast(st.DrawFn, data.draw))
    # Small blocks: the block-wise prefilters see lines cut across blocks, and
    # blocks where every line is compact next to blocks holding a foreign line.
    block = data.draw(st.sampled_from([64, 512, jsonl_scan.BLOCK]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl_scan, "BLOCK", block)
        patch.setattr(jsonl_scan, "SPLIT_BLOCK", block)
        _compare(directory, data)  # the index when it is current, else the scan
        (directory / INDEX).unlink(missing_ok=True)
        _compare(directory, data)  # the byte prefilters alone


# -- the index: when it is used, and what it survives -----------------------------------


def _indexed(directory: Path) -> bool:
    with snapshot(directory) as snap:
        return snap is not None


def _gate(store: JsonlIncidentStore, service: str = "svc-a") -> list[str]:
    return [i.id for i in store.gate_records("prod", [service], T0)[service].incidents]


def test_the_index_is_used_only_while_it_describes_the_files(store_dir: Path) -> None:
    store = JsonlIncidentStore(store_dir)
    first = incident(service="svc-a")
    store.write(WriteBatch(new_incidents=(first,)))
    assert _indexed(store_dir)

    moved = changed(first, service="svc-b")  # another tool appends a later version
    _append(store_dir / FILES[0], encode(moved))
    assert not _indexed(store_dir)
    assert _gate(store) == [] and _gate(store, "svc-b") == [first.id]

    store.write(WriteBatch(events=(event(first),)))  # the next write re-reads the file
    assert _indexed(store_dir)
    assert _gate(store) == [] and _gate(store, "svc-b") == [first.id]

    store.compact()  # a new incidents file: indexed again under the same lock
    assert _indexed(store_dir)
    assert _gate(store, "svc-b") == [first.id]

    _append(store_dir / FILES[1], encode(event(first)))
    assert not _indexed(store_dir)
    store.reindex()  # without writing a record
    assert _indexed(store_dir)

    copy = store_dir.parent / "copy"
    shutil.copytree(store_dir, copy)  # other inodes: the copied index is not trusted
    assert not _indexed(copy)
    assert _gate(JsonlIncidentStore(copy), "svc-b") == [first.id]


@pytest.fixture
def no_scanning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the gate's scan fail, to show an answer came from the index."""

    def scan(*_args: object) -> None:
        raise AssertionError("scanned although the index matches")

    monkeypatch.setattr(JsonlIncidentStore, "_scanned_gate", scan)


@pytest.mark.usefixtures("no_scanning")
def test_damaged_lines_are_reported_from_the_index_as_a_scan_reports_them(
    store_dir: Path,
) -> None:
    store = JsonlIncidentStore(store_dir)
    good = incident(service="svc-a")
    store.write(WriteBatch(new_incidents=(good,)))
    bad = encode(changed(good)).replace(b'"severity":"P1"', b'"severity":"P9"')
    _append(store_dir / FILES[0], b"not json\n" + bad)
    _append(store_dir / FILES[1], encode(followup(good, "fu_1")).replace(b'"ts":"', b'"ts":"x'))
    store.write(WriteBatch(events=(followup(good, "fu_2", title="t", owner="o"),)))
    assert _indexed(store_dir)

    reported: list[Problem] = []
    indexed = JsonlIncidentStore(store_dir, on_problem=reported.append)
    assert _gate(indexed) == [good.id]
    assert set(reported) == set(JsonlIncidentStore(store_dir).verify())
    assert sorted(str(p).split(": skipped")[0] for p in reported) == [
        f"{store_dir / FILES[1]}:1",
        f"{store_dir / FILES[0]}:2",
        f"{store_dir / FILES[0]}:3",
    ]


def test_an_index_that_points_at_the_wrong_lines_is_caught(store_dir: Path) -> None:
    store = JsonlIncidentStore(store_dir)
    records = [incident(service="svc-a"), incident(service="svc-b")]
    store.write(WriteBatch(new_incidents=tuple(records)))
    with sqlite3.connect(store_dir / INDEX) as con:  # swap where the two ids live
        con.execute("UPDATE incidents SET pos = (SELECT max(pos) FROM incidents) - pos")
    assert _gate(store) == [records[0].id]
    assert store.get_incident(records[1].id) == records[1]
    assert store.list_incidents(IncidentFilter(service="svc-b")) == [records[1]]


@pytest.mark.parametrize("damage", ["garbage", "other version", "written before a reboot"])
def test_an_unusable_index_file_is_ignored_then_rebuilt(store_dir: Path, damage: str) -> None:
    store = JsonlIncidentStore(store_dir)
    first = incident(service="svc-a")
    store.write(WriteBatch(new_incidents=(first,)))
    if damage == "garbage":
        (store_dir / INDEX).write_bytes(b"this is not a database" * 100)
    else:
        with sqlite3.connect(store_dir / INDEX) as con:
            if damage == "other version":
                con.execute("PRAGMA user_version = 99")
            else:  # written without fsync: a machine that stopped may have lost some of it
                con.execute("UPDATE files SET boot = 'an earlier boot'")
    assert not _indexed(store_dir)
    assert _gate(store) == [first.id]
    store.write(WriteBatch(events=(event(first),)))
    assert _indexed(store_dir)
    assert _gate(store) == [first.id]


def test_a_damaged_line_never_makes_its_id_exist(store_dir: Path) -> None:
    """Writes look ids up by a byte slice; a damaged line with that id is not a record."""
    store = JsonlIncidentStore(store_dir, on_problem=lambda _p: None)
    first = incident()
    note = event(first)
    _append(store_dir / FILES[0], encode(first).replace(b'"P1"', b'"P9"'))
    _append(store_dir / FILES[1], encode(note).replace(b'"ts":"', b'"ts":"x'))
    store.write(WriteBatch(new_incidents=(first,)))  # no Conflict
    store.write(WriteBatch(events=(note,)), upsert=True)  # not skipped as present
    assert store.get_incident(first.id) == first
    assert store.events(first.id) == [note]


@pytest.mark.parametrize(
    ("line", "value"),
    [
        (b'{"id":"inc_1","title":"x"}\n', b"inc_1"),
        (b'{"id": "inc_1"}\n', None),  # other spacing
        (b'{"id":"inc_1","labels":{"id":"inc_2"}}\n', None),  # a nested key
        (b'{"id":"inc_1","id":"inc_2"}\n', None),  # a duplicate: JSON keeps the last
        (b'{"id":"inc\\u005f1"}\n', None),  # an escape
        (b'{"title":"x","id":"inc_1"}\n', None),  # another key first
    ],
)
def test_a_leading_value_is_sliced_only_when_certain(line: bytes, value: bytes | None) -> None:
    assert leading_value(line, b'"id"') == value


@pytest.mark.parametrize(
    ("line", "guess"),
    [
        (b'{"id":"inc_20260301_1000_000001","title":"x"}\n', b"inc_20260301_1000_000001"),
        (b'{"id": "inc_20260301_1000_000001"}\n', None),  # other spacing
        (b'{"id":"inc_20260301_1000_000001","id":"inc_20260301_1000_000002"}\n', None),
        (b'{"title":"x","id":"inc_20260301_1000_000001"}\n', None),  # another key first
        (b'{"id":"inc_1","title":"a longer title"}\n', b'inc_1","title":"a longer'),  # invalid id
    ],
)
def test_an_incident_id_is_guessed_only_when_a_wrong_guess_is_harmless(
    line: bytes, guess: bytes | None
) -> None:
    assert incident_id_guess(line) == guess


@pytest.mark.usefixtures("no_scanning")
def test_the_index_reads_a_long_line_in_linear_time(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A label of many MiB via the index: the bytes read grow with the line, not its square.

    Counted, not timed (so a loaded machine cannot fail it): reading a 16 MiB
    line reads at most about twice its length. A quadratic read (growing a
    buffer by 8 KiB and reading or searching all of it each time) reads
    gigabytes for the same line.
    """
    import os

    store = JsonlIncidentStore(store_dir)
    size = 16 << 20
    long = incident(service="svc-a", labels={"note": "x" * size})
    store.write(WriteBatch(new_incidents=(long,)))
    assert _indexed(store_dir)
    read: list[int] = []
    pread = os.pread

    def counting(fd: int, length: int, offset: int) -> bytes:
        chunk = pread(fd, length, offset)
        read.append(len(chunk))
        return chunk

    monkeypatch.setattr(os, "pread", counting)
    assert _gate(store) == [long.id]
    assert read, "the index read path was not taken"
    assert sum(read) < 2 * size + (1 << 20), f"{sum(read)} bytes in {len(read)} reads"
    assert len(read) < 40
