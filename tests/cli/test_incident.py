"""``gatekeeper incident``: output formats, filters and one-line errors with exact exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.cli.conftest import Gatekeeper, one_error
from tests.conftest import Seeded, tree_digest

NAIVE_HINT = "has no time zone; write it in UTC with a trailing Z (e.g. 2026-02-23T10:00:00Z)"
ID_FORMAT = "expected inc_YYYYMMDD_HHMM_xxxxxx (e.g. inc_20260218_1430_abc123)"
MISSING = "inc_20260101_0000_zzzzzz"
CREATE = ["incident", "create", "--service", "gateway", "--env", "prod", "--severity", "P1"]


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


# -- create -------------------------------------------------------------------------------


def test_create_prints_one_line(gk: Gatekeeper) -> None:
    result = gk(*CREATE, "--title", "5xx", "--started-at", "2026-03-01T10:00:00Z", agent="helion")
    assert result.exit_code == 0 and result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert line.startswith("inc_20260301_1000_")
    assert line.endswith("  P1  open       gateway/prod              2026-03-01T10:00:00Z  5xx")


def test_create_json_has_every_field(gk: Gatekeeper) -> None:
    args = ["--title", "5xx", "--summary", "s", "--label", "region=eu", "--label", "team=edge=1"]
    incident = as_json(gk(*CREATE, *args, "--format", "json", agent="sofiia"))
    assert incident["labels"] == {"region": "eu", "team": "edge=1"}
    assert incident["started_at"] == incident["created_at"] == "2026-03-02T12:00:00Z"
    assert (incident["summary"], incident["created_by"]) == ("s", "sofiia")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--label", "region"], "expected KEY=VALUE, got 'region' (--label)"),
        (["--label", "=eu"], "expected KEY=VALUE, got '=eu' (--label)"),
        (
            ["--started-at", "2026-03-01T10:00:00"],
            f"2026-03-01T10:00:00 {NAIVE_HINT} (--started-at)",
        ),
        (
            ["--started-at", "yesterday"],
            "'yesterday' is not an ISO-8601 timestamp (expected e.g. 2026-02-23T10:00:00Z) "
            "(--started-at)",
        ),
    ],
)
def test_create_option_errors_name_the_option(
    gk: Gatekeeper, store_dir: Path, extra: list[str], message: str
) -> None:
    assert one_error(gk(*CREATE, "--title", "t", *extra, agent="helion")) == message
    assert tree_digest(store_dir) == {}


def test_create_invalid_values_and_bad_choices_exit_1_naming_the_field(gk: Gatekeeper) -> None:
    bad_service = ["incident", "create", "--service", "Gate Way", "--env", "prod"]
    result = gk(*bad_service, "--severity", "P1", "--title", "t", agent="helion")
    assert one_error(result) == "service: 'Gate Way' must match ^[a-z0-9][a-z0-9._-]{0,62}$"
    result = gk(*CREATE[:-1], "P7", "--title", "t", agent="helion")
    expected = "severity: Input should be 'P0', 'P1', 'P2', 'P3' or 'P4'"
    assert one_error(result) == expected


# -- get ----------------------------------------------------------------------------------


def test_get_text_shows_timeline_followups_and_artifacts(gk: Gatekeeper, seeded: Seeded) -> None:
    result = gk("incident", "get", seeded.incident_id)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{seeded.incident_id}  P1  open")
    assert "events (2):" in lines and "follow-ups (1):" in lines and "artifacts (0):" in lines
    assert f"  {seeded.followup_id}  P2  open         owner ana" in result.stdout


def test_get_json(gk: Gatekeeper, seeded: Seeded) -> None:
    details = as_json(gk("incident", "get", seeded.incident_id, "--format", "json"))
    assert details["id"] == seeded.incident_id
    assert [e["type"] for e in details["events"]] == ["status_change", "followup"]
    assert details["followups"][0]["owner"] == "ana" and details["artifacts"] == []


def test_get_unknown_and_malformed_ids(gk: Gatekeeper, seeded: Seeded) -> None:
    assert one_error(gk("incident", "get", MISSING)) == f"no such incident ({MISSING})"
    message = one_error(gk("incident", "get", "INC-42"))
    assert message == f"'INC-42' is not an incident id; {ID_FORMAT} (incident_id)"


# -- list ---------------------------------------------------------------------------------


@pytest.fixture
def listed(gk: Gatekeeper) -> None:
    specs = [
        ("a", "gateway", "prod", "P1"),
        ("b", "gateway", "staging", "P2"),
        ("c", "checkout", "prod", "P0"),
    ]
    for hour, (title, service, env, severity) in enumerate(specs, start=8):
        args = ["--service", service, "--env", env, "--severity", severity, "--title", title]
        started = f"2026-03-01T{hour:02}:00:00Z"
        assert (
            gk("incident", "create", *args, "--started-at", started, agent="helion").exit_code == 0
        )


def listed_titles(gk: Gatekeeper, *args: str) -> list[str]:
    return [i["title"] for i in as_json(gk("incident", "list", *args, "--format", "json"))]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["c", "b", "a"]),
        (["--service", "gateway"], ["b", "a"]),
        (["--env", "prod"], ["c", "a"]),
        (["--severity", "P0", "--severity", "P2"], ["c", "b"]),
        (["--status", "closed"], []),
        (["--since", "2026-03-01T09:00:00Z"], ["c", "b"]),
        (["--until", "2026-03-01T09:00:00Z"], ["a"]),
        (["--limit", "1"], ["c"]),
    ],
)
def test_list_filters_newest_first(
    gk: Gatekeeper, listed: None, args: list[str], expected: list[str]
) -> None:
    assert listed_titles(gk, *args) == expected


def test_list_text_table_and_empty(gk: Gatekeeper, listed: None) -> None:
    lines = gk("incident", "list", "--env", "prod").stdout.splitlines()
    assert lines[0].split() == ["ID", "SEV", "STATUS", "SERVICE/ENV", "STARTED", "TITLE"]
    assert [line.split()[-1] for line in lines[1:]] == ["c", "a"]
    assert gk("incident", "list", "--env", "dev").stdout == "no incidents\n"


def test_list_bad_options(gk: Gatekeeper) -> None:
    since = one_error(gk("incident", "list", "--since", "2026-03-01"))
    assert since == f"2026-03-01 {NAIVE_HINT} (--since)"
    for limit, words in (
        ("0", "greater than or equal to 1"),
        ("1001", "less than or equal to 1000"),
    ):
        message = one_error(gk("incident", "list", "--limit", limit))  # invalid input: exit 1
        assert message == f"limit: Input should be {words}"


def test_list_stale_days(gk: Gatekeeper, seeded: Seeded) -> None:
    # Last activity 2026-02-23T10:05Z (the follow-up); --now is 7 days 2 hours later.
    def stale(days: str) -> list[str]:
        listed = as_json(gk("incident", "list", "--stale-days", days, "--format", "json"))
        return [i["id"] for i in listed]

    assert stale("7") == [seeded.incident_id]
    assert stale("8") == []
    gk("incident", "event", seeded.incident_id, "--type", "note", "--message", "m", agent="helion")
    assert stale("1") == []


# -- update -------------------------------------------------------------------------------


def test_update_status_and_labels(gk: Gatekeeper, seeded: Seeded) -> None:
    args = ["--status", "resolved", "--label", "cause=deploy", "--format", "json"]
    incident = as_json(gk("incident", "update", seeded.incident_id, *args, agent="helion"))
    assert (incident["status"], incident["resolved_at"], incident["labels"]) == (
        "resolved",
        "2026-03-02T12:00:00Z",
        {"cause": "deploy"},
    )
    events = JsonlIncidentStore(seeded.store_dir).events(seeded.incident_id)
    assert (events[-1].type, events[-1].meta) == (
        "status_change",
        {"from": "open", "to": "resolved"},
    )


def test_update_errors(gk: Gatekeeper, seeded: Seeded) -> None:
    nothing = one_error(gk("incident", "update", seeded.incident_id, agent="helion"))
    assert nothing == (
        "nothing to update: give --status, --severity, --title, --summary, --label "
        "or --replace-labels"
    )
    missing = one_error(gk("incident", "update", MISSING, "--status", "closed", agent="helion"))
    assert missing == f"no such incident ({MISSING})"


# -- event --------------------------------------------------------------------------------


def event(gk: Gatekeeper, seeded: Seeded, *args: str) -> Any:
    base = ["incident", "event", seeded.incident_id, "--type", "ack", "--message", "on it"]
    return gk(*base, *args, agent="helion")


def test_event_with_meta_and_ts(gk: Gatekeeper, seeded: Seeded) -> None:
    recorded = as_json(
        event(
            gk, seeded, "--meta", "pager=PD-1", "--ts", "2026-03-02T11:00:00Z", "--format", "json"
        )
    )
    assert (recorded["type"], recorded["meta"], recorded["ts"], recorded["actor"]) == (
        "ack",
        {"pager": "PD-1"},
        "2026-03-02T11:00:00Z",
        "helion",
    )
    typed = as_json(event(gk, seeded, "--meta-json", '{"n": 2, "ok": true}', "--format", "json"))
    assert typed["meta"] == {"n": 2, "ok": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--meta", "pager"], "expected KEY=VALUE, got 'pager' (--meta)"),
        (
            ["--meta-json", "{nope"],
            "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2 "
            "(--meta-json)",
        ),
        (["--meta-json", "[1]"], "expected a JSON object (--meta-json)"),
        (
            ["--meta", "a=b", "--meta-json", "{}"],
            "give either --meta or --meta-json, not both (--meta-json)",
        ),
        (["--ts", "2026-03-02T11:00:00"], f"2026-03-02T11:00:00 {NAIVE_HINT} (--ts)"),
    ],
)
def test_event_option_errors(gk: Gatekeeper, seeded: Seeded, args: list[str], message: str) -> None:
    before = tree_digest(seeded.store_dir)
    assert one_error(event(gk, seeded, *args)) == message
    assert tree_digest(seeded.store_dir) == before
