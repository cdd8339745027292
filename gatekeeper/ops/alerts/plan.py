"""A triage batch planned in memory: new and updated incidents, events, processed marks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gatekeeper.models import Event, Incident
from gatekeeper.store import WriteBatch


@dataclass
class TriagePlan:
    new: dict[str, Incident] = field(default_factory=dict)
    updated: dict[str, Incident] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps({
            "new": [i.to_json_dict() for i in self.new.values()],
            "updated": [i.to_json_dict() for i in self.updated.values()],
            "events": [e.to_json_dict() for e in self.events],
            "marks": self.marks,
        }).encode()  # fmt: skip

    @classmethod
    def from_json(cls, data: bytes) -> TriagePlan:
        raw = json.loads(data)
        plan = cls()
        plan.new = {i["id"]: Incident.model_validate(i) for i in raw["new"]}
        plan.updated = {i["id"]: Incident.model_validate(i) for i in raw["updated"]}
        plan.events = [Event.model_validate(e) for e in raw["events"]]
        plan.marks = raw["marks"]
        return plan

    def batch(self) -> WriteBatch:
        return WriteBatch(
            tuple(self.new.values()), tuple(self.updated.values()), tuple(self.events)
        )
