"""Several workers and concurrent HTTP writers: nothing lost, on JSONL and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Served, serve
from tests.store.conftest import migrated_pg_url, pg_schema, pg_server, pg_url  # noqa: F401

WRITERS = 8
EACH = 15


def hammer(served: Served) -> list[str]:
    """WRITERS threads each create EACH incidents and append an event to each."""
    url = f"{served.url}/v1/tools/oncall_tool"
    agents = ("sofiia", "helion")

    def writer(n: int) -> list[str]:
        headers = {"X-API-Key": served.keys[agents[n % 2]]}
        ids = []
        with httpx.Client(headers=headers, timeout=60) as client:
            for i in range(EACH):
                params = {"service": f"svc{n}", "env": "prod", "severity": "P3",
                          "title": f"writer {n} incident {i}"}  # fmt: skip
                created = client.post(url, json={"action": "incident_create", "params": params})
                assert created.status_code == 200, created.text
                incident_id = created.json()["result"]["id"]
                event = {"incident_id": incident_id, "type": "note", "message": f"{n}/{i}"}
                appended = client.post(
                    url, json={"action": "incident_append_event", "params": event}
                )
                assert appended.status_code == 200, appended.text
                ids.append(incident_id)
        return ids

    with ThreadPoolExecutor(WRITERS) as pool:
        return [i for ids in pool.map(writer, range(WRITERS)) for i in ids]


def assert_nothing_lost(served: Served, ids: list[str]) -> None:
    listed = served.call("oncall_tool", {"action": "incident_list", "params": {"limit": 1000}})
    assert {i["id"] for i in listed.json()["result"]["incidents"]} == set(ids)
    assert len(set(ids)) == WRITERS * EACH
    for incident_id in ids[:: EACH // 3]:
        got = served.call("oncall_tool", {"action": "incident_get", "incident_id": incident_id})
        notes = [e for e in got.json()["result"]["events"] if e["type"] == "note"]
        assert len(notes) == 1


def test_concurrent_writers_on_jsonl_with_two_workers_lose_nothing(tmp_path: Path) -> None:
    served = serve(tmp_path, workers=2)
    try:
        ids = hammer(served)
        assert_nothing_lost(served, ids)
    finally:
        served.server.stop()
    lines = (served.store_dir / "incidents.jsonl").read_text().splitlines()
    assert len(lines) == WRITERS * EACH


@pytest.mark.postgres
def test_several_workers_against_postgres_share_only_the_database(
    tmp_path: Path,
    migrated_pg_url: str,  # noqa: F811
) -> None:
    served = serve(tmp_path, "--backend", "postgres", "--database-url", migrated_pg_url, workers=3)
    try:
        ids = hammer(served)
        assert_nothing_lost(served, ids)
        health = httpx.get(f"{served.url}/healthz").json()
        assert health["backend"] == "postgres" and health["status"] == "ok"
    finally:
        served.server.stop()
