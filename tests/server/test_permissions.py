"""The whole permission matrix through API keys: each role, each action, over HTTP.

Each action's request is its example in docs/api.md, so every tool served (and
documented) is in the matrix.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gatekeeper.tools import TOOLS
from tests.conftest import tree_digest
from tests.server.conftest import AGENTS, Served, serve
from tests.server.examples import (
    FOLLOWUP_PLACEHOLDER,
    RUNBOOK_ID,
    Example,
    curl_examples,
    seed_runbook_incident,
)

WRITERS = {"sofiia", "helion"}
# Actions that read unless their params ask them to save, as their documented
# examples do (the runbook's weekly digest with save_artifacts, its correlation
# with append_note, a postmortem draft with save).
SAVES_IN_ITS_EXAMPLE = {
    ("incident_intelligence_tool", "weekly_digest"),
    ("incident_intelligence_tool", "correlate"),
    ("incident_intelligence_tool", "postmortem_draft"),
}
EXAMPLES = {(e.tool, e.action): e for e in curl_examples() if e.tool is not None}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    tmp = tmp_path_factory.mktemp("matrix")
    (tmp / "store").mkdir()
    seed_runbook_incident(tmp / "store")
    running = serve(tmp)
    params = {"incident_id": RUNBOOK_ID, "title": "Alert on 5xx ratio", "owner": "ana"}
    added = running.call("oncall_tool", {"action": "followup_add", "params": params})
    yield running, added.json()["result"]["followup_id"]
    running.server.stop()


def request_body(example: Example, followup_id: str) -> dict[str, object]:
    params = {
        key: followup_id if value == FOLLOWUP_PLACEHOLDER else value
        for key, value in example.params().items()
    }
    return {"action": example.action, "params": params}


CASES = [
    (tool.name, action.name, action.writes, agent)
    for tool in TOOLS.values()
    for action in tool.actions.values()
    for agent in AGENTS
]


@pytest.mark.parametrize(("tool", "action", "writes", "agent"), CASES)
def test_permission_matrix(
    matrix: tuple[Served, str], tool: str, action: str, writes: bool, agent: str
) -> None:
    served, followup_id = matrix
    example = EXAMPLES.get((tool, action))
    assert example is not None, f"docs/api.md has no curl example for {tool}.{action}"
    before = tree_digest(served.store_dir)
    response = served.call(tool, request_body(example, followup_id), agent=agent)
    needs_writer = writes or (tool, action) in SAVES_IN_ITS_EXAMPLE
    if needs_writer and agent not in WRITERS:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
        assert tree_digest(served.store_dir) == before
    else:
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True
        if writes:
            assert tree_digest(served.store_dir) != before
