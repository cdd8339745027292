"""SPEC §5 through the tool: every write is refused for read-only and missing agents,
leaving the store byte-for-byte unchanged, and is recorded under the acting agent."""

from __future__ import annotations

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
        assert message == "incident_write needs an agent (--agent or GATEKEEPER_AGENT)"
    else:
        assert message.startswith(f"agent {agent!r} (role agent_")
        assert message.endswith(") may not incident_write")
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
    new_events = [e for e in store.iter_events() if e.id not in before]
    assert new_events and {e.actor for e in new_events} == {agent}
    if action in ("incident_create", "incident_attach_artifact"):
        assert answer["result"]["created_by"] == agent


@pytest.mark.parametrize("agent", [*REFUSED_AGENTS, "sofiia"])
def test_reads_need_no_write_permission(call: Call, seeded: Seeded, agent: str | None) -> None:
    answer = call(envelope("incident_get", agent, incident_id=seeded.incident_id))
    assert answer["ok"] is True
    assert answer["result"]["id"] == seeded.incident_id
