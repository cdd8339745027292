"""The gate against a PostgreSQL server that cannot be reached, and in auto mode."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, CliRun

DEAD = "postgresql://postgres@127.0.0.1:1/test"  # nothing listens on port 1
DEMO = REPO / "examples" / "incidents"


def gate(run_cli: CliRun, *args: str) -> tuple[int, dict[str, object], str]:
    result = run_cli(
        "--policy", str(REPO / "policies"), *args,
        "check", "--env", "prod", "--service", "checkout", "--format", "json",
        "--now", "2026-11-25T12:00:00Z",
    )  # fmt: skip
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_postgres_down_fails_closed_with_exit_3(run_cli: CliRun) -> None:
    code, report, stderr = gate(run_cli, "--backend", "postgres", "--database-url", DEAD)
    assert (code, report["decision"]) == (3, "error")
    errors = {r["gate"]: r["error"] for r in report["results"]}  # type: ignore[attr-defined]
    assert "127.0.0.1:1" in str(errors["followup_watch"])
    assert stderr == ""


def test_auto_mode_falls_back_to_jsonl_and_still_blocks(run_cli: CliRun, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    for name in ("incidents.jsonl", "events.jsonl", "artifacts.jsonl"):
        (store / name).write_bytes((DEMO / name).read_bytes())
    code, report, stderr = gate(
        run_cli, "--backend", "auto", "--database-url", DEAD, "--store-dir", str(store)
    )
    assert (code, report["decision"]) == (1, "block")
    assert stderr.startswith("warning: postgres unavailable (")
    assert stderr.endswith(f"; using jsonl at {store}\n")
    assert stderr.count("\n") == 1
