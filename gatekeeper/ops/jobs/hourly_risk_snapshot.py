"""``hourly_risk_snapshot``: every service's risk score, appended to the risk history."""

from __future__ import annotations

from gatekeeper.ops.history import risk_history_output
from gatekeeper.ops.jobs._reports import risk_report
from gatekeeper.ops.outputs import Output
from gatekeeper.ops.runner import JobContext


def run(ctx: JobContext) -> list[Output]:
    scores = [score.to_json() for score in risk_report(ctx).scores]
    return [risk_history_output(ctx.place, ctx.slot, scores)]
