"""Every example request in docs/tool-api.md runs against a temp store and answers as shown."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gatekeeper.models import Event, Incident
from gatekeeper.store import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.tools import TOOLS
from tests.conftest import REPO
from tests.tools.conftest import Call

DOC = REPO / "docs" / "tool-api.md"
BLOCK = re.compile(r"```json (request|answer)\n(.*?)```", re.DOTALL)
DOC_INCIDENT = "inc_20260223_1000_abc123"
DOC_FOLLOWUP = "fu_k3j9x2ab"


def examples() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(request, answer) pairs, in the order the document shows them."""
    blocks = [(kind, json.loads(body)) for kind, body in BLOCK.findall(DOC.read_text())]
    kinds = [kind for kind, _ in blocks]
    assert kinds == ["request", "answer"] * (len(blocks) // 2), "each request needs its answer"
    return [(blocks[i][1], blocks[i + 1][1]) for i in range(0, len(blocks), 2)]


def seed_doc_store(store_dir: Path) -> None:
    """The incident and follow-up the document's examples refer to."""
    started = "2026-02-23T10:00:00Z"
    incident = Incident(
        id=DOC_INCIDENT,
        service="gateway",
        env="prod",
        severity="P1",
        title="Gateway 5xx rate >5%",
        started_at=started,
        created_at=started,
        updated_at=started,
        created_by="helion",
    )
    common = {"incident_id": DOC_INCIDENT, "ts": started, "recorded_at": started, "actor": "helion"}
    opened = Event(
        id="evt_0000000000000001",
        type="status_change",
        message="incident opened",
        meta={"from": None, "to": "open"},
        **common,
    )
    followup_meta = {
        "followup_id": DOC_FOLLOWUP,
        "title": "Alert on 5xx ratio",
        "owner": "ana",
        "due": "2026-03-01",
        "priority": "P1",
        "status": "open",
    }
    followup = Event(
        id="evt_0000000000000002",
        type="followup",
        message="follow-up added",
        meta=followup_meta,
        **common,
    )
    JsonlIncidentStore(store_dir).write(
        WriteBatch(new_incidents=(incident,), events=(opened, followup))
    )


def test_examples_answer_as_documented(call: Call, store_dir: Path) -> None:
    seed_doc_store(store_dir)
    pairs = examples()
    assert pairs
    for request, documented in pairs:
        answer = call(request)
        assert answer["ok"] == documented["ok"], (request, answer)
        if not documented["ok"]:
            assert answer["error"] == documented["error"], request


def test_every_action_is_documented_with_an_example() -> None:
    shown = {(request["tool"], request["action"]) for request, _ in examples()}
    for tool in TOOLS.values():
        for action in tool.actions:
            assert (tool.name, action) in shown
            assert f"### `{action}`" in DOC.read_text()
