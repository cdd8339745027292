"""``weekly_incident_digest``: the last complete week's digest, saved as JSON and Markdown.

Named by the scheduled slot: the Monday 08:00 run writes the week that just ended,
``ops/reports/incidents/weekly/YYYY-Www.{json,md}``.
"""

from __future__ import annotations

from gatekeeper.ops.jobs._intel import intelligence, to_json_bytes, to_markdown
from gatekeeper.ops.outputs import FileOutput, Output
from gatekeeper.ops.runner import JobContext


def run(ctx: JobContext) -> list[Output]:
    digest = intelligence("digest", "weekly_digest")
    week = intelligence("weeks", "last_complete_week").last_complete_week(ctx.slot)
    report = digest.weekly_digest(ctx.open_store(), week, now=ctx.now)
    directory = ctx.report_dir("ops/reports/incidents/weekly")
    return [
        FileOutput(directory / f"{week}.json", to_json_bytes(report)),
        FileOutput(directory / f"{week}.md", to_markdown(digest, report)),
    ]
