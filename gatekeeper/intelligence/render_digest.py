"""The weekly digest as GitHub-flavoured Markdown: tables and a Mermaid trend chart."""

from __future__ import annotations

from typing import Any

from gatekeeper.intelligence.stats import human_duration


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _durations(data: dict[str, Any]) -> list[str]:
    rows = []
    for key, label, apart in (
        ("mtta", "time to acknowledge", "unacked"),
        ("mttm", "time to mitigate", "unmitigated"),
        ("mttr", "time to resolve", "unresolved"),
    ):
        s = data[key]
        rows.append(
            [
                label,
                s["count"],
                human_duration(s["median_s"]),
                human_duration(s["p90_s"]),
                human_duration(s["mean_s"]),
                s[apart],
            ]
        )
    return _table(["", "count", "median", "p90", "mean", "not yet"], rows)


def _chart(data: dict[str, Any]) -> list[str]:
    weeks = ", ".join(f'"{w}"' for w in data["trend"]["weeks"])
    opened = data["trend"]["opened"]
    backlog = data["backlog"]["total"]
    top = max([*opened, *backlog, 1])
    return [
        "```mermaid",
        "xychart-beta",
        '    title "Opened incidents (bars) and open follow-ups (line)"',
        f"    x-axis [{weeks}]",
        f'    y-axis "count" 0 --> {top}',
        f"    bar [{', '.join(str(n) for n in opened)}]",
        f"    line [{', '.join(str(n) for n in backlog)}]",
        "```",
        "",
    ]


def render(data: dict[str, Any]) -> str:
    lines = [
        f"# Incident digest {data['week']}",
        "",
        f"{data['start']} to {data['end']} (generated {data['generated_at']})",
        "",
    ]
    opened, resolved = data["opened"], data["resolved"]
    if opened["total"] == 0 and resolved["total"] == 0:
        lines += ["No incidents were opened or resolved this week.", ""]
    change = data["change"]
    lines += [
        f"**{opened['total']} opened**, {resolved['total']} resolved; "
        f"{change['opened_vs_last_week']:+d} vs last week, "
        f"{change['opened_vs_median_of_4_before']:+g} vs the median of the 4 weeks before.",
        "",
        "## Opened and resolved",
        "",
    ]
    severities = list(opened["by_severity"])
    lines += _table(
        ["", *severities, "total"],
        [
            ["opened", *opened["by_severity"].values(), opened["total"]],
            ["resolved", *resolved["by_severity"].values(), resolved["total"]],
        ],
    )
    services = sorted(set(opened["by_service"]) | set(resolved["by_service"]))
    if services:
        lines += _table(
            ["service", "opened", "resolved"],
            [
                [s, opened["by_service"].get(s, 0), resolved["by_service"].get(s, 0)]
                for s in services
            ],
        )
    lines += ["## Response times (incidents opened this week)", "", *_durations(data)]
    lines += ["## Trend", "", *_chart(data)]
    lines += ["## Still active", ""]
    active = [
        [
            a["incident_id"],
            a["service"],
            a["env"],
            a["severity"],
            a["status"],
            human_duration(a["age_s"]),
            a["title"],
        ]
        for a in data["active"]
    ]
    lines += (
        _table(["incident", "service", "env", "sev", "status", "age", "title"], active)
        if active
        else ["None.", ""]
    )
    lines += ["## Overdue follow-ups", ""]
    overdue = [
        [
            f["followup_id"],
            f["incident_id"],
            f["owner"],
            f["priority"],
            f["due"],
            f["days_overdue"],
            f["title"],
        ]
        for f in data["overdue_followups"]
    ]
    lines += (
        _table(["follow-up", "incident", "owner", "prio", "due", "days over", "title"], overdue)
        if overdue
        else ["None.", ""]
    )
    lines += ["## Follow-up backlog", ""]
    backlog = data["backlog"]
    rows = [[s, *counts] for s, counts in backlog["by_service"].items()]
    lines += _table(["service", *backlog["weeks"]], [*rows, ["**total**", *backlog["total"]]])
    lines += ["## Recurring", ""]
    recurring = [
        [g["signature"], g["count"], g["last_seen"], len(g["undone_followups"])]
        for g in data["recurring"]
    ]
    lines += (
        _table(["signature", "count", "last seen", "undone follow-ups"], recurring)
        if recurring
        else ["None.", ""]
    )
    return "\n".join(lines).rstrip("\n") + "\n"
