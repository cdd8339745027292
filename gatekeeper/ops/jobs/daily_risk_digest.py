"""``daily_risk_digest``: ``ops/reports/risk/YYYY-MM-DD.{md,json}``, services ranked by risk."""

from __future__ import annotations

from gatekeeper.intelligence.risk import render_markdown
from gatekeeper.ops.jobs._reports import json_bytes, risk_report
from gatekeeper.ops.outputs import FileOutput, Output
from gatekeeper.ops.runner import JobContext


def run(ctx: JobContext) -> list[Output]:
    report = risk_report(ctx)
    directory = ctx.report_dir("ops/reports/risk")
    name = ctx.slot.date().isoformat()
    return [
        FileOutput(directory / f"{name}.json", json_bytes(report.to_json())),
        FileOutput(directory / f"{name}.md", render_markdown(report).encode()),
    ]
