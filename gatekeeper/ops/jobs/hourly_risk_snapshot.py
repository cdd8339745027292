"""``hourly_risk_snapshot``: every service's risk score, appended to the risk history."""

from __future__ import annotations

import json

from gatekeeper.ops.history import risk_history_output
from gatekeeper.ops.jobs._intel import intelligence, policy_risk
from gatekeeper.ops.outputs import Output
from gatekeeper.ops.runner import JobContext


def run(ctx: JobContext) -> list[Output]:
    risk = intelligence("risk", "compute_risk")
    report = risk.compute_risk(ctx.open_store(), policy_risk(ctx.settings), now=ctx.now)
    data = report.to_json()
    scores = json.loads(data)["scores"] if isinstance(data, str) else data["scores"]
    return [risk_history_output(ctx.place, ctx.slot, scores)]
