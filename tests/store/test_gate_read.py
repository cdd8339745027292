"""The gate's read says what it skipped and whether it came from a fallback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gatekeeper.store.base import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore

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
