"""The gate's read says what it skipped and whether it came from a fallback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from gatekeeper.errors import StoreUnavailable
from gatekeeper.models import Event, Incident
from gatekeeper.store.auto import AutoIncidentStore
from gatekeeper.store.base import IncidentFilter
from gatekeeper.store.jsonl import JsonlIncidentStore, encode
from gatekeeper.store.postgres import PostgresIncidentStore
from gatekeeper.store.writes import WriteBatch
from tests.store.conftest import UNREACHABLE_URL
from tests.store.tcp_proxy import TcpProxy

from . import factories as f


def test_jsonl_gate_read_lists_each_corrupt_line(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept = f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(kept,)))
    with (tmp_path / "incidents.jsonl").open("ab") as handle:
        handle.write(b'{"id": "inc_20260301_1000_999999", "severity": "P0 "}\n')

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert [i.id for i in read.records["checkout"].incidents] == [kept.id]
    assert [(Path(p.path).name, p.line) for p in read.skipped] == [("incidents.jsonl", 2)]
    assert (read.backend, read.degraded) == ("jsonl", False)
    assert read.location == str(tmp_path)


def _write_with_followup(store: JsonlIncidentStore) -> Incident:
    kept = f.incident(severity="P0")
    store.write(
        WriteBatch(
            new_incidents=(kept,),
            events=(f.followup(kept, "fu_1", title="Fix", owner="ana", status="open"),),
            artifacts=(f.artifact(kept),),
        )
    )
    return kept


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("events.jsonl", b'{"id":"evt_x","type":"followup","incident_id":"%s","ts":5}\n'),
        ("events.jsonl", b'{"id":"evt_x","type":"followup","incident_id":"%s","ts":"2026-'),
        ("artifacts.jsonl", b'{"incident_id":"%s","name":"postmortem.md","size_bytes":-1}\n'),
        ("artifacts.jsonl", b'{"incident_id":"%s","name":"postm'),
        ("incidents.jsonl", b'{"id":"%s","service":"checkout","env":"prod","sev'),
    ],
)
def test_jsonl_gate_read_lists_damage_in_every_file_and_torn_tails(
    tmp_path: Path, name: str, damage: bytes
) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept = _write_with_followup(store)
    with (tmp_path / name).open("ab") as handle:
        handle.write(damage % kept.id.encode())

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert [i.id for i in read.records["checkout"].incidents] == [kept.id]
    assert [(Path(p.path).name, p.line) for p in read.skipped] == [(name, 2)]


@pytest.mark.parametrize(
    "poison",
    [
        b'"started_at":"0001-01-01T00:00:00+01:00"',
        b'"started_at":"9999-12-31T23:00:00-02:00"',
        b'"labels":' + b"[" * 3000 + b"]" * 3000,
    ],
)
def test_poison_records_are_skipped_not_fatal(tmp_path: Path, poison: bytes) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept = f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(kept,)))
    line = (tmp_path / "incidents.jsonl").read_bytes().rstrip(b"\n")
    bad = line.replace(b'"id":"' + kept.id.encode(), b'"id":"inc_20260301_1000_777777', 1)
    bad = bad[:-1] + b"," + poison + b"}\n"
    with (tmp_path / "incidents.jsonl").open("ab") as handle:
        handle.write(bad)

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert [i.id for i in read.records["checkout"].incidents] == [kept.id]
    assert [(Path(p.path).name, p.line) for p in read.skipped] == [("incidents.jsonl", 2)]
    assert [(Path(p.path).name, p.line) for p in store.verify()] == [("incidents.jsonl", 2)]


def test_postgres_gate_read_lists_rows_the_model_refuses(
    pg_store: PostgresIncidentStore, pg_conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    kept = f.incident(severity="P0")
    bad = f.incident(severity="P0")
    pg_store.write(WriteBatch(new_incidents=(kept, bad)))
    pg_conn.execute("UPDATE incidents SET title = %s WHERE id = %s", ("", bad.id))

    read = pg_store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert [i.id for i in read.records["checkout"].incidents] == [kept.id]
    assert [p.path for p in read.skipped] == [f"incidents[{bad.id}]"]
    assert "title" in read.skipped[0].reason
    assert [p.path for p in pg_store.verify()] == [f"incidents[{bad.id}]"]


def test_auto_gate_read_cut_mid_read_is_degraded(
    tmp_path: Path, proxied_url: str, proxy: TcpProxy
) -> None:
    store = AutoIncidentStore(
        JsonlIncidentStore(tmp_path, on_problem=lambda _p: None),
        lambda: PostgresIncidentStore.open(proxied_url),
        retry_s=3600,
        warn=lambda _m: None,
    )
    kept = f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(kept,)))
    assert not store.degraded
    JsonlIncidentStore(tmp_path).init(f.T0)  # the fallback is a store (written in an outage)
    proxy.cut_when_sent(b"type = 'followup'")  # the second query of the gate's snapshot

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert proxy.cuts == 1
    assert (read.backend, read.degraded) == ("auto", True)
    assert read.degraded_reason
    assert read.records["checkout"].incidents == []  # the fallback's answer, flagged as such
    store.close()


def test_auto_gate_read_healthy_is_not_degraded(tmp_path: Path, migrated_pg_url: str) -> None:
    store = AutoIncidentStore(
        JsonlIncidentStore(tmp_path),
        lambda: PostgresIncidentStore.open(migrated_pg_url),
        retry_s=3600,
        warn=lambda _m: None,
    )
    kept = f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(kept,)))
    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))
    assert (read.backend, read.degraded, read.skipped) == ("auto", False, ())
    assert [i.id for i in read.records["checkout"].incidents] == [kept.id]
    store.close()


def test_auto_gate_read_with_a_fallback_that_is_not_a_store_is_unavailable(
    tmp_path: Path,
) -> None:
    store = AutoIncidentStore(
        JsonlIncidentStore(tmp_path),
        lambda: PostgresIncidentStore.open(UNREACHABLE_URL),
        retry_s=3600,
        warn=lambda _m: None,
    )
    with pytest.raises(StoreUnavailable, match="postgres unavailable .* not an incident store"):
        store.gate_read("prod", ["checkout"], f.T0)


@pytest.mark.parametrize("content", [None, b"", b"# notes\n"])
def test_a_directory_that_is_not_a_store_is_unavailable_for_the_gate(
    tmp_path: Path, content: bytes | None
) -> None:
    if content is not None:
        (tmp_path / ".gitkeep").write_bytes(content)
    store = JsonlIncidentStore(tmp_path)
    with pytest.raises(StoreUnavailable, match="store init"):
        store.gate_read("prod", ["checkout"], f.T0)
    assert store.list_incidents(IncidentFilter()) == []  # other commands still work
    store.init(f.T0)
    assert store.gate_read("prod", ["checkout"], f.T0).skipped == ()
    assert json.loads((tmp_path / "store.json").read_bytes())["format_version"] == 1


def test_a_store_without_manifest_reads_and_gets_one_on_next_write(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    old = f.incident(severity="P0")
    (tmp_path / "incidents.jsonl").write_bytes(encode(old))
    assert [
        i.id for i in store.gate_read("prod", ["checkout"], f.T0).records["checkout"].incidents
    ] == [old.id]
    assert not (tmp_path / "store.json").exists()
    store.write(WriteBatch(events=(f.event(old),)))
    marks = json.loads((tmp_path / "store.json").read_bytes())["files"]
    assert marks["incidents.jsonl"] == {"bytes": len(encode(old)), "records": 1}
    assert marks["events.jsonl"]["records"] == 1


@pytest.mark.parametrize("how", ["truncate", "delete", "shorter"])
def test_a_file_below_its_high_water_is_damage(tmp_path: Path, how: str) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    first, second = f.incident(severity="P0"), f.incident(severity="P1")
    store.write(WriteBatch(new_incidents=(first,)))
    store.write(WriteBatch(new_incidents=(second,)))
    path = tmp_path / "incidents.jsonl"
    size = path.stat().st_size
    if how == "truncate":
        path.write_bytes(b"")
    elif how == "delete":
        path.unlink()
    else:  # every remaining line parses
        path.write_bytes(encode(first))

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    remaining = path.stat().st_size if path.exists() else 0
    expected = f"truncated: {remaining} bytes < high-water {size}"
    assert [(Path(p.path).name, p.reason) for p in read.skipped] == [("incidents.jsonl", expected)]
    assert expected in [p.reason for p in store.verify()]
    store.compact()  # a legitimate rewrite starts the marks again
    assert store.gate_read("prod", ["checkout"], f.T0).skipped == ()


def test_verify_reports_orphan_events_and_artifacts(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept, gone = f.incident(), f.incident()
    store.write(WriteBatch(new_incidents=(kept,), events=(f.event(kept),)))
    store.write(WriteBatch(events=(f.event(gone),), artifacts=(f.artifact(gone),)))
    found = [(Path(p.path).name, p.line, p.reason) for p in store.verify()]
    reason = f"orphan: incident {gone.id} is not in the store"
    assert found == [("events.jsonl", 2, reason), ("artifacts.jsonl", 1, reason)]


def _spaced_followup_line(of: Incident, followup_id: str, *, nested_first: bool) -> str:
    """A valid follow-up line: its ``incident_id`` spaced, a compact one nested in ``meta``."""
    data = json.loads(encode(f.followup(of, followup_id, title="Fix", owner="ana", status="open")))
    del data["incident_id"]
    data["meta"]["incident_id"] = "inc_20260101_0000_other0"
    body = json.dumps(data, separators=(",", ":"))
    own = f'"incident_id": "{of.id}"'
    return ("{" + own + "," + body[1:]) if not nested_first else (body[:-1] + "," + own + "}")


@pytest.mark.parametrize("indexed", [True, False], ids=["index", "scan"])
def test_a_hand_written_followup_with_a_nested_incident_id_is_read(
    tmp_path: Path, indexed: bool
) -> None:
    """Reading the nested compact value as the line's incident would skip a follow-up
    of the gate's incident: the byte tests must treat a key seen twice as unclear."""
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept = f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(kept,)))
    with (tmp_path / "events.jsonl").open("a") as handle:
        handle.write(_spaced_followup_line(kept, "fu_8", nested_first=True) + "\n")
        handle.write(_spaced_followup_line(kept, "fu_9", nested_first=False) + "\n")
    if indexed:
        store.reindex()
    else:
        (tmp_path / ".index.sqlite3").unlink(missing_ok=True)

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert sorted(fu.followup_id for fu in read.records["checkout"].followups) == ["fu_8", "fu_9"]
    assert read.skipped == ()


