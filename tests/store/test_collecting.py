"""``collecting``: a damaged record met by any read inside the block is collected,
even when an earlier read of the same store already reported it (the reader tells
stderr once), so an answer built from several reads can say what it could not see."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from gatekeeper.models import Incident
from gatekeeper.store.auto import AutoIncidentStore
from gatekeeper.store.base import IncidentStore, Problem, collecting
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.postgres import PostgresIncidentStore
from gatekeeper.store.writes import WriteBatch
from tests.store.conftest import UNREACHABLE_URL, no_warning

from . import factories as f

SINCE = f.T0 - timedelta(days=1)


def _damaged_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[
    IncidentStore, Incident, list[Problem]
]:  # fmt: skip
    """A store holding one incident with a good and a damaged follow-up event."""
    told: list[Problem] = []  # what the store tells stderr
    inc = f.incident(severity="P0")
    good, bad = f.followup(inc, "fu_1", title="Add alert"), f.followup(inc, "fu_2", title="Bad")
    directory = tmp_path / "store"
    directory.mkdir()
    jsonl = JsonlIncidentStore(directory, on_problem=told.append)
    store: IncidentStore
    if kind == "postgres":
        url = request.getfixturevalue("migrated_pg_url")
        store = PostgresIncidentStore.open(url)
        store._on_problem = told.append  # noqa: SLF001 (what it tells stderr)
    elif kind == "auto-degraded":
        store = AutoIncidentStore(
            jsonl, lambda: PostgresIncidentStore.open(UNREACHABLE_URL), retry_s=3600,
            warn=no_warning,
        )  # fmt: skip
    else:
        store = jsonl
    store.write(WriteBatch(new_incidents=(inc,), events=(good, bad)))
    if kind == "postgres":
        with psycopg.connect(request.getfixturevalue("migrated_pg_url")) as conn:
            conn.execute("UPDATE incident_events SET meta = '[1, 2]' WHERE id = %s", (bad.id,))
    else:
        text = (directory / "events.jsonl").read_text(encoding="utf-8").splitlines()
        text[-1] = text[-1].replace('"ts":"', '"ts":"x', 1)
        (directory / "events.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")
    return store, inc, told


@pytest.mark.parametrize("kind", ["jsonl", "postgres", "auto-degraded"])
def test_a_record_reported_by_an_earlier_read_is_still_collected(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store, inc, told = _damaged_store(kind, tmp_path, request)
    try:
        assert len(store.events(inc.id)) == 1  # the first read meets the damage
        assert len(told) == 1
        first: list[Problem] = []
        with collecting(store, first):
            store.events(inc.id)
            store.gate_read("prod", ["checkout"], SINCE)
            store.events(inc.id)
        assert len({str(p) for p in first}) == 1, first
        again: list[Problem] = []
        with collecting(store, again):
            with collecting(store, []):  # an inner block does not take the outer's
                pass
            store.events(inc.id)
        assert {str(p) for p in again} == {str(p) for p in first}
        outside: list[Problem] = []
        with collecting(store, outside):
            pass
        store.events(inc.id)
        assert outside == []
    finally:
        store.close()


def test_a_store_without_collecting_collects_nothing() -> None:
    class Bare:
        pass

    into: list[Problem] = []
    with collecting(Bare(), into):  # type: ignore[arg-type]
        pass
    assert into == []
