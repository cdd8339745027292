"""`gatekeeper store info|verify|compact`: exact output and exit codes, every backend's view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.cli.store import command as store_group
from gatekeeper.store import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.migrations import LATEST_VERSION
from tests.conftest import CliRun
from tests.store.factories import changed, event, incident


@pytest.fixture
def filled(store_dir: Path) -> Path:
    store = JsonlIncidentStore(store_dir)
    first = incident()
    store.write(WriteBatch(new_incidents=(first, incident()), events=(event(first),)))
    store.write(WriteBatch(updated_incidents=(changed(first, status="resolved"),)))
    return store_dir


def test_info_in_text(filled: Path, run_cli: CliRun) -> None:
    result = run_cli("--store-dir", str(filled), "store", "info")
    assert (result.exit_code, result.stderr) == (0, "")
    sizes = {name: (filled / name).stat().st_size for name in ("incidents.jsonl", "events.jsonl")}
    assert result.stdout.splitlines() == [
        "backend: jsonl",
        f"location: {filled}",
        "incidents: 2",
        "events: 1",
        "artifacts: 0",
        "files:",
        "  incidents.jsonl:",
        "    lines: 3",
        f"    bytes: {sizes['incidents.jsonl']}",
        "  events.jsonl:",
        "    lines: 1",
        f"    bytes: {sizes['events.jsonl']}",
        "  artifacts.jsonl:",
        "    lines: 0",
        "    bytes: 0",
        "manifest: yes",
    ]


def test_info_of_postgres_in_json(migrated_pg_url: str, run_cli: CliRun) -> None:
    result = run_cli("--backend", "postgres", "--database-url", migrated_pg_url, "store", "info",
                     "--format", "json")  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, "")
    info = json.loads(result.stdout)
    assert info["backend"] == "postgres" and info["schema_version"] == LATEST_VERSION
    assert (info["incidents"], info["events"], info["artifacts"]) == (0, 0, 0)
    assert info["location"].startswith("postgres postgres@127.0.0.1:5432/test schema gk_test_")


def test_verify_a_healthy_store(filled: Path, run_cli: CliRun) -> None:
    text = run_cli("--store-dir", str(filled), "store", "verify")
    assert (text.exit_code, text.stdout, text.stderr) == (0, "ok: no damaged records\n", "")
    as_json = run_cli("--store-dir", str(filled), "store", "verify", "--format", "json")
    assert json.loads(as_json.stdout) == {"ok": True, "problems": []}


def test_verify_in_json_lists_every_bad_line(filled: Path, run_cli: CliRun) -> None:
    with (filled / "events.jsonl").open("ab") as handle:
        handle.write(b"{}\n[1]\n")
    result = run_cli("--store-dir", str(filled), "store", "verify", "--format", "json")
    assert result.exit_code == 1
    path = str(filled / "events.jsonl")
    assert json.loads(result.stdout) == {
        "ok": False,
        "problems": [
            {"path": path, "line": 2, "reason": "id: Field required (and 5 more)"},
            {"path": path, "line": 3, "reason": "(record): Input should be a valid dictionary "
             "or instance of Event"},
        ],
    }  # fmt: skip
    assert result.stderr == "gatekeeper: error: store verify found 2 damaged records\n"


def test_verify_of_a_missing_directory_is_an_error(tmp_path: Path, run_cli: CliRun) -> None:
    result = run_cli("--store-dir", str(tmp_path / "nope"), "store", "verify")
    assert result.exit_code == 1
    assert result.stderr == (
        f"gatekeeper: error: store directory does not exist ({tmp_path / 'nope'})\n"
    )


def test_compact_in_text_and_json(filled: Path, run_cli: CliRun) -> None:
    text = run_cli("--store-dir", str(filled), "store", "compact")
    assert (text.exit_code, text.stdout, text.stderr) == (0, "compacted: 3 lines -> 2\n", "")
    again = run_cli("--store-dir", str(filled), "store", "compact", "--format", "json")
    assert json.loads(again.stdout) == {"lines_before": 2, "lines_after": 2}


def test_compact_on_postgres_vacuums(migrated_pg_url: str, run_cli: CliRun) -> None:
    result = run_cli("--backend", "postgres", "--database-url", migrated_pg_url, "store",
                     "compact")  # fmt: skip
    assert (result.exit_code, result.stdout) == (0, "compacted: 0 lines -> 0\n")


@pytest.mark.parametrize("name", sorted(store_group.commands))
def test_every_store_command_has_help_with_an_example(name: str, run_cli: CliRun) -> None:
    result = run_cli("store", name, "--help")
    assert result.exit_code == 0
    assert "Example: gatekeeper " in result.stdout
    assert "--format [text|json]" in result.stdout


def test_database_url_with_the_jsonl_backend_warns_once(tmp_path: Path, run_cli: CliRun) -> None:
    result = run_cli("--store-dir", str(tmp_path), "--database-url", "postgresql://x@h/db",
                     "store", "info")  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr.count("warning: DATABASE_URL is set but the backend is jsonl") == 1
    assert len(result.stderr.splitlines()) == 1


def test_init_marks_an_empty_directory_as_a_store(tmp_path: Path, run_cli: CliRun) -> None:
    target = tmp_path / "new"
    result = run_cli("--store-dir", str(target), "store", "init", "--now", "2026-03-01T00:00:00Z")
    assert (result.exit_code, result.stdout) == (0, f"initialised store at {target}\n")
    manifest = json.loads((target / "store.json").read_text())
    assert manifest["created"] == "2026-03-01T00:00:00Z"
    again = run_cli("--store-dir", str(target), "store", "init")
    assert again.stdout == f"re-marked store at {target}\n"
    assert json.loads((target / "store.json").read_text())["created"] == "2026-03-01T00:00:00Z"
