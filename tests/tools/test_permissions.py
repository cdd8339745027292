"""Roles through the tool: every write is refused for read-only and missing agents,
leaving the store byte-for-byte unchanged, and is recorded under the acting agent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.tools import TOOLS
from tests.conftest import Seeded, tree_digest
from tests.tools.conftest import Call, envelope, error

REFUSED_AGENTS = ["monitor", "aistalk", "stranger", None]
WRITERS = ["sofiia", "helion"]


def write_params(seeded: Seeded) -> dict[str, dict[str, Any]]:
    """Valid params for every write action of ``oncall_tool`` against the seeded store."""
    incident = {"incident_id": seeded.incident_id}
    return {
        "incident_create": {"service": "gateway", "env": "prod", "severity": "P2", "title": "t"},
        "incident_update": {**incident, "status": "mitigated"},
        "incident_append_event": {**incident, "type": "note", "message": "looking"},
        "incident_attach_artifact": {**incident, "name": "notes.md", "content": "# notes\n"},
        "followup_add": {**incident, "title": "Add a canary", "owner": "ana"},
        "followup_update": {**incident, "followup_id": seeded.followup_id, "status": "done"},
        "alert_ingest": {
            "alerts": [
                {
                    "source": "prom",
                    "service": "gateway",
                    "env": "prod",
                    "severity": "P2",
                    "title": "5xx",
                }
            ]
        },  # fmt: skip
    }


WRITE_ACTIONS = sorted(name for name, a in TOOLS["oncall_tool"].actions.items() if a.writes)


def test_every_write_action_is_covered(seeded: Seeded) -> None:
    assert sorted(write_params(seeded)) == WRITE_ACTIONS


@pytest.mark.parametrize("agent", REFUSED_AGENTS)
@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_writes_are_refused_and_change_nothing(
    call: Call, seeded: Seeded, action: str, agent: str | None
) -> None:
    before = tree_digest(seeded.store_dir)
    answer = call(envelope(action, agent, **write_params(seeded)[action]))
    code, message = error(answer)
    assert code == "forbidden"
    if agent is None:
        assert message == (
            f"oncall_tool.{action} needs incident_write: "
            "set agent_id in the envelope to an agent whose role has it"
        )
    else:
        assert message.startswith(f"agent {agent!r} (role agent_")
        assert message.endswith(
            ") may not incident_write: set agent_id in the envelope to an agent whose role has it"
        )
    assert tree_digest(seeded.store_dir) == before


@pytest.mark.parametrize("agent", WRITERS)
@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_writes_are_allowed_and_record_the_agent(
    call: Call, seeded: Seeded, action: str, agent: str
) -> None:
    store = JsonlIncidentStore(seeded.store_dir)
    before = {e.id for e in store.iter_events()}
    answer = call(envelope(action, agent, **write_params(seeded)[action]))
    assert answer["ok"] is True, answer
    if action == "alert_ingest":  # the inbox, not the timeline, records who sent them
        inbox = (seeded.store_dir / "alerts.jsonl").read_text().splitlines()
        assert [json.loads(line)["ingested_by"] for line in inbox] == [agent]
        return
    new_events = [e for e in store.iter_events() if e.id not in before]
    assert new_events and {e.actor for e in new_events} == {agent}
    if action in ("incident_create", "incident_attach_artifact"):
        assert answer["result"]["created_by"] == agent


@pytest.mark.parametrize("agent", [*REFUSED_AGENTS, "sofiia"])
def test_reads_need_no_write_permission(call: Call, seeded: Seeded, agent: str | None) -> None:
    answer = call(envelope("incident_get", agent, incident_id=seeded.incident_id))
    assert answer["ok"] is True
    assert answer["result"]["id"] == seeded.incident_id


def test_an_action_mis_declared_as_a_read_cannot_write(call: Call, seeded: Seeded) -> None:
    """``handle()`` enforces ``Action.writes``: a read action gets a store that refuses writes."""
    from gatekeeper.store.writes import WriteBatch
    from gatekeeper.tools.base import Action, Result, ToolContext

    tool = TOOLS["oncall_tool"]
    original = tool.actions["incident_get"]

    def sneaky(ctx: ToolContext, params: Any) -> Result:
        incident = ctx.store.get_incident(params.incident_id)
        ctx.store.write(WriteBatch(updated_incidents=(incident.model_copy(update={"title": "x"}),)))
        return {}

    tool.actions["incident_get"] = Action("incident_get", original.params, sneaky, False, "")
    try:
        before = tree_digest(seeded.store_dir)
        answer = call(envelope("incident_get", "sofiia", incident_id=seeded.incident_id))
        assert error(answer) == (
            "forbidden",
            "oncall_tool.incident_get is declared as a read and may not write",
        )
        assert tree_digest(seeded.store_dir) == before
    finally:
        tool.actions["incident_get"] = original


@pytest.mark.parametrize("agent", ["monitor", None])
def test_a_refused_digest_save_says_to_set_agent_id(
    call: Call, seeded: Seeded, agent: str | None
) -> None:
    request: dict[str, Any] = {
        "tool": "incident_intelligence_tool",
        "action": "weekly_digest",
        "params": {"save_artifacts": True},
    }
    if agent is not None:
        request["agent_id"] = agent
    code, message = error(call(request))
    assert code == "forbidden"
    assert "digest_write" in message
    assert message.endswith("set agent_id in the envelope to an agent whose role has it")
    assert "--agent" not in message and "GATEKEEPER_AGENT" not in message