def _keys_first(record: Incident | Event, *keys: str) -> bytes:
    """``record``'s compact line with ``keys`` moved to the front, in that order.

    With a string of the right width among them, the bytes where a compact line
    holds its id then look like one: the same width, the same quotes. A block
    test that checked only that shape, not the key before it, would read that
    slice as the line's id.
    """
    data = record.to_json_dict()
    order = {**{key: data[key] for key in keys}, **data}
    return json.dumps(order, separators=(",", ":")).encode() + b"\n"


def test_a_followup_whose_id_slot_holds_another_field_is_read(tmp_path: Path) -> None:
    """``{"id":"evt_…","message":"<28 bytes>",…,"incident_id":"<kept>"}``: at the
    offset where its neighbours hold ``"incident_id":"…"``, a slice of the same
    shape holds the message. Reading it as an id would leave out an overdue
    follow-up of the gate's incident: a pass where it must block."""
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept, other = f.incident(severity="P0"), f.incident(service="search")
    store.write(WriteBatch(new_incidents=(kept, other), events=(f.event(other),)))
    due = f.followup(kept, "fu_7", title="t", owner="o", due="2026-03-05", status="open")
    line = _keys_first(due.model_copy(update={"message": "m" * 28}), "id", "message")
    assert line.index(b'"message"') == encode(due).index(b'"incident_id"')  # the id slot
    with (tmp_path / "events.jsonl").open("ab") as handle:
        handle.write(encode(f.event(other)) + line + encode(f.event(other)))
    (tmp_path / ".index.sqlite3").unlink()

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert [fu.followup_id for fu in read.records["checkout"].followups] == ["fu_7"]
    assert read.skipped == ()


