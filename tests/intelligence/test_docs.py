"""docs/intelligence.md: every command and every tool call in it runs."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from gatekeeper.config import Settings
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.tools import handle
from tests.conftest import REPO, CliRun
from tests.intelligence.factories import at
from tests.intelligence.test_digest import week9

NOW = at("2026-03-02T12:00:00Z")
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
    if "--save" in args and "digest" in args:
        assert (tmp_path / "ops/reports/incidents/weekly/2026-W09.md").is_file()
    if "--save" in args and "postmortem" in args:
        draft = tmp_path / "ops/incidents" / args[args.index("postmortem") + 1]
        assert (draft / "postmortem_draft.md").read_text() == json.loads(result.stdout)["markdown"]
    if "--append-note" in args:
        store = JsonlIncidentStore(tmp_path / "ops" / "incidents")
        assert [e.type for e in store.events(args[args.index("correlate") + 1])].count(
            "correlation"
        ) == 1


def test_every_request_is_there() -> None:
    actions = {json.loads(r)["action"] for r in REQUESTS}
    assert actions == {"weekly_digest", "recurrence", "risk", "correlate", "postmortem_draft"}


@pytest.mark.parametrize("request_text", REQUESTS)
def test_tool_call_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request_text: str) -> None:
    monkeypatch.chdir(tmp_path)
    store = week9().build(tmp_path / "ops" / "incidents")
    settings = Settings(policy=tmp_path / "no-policy")
    answer = handle(request_text, store=store, settings=settings, now=at("2026-03-02T12:00:00Z"))
    assert answer["ok"], answer
    if "save_artifacts" in request_text:
        assert (tmp_path / "ops/reports/incidents/weekly/2026-W09.json").is_file()
    if '"save": true' in request_text:
        draft = tmp_path / "ops/incidents/inc_20260223_1000_aaaaaa/postmortem_draft.md"
        assert draft.read_text() == answer["result"]["markdown"]
    if '"append_note": true' in request_text:
        assert answer["result"]["note"]["appended"] is True


def _section(title: str) -> str:
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_correlate_example_is_what_it_answers(run_cli: CliRun, tmp_path: Path) -> None:
    week9().build(tmp_path / "store")
    section = _section("Correlate")
    documented = json.loads(re.search(r"```json\n(.*?)```", section, flags=re.S).group(1))  # type: ignore[union-attr]
    command = re.search(
        r"`gatekeeper (correlate [^`]*)`", section.split("```json")[0].split("\n\n")[-2]
    ).group(1)  # type: ignore[union-attr]
    result = run_cli(
        "--store-dir", str(tmp_path / "store"), "--policy", str(tmp_path / "none"),
        "--now", "2026-03-02T12:00:00Z", *shlex.split(command),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == documented


def _documented_keys(section: str) -> set[str]:
    """The top-level keys a section's key table names (first column, in backticks)."""
    table = section.split("| key | meaning |\n", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (`[^|]*) \|", table, flags=re.M)
    return {key for row in rows for key in re.findall(r"`([a-z_]+)", row)}


@pytest.mark.parametrize(
    ("title", "action", "params"),
    [
        ("Correlate", "correlate", {"incident_id": "inc_20260224_0000_bbbbbb"}),
        (
            "Postmortem draft",
            "postmortem_draft",
            {"incident_id": "inc_20260223_1000_aaaaaa"},
        ),
    ],
)
def test_the_key_tables_name_every_key(
    tmp_path: Path, title: str, action: str, params: dict[str, object]
) -> None:
    store = week9().build(tmp_path / "store")
    request = {"tool": "incident_intelligence_tool", "action": action, "params": params}
    answer = handle(request, store=store, settings=Settings(policy=tmp_path / "none"), now=NOW)
    documented = _documented_keys(_section(title))
    written_only = {"note", "saved"}  # present when asked to write
    assert set(answer["result"]) == documented - written_only


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
