"""``oncall_tool`` actions: what they return, list filters, not-found and bad values."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.config import Settings
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.tools import handle
from tests.conftest import NOW, Seeded
from tests.tools.conftest import Call, envelope, error

NAIVE_HINT = "has no time zone; write it in UTC with a trailing Z (e.g. 2026-02-23T10:00:00Z)"
MISSING = "inc_20260101_0000_zzzzzz"


def create(call: Call, **params: Any) -> dict[str, Any]:
    fields = {"service": "gateway", "env": "prod", "severity": "P1", "title": "t", **params}
    answer = call(envelope("incident_create", "helion", **fields))
    assert answer["ok"] is True, answer
    result: dict[str, Any] = answer["result"]
    return result


def test_create_returns_the_incident(call: Call) -> None:
    incident = create(
        call, started_at="2026-03-01T09:30:00+02:00", summary="s", labels={"region": "eu"}
    )
    assert incident["id"].startswith("inc_20260301_0730_")
    assert incident["started_at"] == "2026-03-01T07:30:00Z"
    assert (incident["status"], incident["labels"], incident["created_by"]) == (
        "open",
        {"region": "eu"},
        "helion",
    )


def test_get_has_events_followups_and_artifacts(call: Call, seeded: Seeded) -> None:
    ref = {"incident_id": seeded.incident_id}
    call(envelope("incident_attach_artifact", "helion", **ref, name="pm.md", content="# PM"))
    result = call(envelope("incident_get", **ref))["result"]
    assert [e["type"] for e in result["events"]] == ["status_change", "followup", "artifact"]
    assert [f["followup_id"] for f in result["followups"]] == [seeded.followup_id]
    assert [a["name"] for a in result["artifacts"]] == ["pm.md"]


def test_update_records_status_change(call: Call, seeded: Seeded) -> None:
    ref = {"incident_id": seeded.incident_id}
    answer = call(envelope("incident_update", "sofiia", **ref, status="resolved", severity="P2"))
    assert answer["result"]["resolved_at"] == "2026-03-02T12:00:00Z"
    assert answer["result"]["severity"] == "P2"
    last = call(envelope("incident_get", **ref))["result"]["events"][-1]
    assert (last["type"], last["meta"], last["actor"]) == (
        "status_change",
        {"from": "open", "to": "resolved"},
        "sofiia",
    )


def test_update_without_changes_is_invalid(call: Call, seeded: Seeded) -> None:
    answer = call(envelope("incident_update", "sofiia", incident_id=seeded.incident_id))
    assert error(answer) == ("invalid", "nothing to update (params)")


def test_append_event_keeps_ts_meta_and_a_followup_needs_its_id(call: Call, seeded: Seeded) -> None:
    ref = {"incident_id": seeded.incident_id}
    answer = call(
        envelope(
            "incident_append_event",
            "helion",
            **ref,
            type="ack",
            message="on it",
            meta={"pager": "PD-1", "n": 2},
            ts="2026-03-02T11:00:00Z",
        )
    )
    event = answer["result"]
    assert (event["ts"], event["recorded_at"], event["meta"]) == (
        "2026-03-02T11:00:00Z",
        "2026-03-02T12:00:00Z",
        {"pager": "PD-1", "n": 2},
    )
    refused = call(envelope("incident_append_event", "helion", **ref, type="followup", message="x"))
    assert error(refused) == (
        "invalid",
        "required: a follow-up id (letters, digits, _ . -; up to 64) (meta.followup_id)",
    )
    bad_type = call(envelope("incident_append_event", "helion", **ref, type="Bad Type", message=""))
    assert error(bad_type)[1].startswith("params.type: String should match pattern")


def test_followup_add_defaults_due_from_sla_and_update_completes(
    call: Call, seeded: Seeded
) -> None:
    ref = {"incident_id": seeded.incident_id}
    added = call(envelope("followup_add", "helion", **ref, title="Fix", owner="bo", priority="P1"))
    followup = added["result"]
    assert (followup["due"], followup["priority"], followup["status"]) == (
        "2026-03-09T12:00:00Z",
        "P1",
        "open",
    )
    later = NOW + timedelta(days=1)
    done = call(
        envelope(
            "followup_update", "helion", **ref, followup_id=followup["followup_id"], status="done"
        ),
        now=later,
    )
    assert done["result"]["completed_at"] == "2026-03-03T12:00:00Z"
    dated = call(envelope("followup_add", "helion", **ref, title="X", owner="bo", due="2026-03-04"))
    assert dated["result"]["due"] == "2026-03-04T23:59:59.999999Z"
    bad_due = call(envelope("followup_add", "helion", **ref, title="X", owner="bo", due="soon"))
    assert error(bad_due)[1].startswith("params.due: 'soon' is not an ISO-8601 timestamp")


def test_followups_summary(call: Call, seeded: Seeded) -> None:
    params: dict[str, Any] = {"service": "gateway", "env": "prod", "window_days": 30}
    later = NOW + timedelta(days=30)
    result = call(envelope("incident_followups_summary", **params), now=later)["result"]
    assert result["counts"] == {"active_incidents": 1, "open_followups": 1, "overdue_followups": 1}
    assert result["active_incidents_by_severity"] == {"P0": 0, "P1": 1, "P2": 0, "P3": 0, "P4": 0}
    (overdue,) = result["overdue_followups"]
    assert (overdue["followup_id"], overdue["owner"], overdue["days_overdue"]) == (
        seeded.followup_id,
        "ana",
        24,  # due 2026-03-09T10:05Z (P2: +14 days), 23 days 2 hours late
    )
    answer = call(envelope("incident_followups_summary", **{**params, "window_days": 0}))
    assert error(answer) == (
        "invalid",
        "params.window_days: Input should be greater than or equal to 1",
    )


# -- incident_list ------------------------------------------------------------------------


@pytest.fixture
def listed(call: Call) -> dict[str, str]:
    """Five incidents, started an hour apart from 08:00 on 2026-03-01."""
    specs = {
        "a": {"service": "gateway", "env": "prod", "severity": "P1"},
        "b": {"service": "gateway", "env": "staging", "severity": "P2"},
        "c": {"service": "checkout", "env": "prod", "severity": "P0"},
        "d": {"service": "gateway", "env": "prod", "severity": "P3"},
        "e": {"service": "checkout", "env": "prod", "severity": "P1"},
    }
    ids = {}
    for hour, (key, spec) in enumerate(specs.items(), start=8):
        ids[key] = create(call, **spec, title=key, started_at=f"2026-03-01T{hour:02}:00:00Z")["id"]
    call(envelope("incident_update", "helion", incident_id=ids["d"], status="closed"))
    return ids


def titles(call: Call, **params: Any) -> list[str]:
    answer = call(envelope("incident_list", **params))
    assert answer["ok"] is True, answer
    assert answer["result"]["count"] == len(answer["result"]["incidents"])
    return [i["title"] for i in answer["result"]["incidents"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["e", "d", "c", "b", "a"]),
        ({"status": "closed"}, ["d"]),
        ({"status": ["open", "mitigated"]}, ["e", "c", "b", "a"]),
        ({"service": "gateway"}, ["d", "b", "a"]),
        ({"env": "staging"}, ["b"]),
        ({"severity": ["P0", "P1"]}, ["e", "c", "a"]),
        ({"since": "2026-03-01T10:00:00Z"}, ["e", "d", "c"]),
        ({"until": "2026-03-01T10:00:00Z"}, ["b", "a"]),
        ({"service": "gateway", "env": "prod", "status": "open"}, ["a"]),
        ({"limit": 2}, ["e", "d"]),
        ({"limit": 1000}, ["e", "d", "c", "b", "a"]),
    ],
)
def test_list_filters_newest_first(
    call: Call, listed: dict[str, str], params: dict[str, Any], expected: list[str]
) -> None:
    assert titles(call, **params) == expected


def test_list_limit_defaults_to_20(call: Call) -> None:
    for n in range(21):
        create(call, title=f"n{n}", started_at=f"2026-03-01T{n:02}:00:00Z")
    assert titles(call)[:2] == ["n20", "n19"] and len(titles(call)) == 20


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        (0, "params.limit: Input should be greater than or equal to 1"),
        (1001, "params.limit: Input should be less than or equal to 1000"),
    ],
)
def test_list_limit_bounds(call: Call, limit: int, message: str) -> None:
    assert error(call(envelope("incident_list", limit=limit))) == ("invalid", message)


# -- not found, timestamps, ids -----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("incident_get", {}),
        ("incident_update", {"status": "closed"}),
        ("incident_append_event", {"type": "note", "message": "x"}),
        ("incident_attach_artifact", {"name": "x.md", "content": "x"}),
        ("followup_add", {"title": "x", "owner": "ana"}),
        ("followup_update", {"followup_id": "fu_abcdefgh", "status": "done"}),
    ],
)
def test_unknown_incident_is_not_found(
    call: Call, store_dir: Any, action: str, params: dict[str, Any]
) -> None:
    answer = call(envelope(action, "helion", incident_id=MISSING, **params))
    assert error(answer) == ("not_found", f"no such incident ({MISSING})")


def test_unknown_followup_is_not_found(call: Call, seeded: Seeded) -> None:
    answer = call(
        envelope(
            "followup_update",
            "helion",
            incident_id=seeded.incident_id,
            followup_id="fu_missing1",
            status="done",
        )
    )
    assert error(answer) == ("not_found", f"no such follow-up ({seeded.incident_id}/fu_missing1)")


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        (
            "incident_create",
            {"service": "g", "env": "p", "severity": "P1", "title": "t"},
            "started_at",
        ),
        ("incident_list", {}, "since"),
        ("incident_list", {}, "until"),
        ("incident_append_event", {"incident_id": MISSING, "type": "note", "message": ""}, "ts"),
    ],
)
def test_naive_timestamps_are_rejected(
    call: Call, action: str, params: dict[str, Any], field: str
) -> None:
    answer = call(envelope(action, "helion", **params, **{field: "2026-03-01T10:00:00"}))
    assert error(answer) == ("invalid", f"params.{field}: 2026-03-01T10:00:00 {NAIVE_HINT}")


@pytest.mark.parametrize("bad_id", ["INC-1", "inc_2026_abc", "inc_20260101_0000_ABCDEF", ""])
def test_wrong_incident_id_shape_shows_the_format(call: Call, bad_id: str) -> None:
    answer = call(envelope("incident_get", incident_id=bad_id))
    assert error(answer) == (
        "invalid",
        f"params.incident_id: {bad_id!r} is not an incident id; "
        "expected inc_YYYYMMDD_HHMM_xxxxxx (e.g. inc_20260218_1430_abc123)",
    )


def test_followup_due_default_follows_the_policy_sla(
    seeded: Seeded, settings: Settings, tmp_path: Path
) -> None:
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "gates.yml").write_text("version: 1\nfollowup_sla_days: {P0: 1}\n")
    request = envelope(
        "followup_add",
        "helion",
        incident_id=seeded.incident_id,
        title="t",
        owner="o",
        priority="P0",
    )
    store = JsonlIncidentStore(seeded.store_dir)
    answer = handle(request, store=store, settings=replace(settings, policy=policy), now=NOW)
    assert answer["result"]["due"] == "2026-03-03T12:00:00Z"
    (policy / "gates.yml").write_text("version: 1\nfollowup_sla_days: {P0: soon}\n")
    broken = handle(request, store=store, settings=replace(settings, policy=policy), now=NOW)
    assert error(broken)[0] == "invalid"
    dated = handle(
        {**request, "params": {**request["params"], "due": "2026-03-05"}},
        store=store,
        settings=replace(settings, policy=policy),
        now=NOW,
    )
    assert dated["ok"] is True, "a given due needs no policy"
