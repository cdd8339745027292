"""Retention: CTO only, never active incidents or open follow-ups, dry run, archive + import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CliRun, tree_digest

NOW = "2026-06-01T00:00:00Z"


def _cli_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> list[str]:
    if backend == "jsonl":
        return ["--store-dir", str(tmp_path / "store")]
    url = request.getfixturevalue("migrated_pg_url")
    return [
        "--backend",
        "postgres",
        "--database-url",
        url,
        "--artifacts-dir",
        str(tmp_path / "art"),
    ]


@pytest.fixture(params=["jsonl", "postgres"])
def opts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    yield _cli_store(request.param, tmp_path, request)


def _json(run_cli: CliRun, opts: list[str], *args: str) -> dict[str, object]:
    result = run_cli(*opts, "--agent", "sofiia", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _incident(run_cli: CliRun, opts: list[str], title: str, status: str | None, when: str) -> str:
    created = _json(run_cli, opts, "incident", "create", "--service", "gateway", "--env", "prod",
                    "--severity", "P2", "--title", title, "--started-at", when,
                    "--now", when)  # fmt: skip
    incident = str(created["id"])
    if status is not None:
        _json(run_cli, opts, "incident", "update", incident, "--status", status, "--now", when)
    return incident


def _seed(run_cli: CliRun, opts: list[str], tmp_path: Path) -> dict[str, str]:
    old = "2026-01-05T10:00:00Z"
    ids = {
        "old_closed": _incident(run_cli, opts, "old closed", "closed", old),
        "old_open": _incident(run_cli, opts, "old open", None, old),
        "old_resolved": _incident(run_cli, opts, "old resolved", "resolved", old),
        "recent_closed": _incident(run_cli, opts, "recent", "closed", "2026-05-20T10:00:00Z"),
        "with_followup": _incident(run_cli, opts, "followup", "closed", old),
    }
    _json(run_cli, opts, "incident", "followup", "add", ids["with_followup"], "--title", "fix",
          "--owner", "ana", "--now", old)  # fmt: skip
    note = tmp_path / "notes.md"
    note.write_text("# notes\n")
    _json(run_cli, opts, "incident", "artifact", ids["old_closed"], str(note), "--now", old)
    return ids


def test_refuses_anyone_but_a_cto(run_cli: CliRun, tmp_path: Path) -> None:
    opts = ["--store-dir", str(tmp_path / "store")]
    result = run_cli(*opts, "--agent", "helion", "retention", "--closed-older-than", "30")
    assert result.exit_code == 1 and "retention needs a CTO agent" in result.stderr


def test_removes_only_old_closed_without_open_followups_and_archive_restores(
    run_cli: CliRun, tmp_path: Path, opts: list[str]
) -> None:
    ids = _seed(run_cli, opts, tmp_path)
    before = _json(run_cli, opts, "store", "info")
    tree = tree_digest(tmp_path)
    dry = _json(run_cli, opts, "retention", "--closed-older-than", "30", "--dry-run", "--now", NOW)
    assert dry["removed"] == [ids["old_closed"]]
    assert dry["kept_open_followups"] == [ids["with_followup"]]
    assert _json(run_cli, opts, "store", "info") == before and tree_digest(tmp_path) == tree
    archive = tmp_path / "archive.jsonl"
    done = _json(run_cli, opts, "retention", "--closed-older-than", "30", "--archive", str(archive),
                 "--now", NOW)  # fmt: skip
    assert done["removed"] == [ids["old_closed"]]
    gone = run_cli(*opts, "incident", "get", ids["old_closed"])
    assert gone.exit_code == 1
    for name in ("old_open", "old_resolved", "recent_closed", "with_followup"):
        assert run_cli(*opts, "incident", "get", ids[name]).exit_code == 0
    restored = run_cli(*opts, "--agent", "sofiia", "store", "import", str(archive))
    assert restored.exit_code == 0, restored.stderr
    back = _json(run_cli, opts, "incident", "get", ids["old_closed"])
    assert back["status"] == "closed" and len(back["artifacts"]) == 1  # type: ignore[arg-type]
    assert _json(run_cli, opts, "store", "info")["incidents"] == before["incidents"]
