"""``weekly_platform_priority_digest``: services ranked by risk, with the parts and the
overdue follow-ups behind each, as ``ops/reports/platform/YYYY-Www.{md,json}``.

Named by the ISO week of the scheduled slot (the week the priorities are for).
"""

from __future__ import annotations

from typing import Any

from gatekeeper.intelligence.risk import compute_risk
from gatekeeper.intelligence.weeks import week_of
from gatekeeper.ops.jobs._followups import overdue_followups
from gatekeeper.ops.jobs._reports import json_bytes, policy_risk
from gatekeeper.ops.outputs import FileOutput, Output
from gatekeeper.ops.runner import JobContext
from gatekeeper.timeutil import format_timestamp


def run(ctx: JobContext) -> list[Output]:
    week = week_of(ctx.slot)
    store = ctx.open_store()
    report = compute_risk(store, policy_risk(ctx.settings), now=ctx.now)
    scores = [score.to_json() for score in report.scores]
    overdue = overdue_followups(store, ctx.now)
    ranked = []
    for score in sorted(scores, key=lambda s: (-float(s["score"]), s["service"], s["env"])):
        mine = [
            o
            for o in overdue
            if (o.incident.service, o.incident.env) == (score["service"], score["env"])
        ]
        ranked.append({**score, "overdue_followups": [_overdue(o) for o in mine]})
    data = {"week": str(week), "generated_at": format_timestamp(ctx.now), "services": ranked}
    directory = ctx.report_dir("ops/reports/platform")
    return [
        FileOutput(directory / f"{week}.json", json_bytes(data)),
        FileOutput(directory / f"{week}.md", _markdown(data).encode()),
    ]


def _overdue(item: Any) -> dict[str, Any]:
    f = item.followup
    return {
        "incident_id": f.incident_id,
        "followup_id": f.followup_id,
        "title": f.title,
        "owner": f.owner,
        "priority": f.priority,
        "due": format_timestamp(f.due),
    }


def _markdown(data: dict[str, Any]) -> str:
    lines = [f"# Platform priorities, {data['week']}", "", f"Generated {data['generated_at']}.", ""]
    if not data["services"]:
        return "\n".join([*lines, "No services with a risk score.", ""])
    lines += [
        "| rank | service | env | score | band | overdue follow-ups |",
        "|---|---|---|---|---|---|",
    ]
    for rank, s in enumerate(data["services"], start=1):
        row = (
            rank,
            s["service"],
            s["env"],
            s["score"],
            s.get("band", ""),
            len(s["overdue_followups"]),
        )
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    for s in data["services"]:
        lines += ["", f"## {s['service']} / {s['env']}: {s['score']}", ""]
        for part in s.get("parts", []):
            lines.append(f"- {part.get('name')}: {part.get('points')} (cap {part.get('cap')})")
        for f in s["overdue_followups"]:
            lines.append(
                f"- overdue: {f['followup_id']} {f['title']} ({f['owner']}, due {f['due']})"
            )
    return "\n".join(lines) + "\n"
