"""docs/intelligence.md: every command and every tool call in it runs."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from gatekeeper.config import Settings
from gatekeeper.tools import handle
from tests.conftest import REPO, CliRun
from tests.intelligence.factories import at
from tests.intelligence.test_digest import week9

DOC = (REPO / "docs" / "intelligence.md").read_text(encoding="utf-8")
COMMANDS = re.search(r"```sh\n(.*?)```", DOC, flags=re.S).group(1).strip().splitlines()  # type: ignore[union-attr]
REQUESTS = re.findall(r"^\{\"tool\".*\}$", DOC, flags=re.M)


@pytest.mark.parametrize("line", COMMANDS)
def test_command_runs(
    run_cli: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    monkeypatch.chdir(tmp_path)
    week9().build(tmp_path / "ops" / "incidents")
    args = shlex.split(line)[1:]
    result = run_cli("--now", "2026-03-02T12:00:00Z", *args)
    assert result.exit_code == 0, (line, result.stderr)
    if "json" in args:
        json.loads(result.stdout)
    if "--save" in args:
        assert (tmp_path / "ops/reports/incidents/weekly/2026-W09.md").is_file()


def test_every_request_is_there() -> None:
    actions = {json.loads(r)["action"] for r in REQUESTS}
    assert actions == {"weekly_digest", "recurrence", "risk"}


@pytest.mark.parametrize("request_text", REQUESTS)
def test_tool_call_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request_text: str) -> None:
    monkeypatch.chdir(tmp_path)
    store = week9().build(tmp_path / "ops" / "incidents")
    settings = Settings(policy=tmp_path / "no-policy")
    answer = handle(request_text, store=store, settings=settings, now=at("2026-03-02T12:00:00Z"))
    assert answer["ok"], answer
    if "save_artifacts" in request_text:
        assert (tmp_path / "ops/reports/incidents/weekly/2026-W09.json").is_file()


@pytest.mark.parametrize("agent", [None, "monitor"])
def test_saving_the_digest_needs_cto_or_oncall(tmp_path: Path, agent: str | None) -> None:
    store = week9().build(tmp_path / "store")
    request = {
        "tool": "incident_intelligence_tool",
        "action": "weekly_digest",
        "agent_id": agent,
        "params": {"save_artifacts": True},
    }
    answer = handle(
        request,
        store=store,
        settings=Settings(policy=tmp_path / "none"),
        now=at("2026-03-02T12:00:00Z"),
    )
    assert answer["ok"] is False and answer["error"]["code"] == "forbidden"


def test_unknown_week_is_invalid(tmp_path: Path) -> None:
    store = week9().build(tmp_path / "store")
    request = {
        "tool": "incident_intelligence_tool",
        "action": "weekly_digest",
        "params": {"week": "2025-W53"},
    }
    answer = handle(request, store=store, settings=Settings(), now=at("2026-03-02T12:00:00Z"))
    assert answer["error"]["code"] == "invalid" and "2025-W53" in answer["error"]["message"]
