"""``daily_risk_digest``: ``ops/reports/risk/YYYY-MM-DD.{md,json}``, services ranked by risk."""

from __future__ import annotations

from gatekeeper.ops.jobs._intel import intelligence, policy_risk, to_json_bytes, to_markdown
from gatekeeper.ops.outputs import FileOutput, Output
from gatekeeper.ops.runner import JobContext


def run(ctx: JobContext) -> list[Output]:
    risk = intelligence("risk", "compute_risk")
    report = risk.compute_risk(ctx.open_store(), policy_risk(ctx.settings), now=ctx.now)
    directory = ctx.report_dir("ops/reports/risk")
    name = ctx.slot.date().isoformat()
    return [
        FileOutput(directory / f"{name}.json", to_json_bytes(report)),
        FileOutput(directory / f"{name}.md", to_markdown(risk, report)),
    ]
