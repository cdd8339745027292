"""Poison records: whatever one record holds, decoding it never fails the read.

A record that cannot be decoded, for any reason, is that record corrupt:
skipped, reported as ``path:line`` (Postgres: ``table[key]``), and listed in the
gate's ``skipped`` (what its fail-closed rule counts). A follow-up event whose
``meta.due`` is malformed (5, null, a list) is such a record: the model refuses it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gatekeeper.errors import InvalidInput
from gatekeeper.store import WriteBatch
from gatekeeper.store.bundle import read_bundle
from gatekeeper.store.journal import ReplayJournal
from gatekeeper.store.jsonl import JsonlIncidentStore, encode
from gatekeeper.store.postgres import PostgresIncidentStore

from . import factories as f

SINCE = f.T0 - timedelta(days=1)
DEEP = "[" * 2000 + "]" * 2000


def _line_with(record: bytes, key: str, raw_value: str) -> bytes:
    """``record`` (one encoded line) with ``key`` set to the raw JSON ``raw_value``."""
    data = json.loads(record)
    data[key] = "__POISON__"
    return json.dumps(data).replace('"__POISON__"', raw_value).encode() + b"\n"


@pytest.mark.parametrize("due", [5, None, [1, 2], {"at": "2026-03-05"}, "99999-01-01"])
def test_a_malformed_followup_due_is_a_skipped_record_on_jsonl(tmp_path: Path, due: Any) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    inc = f.incident(severity="P0")
    added = f.followup(inc, "fu_1", title="Add alert", due="2026-03-05")
    store.write(WriteBatch(new_incidents=(inc,), events=(added,)))
    later = f.followup(inc, "fu_1", ts=added.ts + timedelta(minutes=1), due="2026-03-06")
    record = json.loads(encode(later))
    record["meta"]["due"] = due
    with (tmp_path / "events.jsonl").open("ab") as handle:
        handle.write(json.dumps(record).encode() + b"\n")

    read = store.gate_read("prod", ["checkout"], SINCE)

    [followup] = read.records["checkout"].followups
    assert followup.due.date().isoformat() == "2026-03-05"  # the previous value stands
    assert [(Path(p.path).name, p.line) for p in read.skipped] == [("events.jsonl", 2)]
    assert [(Path(p.path).name, p.line) for p in store.verify()] == [("events.jsonl", 2)]


@pytest.mark.parametrize("due", [5, None, [1, 2]])
def test_a_malformed_followup_due_is_a_skipped_record_on_postgres(
    pg_store: PostgresIncidentStore, pg_conn: psycopg.Connection[tuple[object, ...]], due: Any
) -> None:
    inc = f.incident(severity="P0")
    added = f.followup(inc, "fu_1", title="Add alert", due="2026-03-05")
    later = f.followup(inc, "fu_1", ts=added.ts + timedelta(minutes=1), due="2026-03-06")
    pg_store.write(WriteBatch(new_incidents=(inc,), events=(added, later)))
    meta = json.dumps({**later.meta, "due": due})
    pg_conn.execute("UPDATE incident_events SET meta = %s::jsonb WHERE id = %s", (meta, later.id))

    read = pg_store.gate_read("prod", ["checkout"], SINCE)

    [followup] = read.records["checkout"].followups
    assert followup.due.date().isoformat() == "2026-03-05"
    assert [p.path for p in read.skipped] == [f"incident_events[{later.id}]"]
    assert [p.path for p in pg_store.verify()] == [f"incident_events[{later.id}]"]


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("meta", '{"followup_id": "fu_9", "deep": ' + DEEP + "}"),
        ("ts", '"0001-01-01T00:00:00+01:00"'),
        ("ts", '"9999-12-31T23:00:00-02:00"'),
    ],
    ids=["2000-deep", "before-year-1", "after-year-9999"],
)
def test_a_poisoned_followup_event_is_skipped_listed_and_verified(
    tmp_path: Path, key: str, raw: str
) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    inc = f.incident(severity="P0")
    kept = f.followup(inc, "fu_1", title="Add alert", due="2026-03-05")
    store.write(WriteBatch(new_incidents=(inc,), events=(kept,)))
    with (tmp_path / "events.jsonl").open("ab") as handle:
        handle.write(_line_with(encode(f.followup(inc, "fu_9", title="x")), key, raw))

    read = store.gate_read("prod", ["checkout"], SINCE)

    assert [u.followup_id for u in read.records["checkout"].followups] == ["fu_1"]
    assert [(Path(p.path).name, p.line) for p in read.skipped] == [("events.jsonl", 2)]
    assert [(Path(p.path).name, p.line) for p in store.verify()] == [("events.jsonl", 2)]


def test_a_postgres_event_row_the_model_refuses_is_listed_by_the_gate_and_verify(
    pg_store: PostgresIncidentStore, pg_conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    inc = f.incident(severity="P0")
    kept = f.followup(inc, "fu_1", title="Add alert")
    bad = f.followup(inc, "fu_2", title="Bad")
    pg_store.write(WriteBatch(new_incidents=(inc,), events=(kept, bad)))
    pg_conn.execute("UPDATE incident_events SET meta = '[1, 2]' WHERE id = %s", (bad.id,))

    read = pg_store.gate_read("prod", ["checkout"], SINCE)

    assert [u.followup_id for u in read.records["checkout"].followups] == ["fu_1"]
    assert [p.path for p in read.skipped] == [f"incident_events[{bad.id}]"]
    assert [p.path for p in pg_store.verify()] == [f"incident_events[{bad.id}]"]


def test_a_2000_deep_bundle_line_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bundle.jsonl"
    header = {"format": "gatekeeper-bundle", "version": 1, "exported_at": "x", "source": "jsonl"}
    record = json.loads(encode(f.event(f.incident())))
    line = json.dumps({"type": "event", "record": record})
    path.write_text(json.dumps(header) + "\n" + line[:-2] + ', "deep": ' + DEEP + "}}\n")
    with pytest.raises(InvalidInput) as caught:
        read_bundle(path)
    assert caught.value.where == f"{path}:2"


def test_a_2000_deep_journal_line_is_kept_aside_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "replay.jsonl").write_text('{"events": ' + DEEP + "}\n")
    journal = ReplayJournal(tmp_path)
    batches, rejected, problems = journal.read()
    assert (batches, len(rejected), [p.line for p in problems]) == ([], 1, [1])
