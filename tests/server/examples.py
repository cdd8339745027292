"""The curl examples of docs/api.md, parsed: one source of example requests for the tests.

The permission matrix takes each action's params from here, so a tool that lands
with its documented example is covered without another table to keep.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gatekeeper.store import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.server.live import REPO

DOC = REPO / "docs" / "api.md"
RUNBOOK_ID = "inc_20260218_1430_abc123"
FOLLOWUP_PLACEHOLDER = "fu_example"
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
TOOL_URL = re.compile(r"/v1/tools/([A-Za-z0-9_]+)")
BODY = re.compile(r"-d '(.*?)'", re.S)


@dataclass(frozen=True)
class Example:
    command: str
    tool: str | None  # None for the GET examples
    body: dict[str, Any] | None

    @property
    def action(self) -> str | None:
        return None if self.body is None else str(self.body.get("action"))

    def params(self) -> dict[str, Any]:
        """The params, whether the body nests them or (runbook style) does not."""
        assert self.body is not None
        if "params" in self.body:
            return dict(self.body["params"])
        return {k: v for k, v in self.body.items() if k not in ("tool", "action", "agent_id")}


def curl_examples() -> list[Example]:
    examples = []
    for block in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        if not block.lstrip().startswith("curl "):
            continue
        tool = TOOL_URL.search(block)
        body = BODY.search(block)
        examples.append(
            Example(
                command=block,
                tool=tool.group(1) if tool else None,
                body=json.loads(body.group(1)) if body else None,
            )
        )
    return examples


def seed_runbook_incident(store_dir: Any) -> None:
    """The incident the runbook's examples name, in a JSONL store."""
    from datetime import UTC, datetime

    from tests.store.factories import incident

    started = incident(started_at=datetime(2026, 2, 18, 14, 30, tzinfo=UTC))
    seeded = started.model_copy(update={"id": RUNBOOK_ID, "service": "gateway"})
    JsonlIncidentStore(store_dir).write(WriteBatch(new_incidents=(seeded,)))
