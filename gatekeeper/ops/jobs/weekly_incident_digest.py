"""``weekly_incident_digest``: the last complete week's digest, saved as JSON and Markdown.

Named by the scheduled slot: the Monday 08:00 run writes the week that just ended,
``ops/reports/incidents/weekly/YYYY-Www.{json,md}``.
"""

from __future__ import annotations

import json

from gatekeeper.intelligence.digest import render_markdown, weekly_digest
from gatekeeper.intelligence.weeks import last_complete_week
from gatekeeper.ops.outputs import FileOutput, Output
from gatekeeper.ops.runner import JobContext


def run(ctx: JobContext) -> list[Output]:
    week = last_complete_week(ctx.slot)
    digest = weekly_digest(ctx.open_store(), week, now=ctx.now)
    directory = ctx.report_dir("ops/reports/incidents/weekly")
    return [
        # byte for byte what `gatekeeper digest weekly --save` writes
        FileOutput(
            directory / f"{week}.json", (json.dumps(digest.to_json(), indent=2) + "\n").encode()
        ),
        FileOutput(directory / f"{week}.md", render_markdown(digest).encode()),
    ]
