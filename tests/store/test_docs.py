"""Every `gatekeeper` command in docs/store.md runs, in order, against a real store."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import psycopg
import pytest

from gatekeeper.store import WriteBatch
from gatekeeper.store import pg_sql as q
from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.conftest import REPO, CliRun
from tests.store.factories import event, incident

DOC = REPO / "docs" / "store.md"


def documented_commands() -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(), flags=re.S)
    return [
        line.removeprefix("$ ")
        for block in blocks
        for line in block.splitlines()
        if line.startswith("$ gatekeeper ")
    ]


def test_the_page_documents_every_store_command() -> None:
    used = {shlex.split(c)[shlex.split(c).index("store") + 1] for c in documented_commands()}
    assert used == {"init", "info", "verify", "compact", "migrate", "export", "import"}


def test_every_documented_command_runs(
    pg_url: str,
    tmp_path: Path,
    run_cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("INCIDENT_JSONL_DIR", "ops/incidents")
    first = incident()
    JsonlIncidentStore(tmp_path / "ops" / "incidents").write(
        WriteBatch(new_incidents=(first, incident()), events=(event(first),))
    )
    for command in documented_commands():
        args = shlex.split(os.path.expandvars(command))[1:]
        result = run_cli(*args)
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
        if args == ["store", "info"]:
            assert result.stdout.startswith("backend: jsonl\nlocation: ops/incidents\n")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(q.COUNTS).fetchone() == (2, 1, 0)
