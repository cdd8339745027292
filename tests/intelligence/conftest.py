"""Intelligence fixtures: the analyses run against JSONL and a real PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gatekeeper.store.base import IncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.store.conftest import migrated_pg_url, pg_schema, pg_server, pg_url

__all__ = ["migrated_pg_url", "pg_schema", "pg_server", "pg_url"]


@pytest.fixture(params=["jsonl", "postgres"])
def backend_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IncidentStore]:
    """An empty store of each backend; fill it with ``StoreBuilder.write_to``."""
    store: IncidentStore
    if request.param == "jsonl":
        directory = tmp_path / "store"
        directory.mkdir()
        store = JsonlIncidentStore(directory)
    else:
        store = PostgresIncidentStore.open(request.getfixturevalue("migrated_pg_url"))
    yield store
    store.close()
