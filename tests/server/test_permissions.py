"""The whole permission matrix through API keys: each role, each action, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from gatekeeper.tools import TOOLS
from tests.conftest import tree_digest
from tests.server.conftest import AGENTS, Served

WRITERS = {"sofiia", "helion"}


def example_params(served: Served, tool: str, action: str) -> dict[str, Any]:
    """Valid params for ``tool.action`` on the served store (an incident is made first)."""
    created = served.call(
        "oncall_tool",
        {"action": "incident_create",
         "params": {"service": "gateway", "env": "prod", "severity": "P2", "title": "Slow"}},
    )  # fmt: skip
    incident_id = created.json()["result"]["id"]
    added = served.call(
        "oncall_tool",
        {"action": "followup_add",
         "params": {"incident_id": incident_id, "title": "Fix it", "owner": "ana"}},
    )  # fmt: skip
    followup_id = added.json()["result"]["followup_id"]
    examples: dict[tuple[str, str], dict[str, Any]] = {
        ("oncall_tool", "incident_create"): {
            "service": "gateway", "env": "prod", "severity": "P1", "title": "Down"},
        ("oncall_tool", "incident_get"): {"incident_id": incident_id},
        ("oncall_tool", "incident_list"): {"status": "open"},
        ("oncall_tool", "incident_update"): {"incident_id": incident_id, "severity": "P1"},
        ("oncall_tool", "incident_append_event"): {
            "incident_id": incident_id, "type": "note", "message": "hi"},
        ("oncall_tool", "incident_attach_artifact"): {
            "incident_id": incident_id, "name": "a.txt", "content": "x"},
        ("oncall_tool", "incident_followups_summary"): {"service": "gateway", "env": "prod"},
        ("oncall_tool", "followup_add"): {
            "incident_id": incident_id, "title": "More", "owner": "bo"},
        ("oncall_tool", "followup_update"): {
            "incident_id": incident_id, "followup_id": followup_id, "status": "done"},
    }  # fmt: skip
    return examples[(tool, action)]


CASES = [
    (tool.name, action.name, action.writes, agent)
    for tool in TOOLS.values()
    for action in tool.actions.values()
    for agent in AGENTS
]


@pytest.mark.parametrize(("tool", "action", "writes", "agent"), CASES)
def test_permission_matrix(
    served: Served, tool: str, action: str, writes: bool, agent: str
) -> None:
    params = example_params(served, tool, action)
    before = tree_digest(served.store_dir)
    response = served.call(tool, {"action": action, "params": params}, agent=agent)
    if writes and agent not in WRITERS:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
        assert tree_digest(served.store_dir) == before
    else:
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True
        if writes:
            assert tree_digest(served.store_dir) != before