def test_a_later_version_whose_id_slot_holds_its_title_supersedes(tmp_path: Path) -> None:
    """A version written title first (``{"title":"<21 bytes>",…}``) holds, where a
    compact line's id is, a slice shaped like one. Read as an id, it would hide
    this later version of the kept incident, which moved it out of the gate's env."""
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept = f.incident(severity="P0", title="t" * 21)  # '{"title":"' + 21 = '{"id":"' + 24
    store.write(WriteBatch(new_incidents=(kept, f.incident(service="search"))))
    moved = f.changed(kept, env="staging")
    with (tmp_path / "incidents.jsonl").open("ab") as handle:
        handle.write(_keys_first(moved, "title"))
    (tmp_path / ".index.sqlite3").unlink()

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert list(read.records["checkout"].incidents) == []
    assert read.skipped == ()


@pytest.mark.parametrize("cut", [7, 12, 31])
@pytest.mark.parametrize("indexed", [True, False], ids=["index", "scan"])
def test_an_incident_line_cut_short_after_a_kept_one_is_reported(
    tmp_path: Path, indexed: bool, cut: int
) -> None:
    """``{"id":"`` and nothing more looks like a compact line to a block test; its id
    cannot be read, so it may be a newer version of the kept incident: reported."""
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    kept = f.incident(severity="P0")
    store.write(WriteBatch(new_incidents=(kept,)))
    line = encode(kept)
    with (tmp_path / "incidents.jsonl").open("ab") as handle:
        handle.write(line[:cut] + b"\n")
    if indexed:
        store.reindex()
    else:
        (tmp_path / ".index.sqlite3").unlink(missing_ok=True)

    read = store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1))

    assert [i.id for i in read.records["checkout"].incidents] == [kept.id]
    assert [(Path(p.path).name, p.line) for p in read.skipped] == [("incidents.jsonl", 2)]
