"""The break-glass log (gate_overrides) is exported, imported and verified on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from gatekeeper.engine.audit import append_log
from gatekeeper.models import new_event_id
from gatekeeper.store import WriteBatch
from gatekeeper.store.bundle import export_bundle, import_bundle
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.overrides import LOG_FILE, iter_overrides
from gatekeeper.store.postgres import PostgresIncidentStore

from . import factories as f


def _entry(reason: str) -> dict[str, Any]:
    return {
        "id": new_event_id().replace("evt_", "gov_", 1),
        "ts": "2026-03-01T10:00:00Z",
        "env": "prod",
        "services": ["checkout"],
        "agent": "helion",
        "reason": reason,
        "no_strict": True,
        "gates": ["followup_watch"],
        "decision": "warn",
    }


def _bundle_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()[1:]]


def test_the_log_travels_jsonl_to_postgres_and_back_and_imports_once(
    tmp_path: Path, pg_store: PostgresIncidentStore, pg_conn: psycopg.Connection[Any]
) -> None:
    source = JsonlIncidentStore(tmp_path / "src")
    inc = f.incident()
    source.write(WriteBatch(new_incidents=(inc,)))
    entries = [_entry("hotfix for INC-1"), _entry("freeze exception")]
    for entry in entries:
        append_log(source, entry)
    exported = tmp_path / "a.jsonl"

    summary = export_bundle(source, exported, artifacts_dir=tmp_path, now=f.T0, warn=print)

    assert summary.gate_overrides == 2
    lines = _bundle_lines(exported)
    assert [line["record"]["reason"] for line in lines if line["type"] == "gate_override"] == [
        "hotfix for INC-1",
        "freeze exception",
    ]
    import_bundle(pg_store, exported, artifacts_dir=tmp_path)
    import_bundle(pg_store, exported, artifacts_dir=tmp_path)  # idempotent
    assert pg_conn.execute("SELECT count(*) FROM gate_overrides").fetchone() == (2,)
    again = tmp_path / "b.jsonl"
    export_bundle(pg_store, again, artifacts_dir=tmp_path, now=f.T0, warn=print)
    assert _bundle_lines(again) == lines  # the same records, whichever backend

    target = JsonlIncidentStore(tmp_path / "dst")
    import_bundle(target, again, artifacts_dir=tmp_path)
    import_bundle(target, again, artifacts_dir=tmp_path)
    assert [e.reason for e in iter_overrides(target, print)] == [
        "hotfix for INC-1",
        "freeze exception",
    ]
    assert len((tmp_path / "dst" / LOG_FILE).read_bytes().splitlines()) == 2
    assert target.verify() == [] and pg_store.verify() == []


def test_verify_names_a_damaged_jsonl_entry(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path, on_problem=lambda _p: None)
    store.init(f.T0)
    append_log(store, _entry("ok"))
    bad = _entry("")  # a reason is required
    with (tmp_path / LOG_FILE).open("ab") as handle:
        handle.write(json.dumps(bad).encode() + b"\n")
    problems = store.verify()
    assert [(Path(p.path).name, p.line) for p in problems] == [(LOG_FILE, 2)]
    assert "reason" in problems[0].reason


def test_verify_names_a_postgres_row_the_model_refuses(
    pg_store: PostgresIncidentStore, pg_conn: psycopg.Connection[Any]
) -> None:
    good, bad = _entry("ok"), _entry("ok too")
    append_log(pg_store, good)
    append_log(pg_store, bad)
    pg_conn.execute(
        "UPDATE gate_overrides SET entry = jsonb_set(entry, '{ts}', '\"99999-01-01\"')"
        " WHERE id = %s",
        (bad["id"],),
    )
    problems = pg_store.verify()
    assert [p.path for p in problems] == [f"gate_overrides[{bad['id']}]"]
    assert [e.id for e in iter_overrides(pg_store, lambda _p: None)] == [good["id"]]


def test_the_break_glass_log_has_one_name_and_its_model() -> None:
    """The reader names the log itself (so a read never builds GateOverride); the names agree."""
    from gatekeeper.engine import audit
    from gatekeeper.store import jsonl_reader, overrides

    assert jsonl_reader.OVERRIDES == overrides.LOG_FILE == audit.LOG_FILE
    assert jsonl_reader.model_of(overrides.LOG_FILE) is overrides.GateOverride
    assert jsonl_reader.model_of(jsonl_reader.EVENTS) is jsonl_reader.MODELS[jsonl_reader.EVENTS]
    assert jsonl_reader.model_of("no-such-file.jsonl") is None
