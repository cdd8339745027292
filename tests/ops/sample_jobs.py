"""A job for the runner tests: writes one report named by its slot, optionally slowly."""

from __future__ import annotations

import time

from gatekeeper.ops.outputs import FileOutput, Output
from gatekeeper.ops.runner import JobContext


def write_report(ctx: JobContext) -> list[Output]:
    time.sleep(float(ctx.inputs.get("sleep_s", 0)))
    path = ctx.report_dir("ops/reports/sample") / f"{ctx.slot:%Y-%m-%dT%H%M}.txt"
    return [FileOutput(path, f"slot {ctx.slot.isoformat()} by {ctx.agent}\n".encode())]
