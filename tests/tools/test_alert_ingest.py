"""``oncall_tool.alert_ingest``: every field checked, one bad item rejects the batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.config import Settings
from gatekeeper.store.postgres import PostgresIncidentStore
from gatekeeper.tools import handle
from tests.conftest import NOW, tree_digest
from tests.tools.conftest import Call, envelope, error

GOOD = {"source": "prom", "service": "gateway", "env": "prod", "severity": "P2", "title": "5xx"}


def _ingest(call: Call, *alerts: Any, agent: str = "helion", **extra: Any) -> dict[str, Any]:
    return call(envelope("alert_ingest", agent, alerts=list(alerts), **extra))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"severity": "P9"}, "alerts[1]: severity: Input should be 'P0', 'P1', 'P2', 'P3' or 'P4'"),
        ({"service": "Gate Way"}, "alerts[1]: service: "),
        ({"env": ""}, "alerts[1]: env: "),
        ({"title": "a\x07b"}, "alerts[1]: title: "),
        ({"source": ""}, "alerts[1]: source: "),
        ({"status": "gone"}, "alerts[1]: status: "),
        ({"labels": {"team": 1}}, "alerts[1]: labels.team: "),
        ({"received_at": "yesterday"}, "alerts[1]: received_at: "),
        ({"fingerprint": ""}, "alerts[1]: fingerprint: "),
        ({"colour": "red"}, "alerts[1]: colour: unknown field"),
    ],
)
def test_each_field_is_checked_and_a_bad_item_rejects_the_batch(
    call: Call, store_dir: Path, bad: dict[str, Any], message: str
) -> None:
    before = tree_digest(store_dir)
    code, text = error(_ingest(call, GOOD, {**GOOD, **bad}))
    assert code == "invalid"
    assert text.startswith(message) and "\n" not in text
    assert tree_digest(store_dir) == before


def test_missing_fields_and_non_objects_are_named(call: Call, store_dir: Path) -> None:
    missing = {k: v for k, v in GOOD.items() if k != "title"}
    assert error(_ingest(call, missing))[1].startswith("alerts[0]: title: ")
    assert error(_ingest(call, GOOD, 5)) == ("invalid", "alerts[1]: expected a JSON object")
    assert error(_ingest(call))[0] == "invalid"  # an empty batch
    assert not (store_dir / "alerts.jsonl").exists()


def test_ingested_alerts_are_triaged_like_alerts_add(
    call: Call, store_dir: Path, settings: Settings
) -> None:
    answer = _ingest(call, GOOD, {**GOOD, "title": "5XX"}, {**GOOD, "service": "billing"})
    assert answer["ok"] is True and answer["result"]["added"] == 3
    ids = [a["id"] for a in answer["result"]["alerts"]]
    fingerprints = [a["fingerprint"] for a in answer["result"]["alerts"]]
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]
    inbox = [json.loads(line) for line in (store_dir / "alerts.jsonl").read_text().splitlines()]
    assert [(r["id"], r["state"], r["ingested_by"]) for r in inbox] == [
        (i, "new", "helion") for i in ids
    ]
    assert inbox[0]["received_at"] == "2026-03-02T12:00:00Z"  # default: now


def test_dry_run_writes_nothing_and_read_only_agents_are_refused(
    call: Call, store_dir: Path
) -> None:
    before = tree_digest(store_dir)
    assert _ingest(call, GOOD, dry_run=True)["result"]["added"] == 1
    assert error(_ingest(call, GOOD, agent="monitor"))[0] == "forbidden"
    assert tree_digest(store_dir) == before


def test_on_postgres_the_batch_goes_to_the_alerts_table(
    migrated_pg_url: str, tmp_path: Path
) -> None:
    import psycopg

    settings = Settings(backend="postgres", database_url=migrated_pg_url,
                        store_dir=tmp_path / "store", policy=tmp_path / "no-policy")  # fmt: skip
    store = PostgresIncidentStore.open(migrated_pg_url)
    try:
        request = envelope("alert_ingest", "sofiia", alerts=[GOOD, {**GOOD, "env": "Prod"}])
        bad = handle(request, store=store, settings=settings, now=NOW)
        assert bad["ok"] is False and bad["error"]["message"].startswith("alerts[1]: env: ")
        request = envelope("alert_ingest", "sofiia", alerts=[GOOD, GOOD])
        good = handle(request, store=store, settings=settings, now=NOW)
        assert good["ok"] is True, good
    finally:
        store.close()
    with psycopg.connect(migrated_pg_url) as conn:
        rows = conn.execute("SELECT state, ingested_by FROM alerts").fetchall()
    assert rows == [("new", "sofiia"), ("new", "sofiia")]
    assert not (tmp_path / "store").exists()
