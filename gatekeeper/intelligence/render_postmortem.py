"""The postmortem draft as GitHub-flavoured Markdown, from the draft's JSON.

Every piece of user text goes through :mod:`gatekeeper.intelligence.markdown`;
prompts for what only people know are in italics, to be replaced.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gatekeeper.intelligence.markdown import paragraph, text
from gatekeeper.intelligence.stats import human_duration


def _utc(stamp: str | None) -> str:
    """``2026-03-01 10:00:05`` (UTC, to the second) from a stored timestamp; ``-`` if none."""
    if stamp is None:
        return "-"
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else text(str(value))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _prompt(words: str) -> str:
    return f"- _{words}_"


def _header(data: dict[str, Any]) -> list[str]:
    incident, impact = data["incident"], data["impact"]
    return [
        f"# Postmortem draft: {text(incident['title'])}",
        "",
        f"> Draft generated from the incident record at {data['generated_at']}. Replace the "
        "prompts in italics, review it, then attach the result as `postmortem.md`: "
        "this draft does not satisfy the `postmortem_required` gate.",
        "",
        *_table(
            ["", ""],
            [
                ["Incident", f"`{incident['id']}`"],
                ["Severity", _cell(incident["severity"])],
                ["Status", _cell(incident["status"])],
                ["Service / env", f"{_cell(impact['service'])} / {_cell(impact['env'])}"],
                ["Started (UTC)", _utc(impact["started_at"])],
                ["Ended (UTC)", _utc(impact["ended_at"])],
                ["Authors", "_who writes this postmortem_"],
            ],
        ),
    ]


def _summary(data: dict[str, Any]) -> list[str]:
    summary = data["incident"].get("summary")
    body = (
        paragraph(summary)
        if summary
        else "_No summary was recorded. In two or three sentences: what happened, "
        "to whom, for how long, and how it ended._"
    )
    return ["## Summary", "", body, ""]


def _impact(data: dict[str, Any]) -> list[str]:
    impact = data["impact"]
    if impact["ongoing"]:
        duration = f"{human_duration(impact['duration_s'])} so far (still active at "
        duration += f"{_utc(data['generated_at'])} UTC)"
    else:
        duration = f"{human_duration(impact['duration_s'])} ({impact['duration_s']:.0f} s)"
    labels = ", ".join(f"{text(k)}={text(v)}" for k, v in impact["labels"].items()) or "none"
    return [
        "## Impact",
        "",
        f"- Duration: {duration}, from {_utc(impact['started_at'])} "
        f"to {_utc(impact['ended_at'])} UTC",
        f"- Severity: {text(impact['severity'])}",
        f"- Service / environment: {text(impact['service'])} / {text(impact['env'])}",
        f"- Labels: {labels}",
        _prompt("Who and what was affected: users, requests, data, revenue, error budget?"),
        "",
    ]


def _timeline(data: dict[str, Any]) -> list[str]:
    rows = [
        [_utc(e["ts"]), _cell(e["type"]), _cell(e["actor"]), _cell(e["what"])]
        for e in data["timeline"]
    ]
    return [
        "## Timeline",
        "",
        f"All times UTC; every event of the record ({len(rows)}).",
        "",
        *_table(["time (UTC)", "type", "actor", "what"], rows),
    ]


def _took(seconds: float | None, never: str) -> str:
    return never if seconds is None else f"{human_duration(seconds)} ({seconds:.0f} s)"


def _detection(data: dict[str, Any]) -> list[str]:
    detection = data["detection"]
    acked = _took(detection["time_to_ack_s"], "never acknowledged")
    if detection["acked_at"] is not None:
        acked += f", at {_utc(detection['acked_at'])} by {_cell(detection['acked_by'])}"
    lines = ["## Detection", "", f"- Time to acknowledge: {acked}"]
    fingerprint = data["impact"]["labels"].get("fingerprint")
    if fingerprint is not None:
        lines.append(f"- Alert fingerprint: {text(fingerprint)}")
    lines += [
        _prompt("How was it detected: an alert, a customer, someone noticing?"),
        _prompt("Could it have been detected sooner? What would have caught it?"),
        "",
    ]
    return lines


def _resolution(data: dict[str, Any]) -> list[str]:
    r = data["resolution"]
    mitigated = _took(r["time_to_mitigate_s"], "not mitigated yet")
    resolved = _took(r["time_to_resolve_s"], "not resolved yet")
    if r["mitigated_at"] is not None:
        mitigated += f", at {_utc(r['mitigated_at'])}"
    if r["resolved_at"] is not None:
        resolved += f", at {_utc(r['resolved_at'])}"
    return [
        "## Resolution",
        "",
        f"- Time to mitigate: {mitigated}",
        f"- Time to resolve: {resolved}",
        _prompt("What mitigated it, and what resolved it? What slowed the recovery down?"),
        "",
    ]


def _root_cause(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Root cause",
        "",
        _prompt("What triggered it, and what underlying cause let the trigger do harm?"),
        _prompt('Ask "why" until the answer is something the team can change.'),
        "",
        "### Correlated incidents",
        "",
    ]
    related = data["correlated"]
    if related:
        lines += [
            f"Incidents within {data['correlation_window_days']} days that look related "
            "(`gatekeeper correlate`). Same cause, or a coincidence?",
            "",
        ]
        rows = [
            [
                f"`{r['incident_id']}`",
                f"{r['score']:g}",
                f"{_cell(r['service'])} / {_cell(r['env'])}",
                _cell(r["title"]),
                ", ".join(f"{text(p['part'])} {p['points']:g}" for p in r["reasons"]),
            ]
            for r in related
        ]
        lines += _table(["incident", "score", "service / env", "title", "why"], rows)
    else:
        lines += [f"None found within {data['correlation_window_days']} days.", ""]
    recurrence = data["recurrence"]
    lines += ["### Recurrence", ""]
    earlier = recurrence["incidents"]
    sig = text(recurrence["signature"])
    if not earlier:
        lines += [f"No other incident with the signature {sig} since {recurrence['since']}.", ""]
        return lines
    flag = " It is recurring." if recurrence["recurring"] else ""
    lines += [
        f"The signature {sig} was seen {recurrence['count']} times since "
        f"{recurrence['since']}.{flag} What did the fixes of the others miss?",
        "",
        *_table(
            ["incident", "env", "severity", "status", "started (UTC)"],
            [
                [
                    f"`{i['incident_id']}`",
                    _cell(i["env"]),
                    _cell(i["severity"]),
                    _cell(i["status"]),
                    _utc(i["started_at"]),
                ]
                for i in earlier
            ],
        ),
    ]
    undone = recurrence["undone_followups"]
    if undone:
        lines += ["It came back and these fixes were not done:", ""]
        lines += _table(
            ["follow-up", "of", "owner", "status", "due", "came back in"],
            [
                [
                    f"{_cell(u['title'])} ({_cell(u['followup_id'])})",
                    f"`{u['incident_id']}`",
                    _cell(u["owner"]),
                    _cell(u["status"]),
                    _utc(u["due"]),
                    f"`{u['came_back_in']}`",
                ]
                for u in undone
            ],
        )
    return lines


def _action_items(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"{_cell(a['title'])} ({_cell(a['followup_id'])}, {_cell(a['priority'])})",
            _cell(a["owner"]),
            _utc(a["due"]),
            _cell(a["status"]),
            _cell(a["ticket"]),
        ]
        for a in data["action_items"]
    ]
    lines = ["## Action items", ""]
    if not rows:
        lines += ["No follow-ups are recorded yet (`gatekeeper incident followup add`).", ""]
    rows.append(["_one per fix: prevent, detect, mitigate_", "", "", "", ""])
    return [*lines, *_table(["follow-up", "owner", "due", "status", "ticket"], rows)]


def _lessons() -> list[str]:
    return [
        "## Lessons learned",
        "",
        "### What went well",
        "",
        _prompt("What worked: alerts, runbooks, tools, people?"),
        "",
        "### What went wrong",
        "",
        _prompt("What failed, was missing, or made it worse?"),
        "",
        "### Where we got lucky",
        "",
        _prompt("What could have made it much worse, and did not, by chance?"),
        "",
    ]


def _supporting(data: dict[str, Any]) -> list[str]:
    lines = ["## Supporting information", ""]
    artifacts = data["artifacts"]
    lines.append("- Artifacts: " + (", ".join(text(a) for a in artifacts) if artifacts else "none"))
    for problem in data["skipped_records"]:
        lines.append(f"- Warning: the store read skipped {text(problem)}")
    if data["degraded"]:
        lines.append("- Warning: the store was read from its fallback; this may be incomplete")
    return [*lines, ""]


def render(data: dict[str, Any]) -> str:
    lines = [
        *_header(data),
        *_summary(data),
        *_impact(data),
        *_timeline(data),
        *_detection(data),
        *_resolution(data),
        *_root_cause(data),
        *_action_items(data),
        *_lessons(),
        *_supporting(data),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
