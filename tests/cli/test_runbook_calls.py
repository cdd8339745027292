"""The runbook's own tool calls, exactly as it prints them, through ``gatekeeper tool``.

Users bring an operations runbook whose agents already send these envelopes; a
follow-up recorded the runbook's way (``incident_append_event`` with
``type=followup`` and structured meta) must reach the gate.
"""

from __future__ import annotations

import json
from typing import Any

from tests.cli.conftest import Gatekeeper

# Verbatim from the runbook ("Create incident manually (via tool)").
CREATE = """{ "tool": "oncall_tool", "action": "incident_create", "params": { "service": "gateway",
"severity": "P1", "title": "Gateway 5xx rate >5%", "env": "prod",
"started_at": "2026-02-23T10:00:00Z" }, "agent_id": "sofiia" }"""

# Verbatim from the runbook ("List open incidents").
LIST_OPEN = """{ "tool": "oncall_tool", "action": "incident_list", "params": { "status": "open",
"limit": 20 } }"""

# Verbatim from the runbook ("Follow-up Tracking"): a flat envelope, no tool, no params.
SUMMARY = """{ "action": "incident_followups_summary", "service": "gateway", "env": "prod",
"window_days": 30 }"""


def answer(gk: Gatekeeper, request: str, agent: str | None = None) -> Any:
    result = gk("tool", input=request, agent=agent)
    parsed = json.loads(result.stdout)
    assert parsed["ok"] is True, parsed
    assert result.exit_code == 0
    return parsed["result"]


def followup_event(incident_id: str, **meta: Any) -> str:
    """A follow-up the runbook's way: an ``incident_append_event`` of ``type=followup``."""
    params = {"incident_id": incident_id, "type": "followup", "message": "", "meta": meta}
    envelope = {"tool": "oncall_tool", "action": "incident_append_event", "agent_id": "sofiia"}
    return json.dumps({**envelope, "params": params})


def test_the_runbooks_calls_work_verbatim_and_its_followup_blocks_the_gate(
    gk: Gatekeeper,
) -> None:
    created = answer(gk, CREATE)
    incident_id = created["id"]
    assert (created["service"], created["severity"], created["status"]) == ("gateway", "P1", "open")

    listed = answer(gk, LIST_OPEN)
    assert [i["id"] for i in listed["incidents"]] == [incident_id]

    event = answer(
        gk,
        followup_event(
            incident_id,
            followup_id="fu_gw_retry",
            title="Add retry budget to the gateway client",
            owner="platform",
            priority="P1",
            due="2026-02-26T00:00:00Z",
        ),
    )
    assert (event["type"], event["meta"]["followup_id"]) == ("followup", "fu_gw_retry")

    summary = answer(gk, SUMMARY)
    assert summary["overdue_followups"][0]["followup_id"] == "fu_gw_retry", summary

    # Resolve the incident: what still blocks prod is the overdue follow-up alone.
    resolve = {"incident_id": incident_id, "status": "resolved"}
    update = {"tool": "oncall_tool", "action": "incident_update", "agent_id": "sofiia"}
    answer(gk, json.dumps({**update, "params": resolve}))
    gate = gk("check", "--env", "prod", "--service", "gateway", "--gate", "followup_watch")
    assert gate.exit_code == 1, gate
    assert "fu_gw_retry" in gate.stdout

    # A later event with the same id changes the follow-up: done, and prod passes.
    answer(gk, followup_event(incident_id, followup_id="fu_gw_retry", status="done"))
    gate = gk("check", "--env", "prod", "--service", "gateway", "--gate", "followup_watch")
    assert gate.exit_code == 0, gate


def test_a_followup_event_is_validated_like_followup_add(gk: Gatekeeper) -> None:
    incident_id = answer(gk, CREATE)["id"]
    cases = {
        "meta.followup_id": {"title": "t", "owner": "o"},
        "meta.owner": {"followup_id": "fu_1", "title": "t"},
        "meta.priority": {"followup_id": "fu_1", "title": "t", "owner": "o", "priority": "P9"},
        "meta.colour": {"followup_id": "fu_1", "title": "t", "owner": "o", "colour": "red"},
    }
    for field, meta in cases.items():
        result = gk("tool", input=followup_event(incident_id, **meta))
        error = json.loads(result.stdout)["error"]
        assert (result.exit_code, error["code"]) == (1, "invalid"), (field, error)
        assert error["message"].endswith(f"({field})"), (field, error)


def test_a_followup_event_gets_the_sla_due_date(gk: Gatekeeper) -> None:
    incident_id = answer(gk, CREATE)["id"]
    answer(gk, followup_event(incident_id, followup_id="fu_1", title="t", owner="o", priority="P1"))
    get = {"tool": "oncall_tool", "action": "incident_get", "params": {"incident_id": incident_id}}
    followups = answer(gk, json.dumps(get))["followups"]
    assert [(f["followup_id"], f["status"], f["due"][:10]) for f in followups] == [
        ("fu_1", "open", "2026-03-09")  # P1: 7 days (policies/gates.yml)
    ]
