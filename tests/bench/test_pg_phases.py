"""The Postgres start-up rows of ``bench.startup``: the phases script runs, its table is honest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench import pg, startup
from tests.conftest import REPO

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def demo_schema() -> Iterator[str]:
    """The demo store loaded into a schema of its own (as ``bench.startup`` does), dropped after."""
    url = os.environ.get("GATEKEEPER_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    schema = f"gk_phases_{uuid.uuid4().hex[:12]}"
    pg.ensure_loaded(startup.DEMO, url, schema)
    yield pg.schema_url(url, schema)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


@pytest.mark.postgres
def test_the_phases_script_times_every_phase_of_one_postgres_check(
    demo_schema: str, tmp_path: Path
) -> None:
    out = tmp_path / "phases.jsonl"
    argv = [sys.executable, "-P", str(REPO / "bench" / "pg_phases.py"), demo_schema]
    for _ in range(2):
        result = subprocess.run(
            [*argv, "prod", "checkout", startup.NOW, str(out)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(runs) == 2
    phases = ["floor_import", "cli_import", "psycopg_import", "store_import"]
    phases += ["connect", "schema_check", "gate_read", "close"]
    assert list(runs[0]) == phases
    assert all(ms >= 0 for run in runs for ms in run.values())


def test_the_phases_table_leaves_out_the_warm_up_and_divides_round_by_round(
    tmp_path: Path,
) -> None:
    out = tmp_path / "phases.jsonl"
    warm_up = {"floor_import": 1000.0, "connect": 1000.0}
    rounds = [{"floor_import": 100.0, "connect": 10.0}, {"floor_import": 300.0, "connect": 30.0}]
    out.write_text("".join(json.dumps(r) + "\n" for r in [warm_up, *rounds]))
    table = startup.phases_table(out)
    assert "| floor_import | 200.0 |  |" in table
    assert "| connect | 20.0 | 0.100 |" in table  # both rounds 0.1×, the warm-up not counted
