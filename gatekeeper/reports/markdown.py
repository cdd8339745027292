"""A Markdown summary for ``$GITHUB_STEP_SUMMARY`` and merge-request comments."""

from __future__ import annotations

from gatekeeper.engine.report import Report
from gatekeeper.reports._common import (
    clear_actions,
    finding_line,
    partial_note,
    provenance_line,
    strictness_note,
)
from gatekeeper.timeutil import format_timestamp

ICONS = {"pass": "✅", "warn": "⚠️", "block": "⛔", "error": "❗"}


def render(report: Report) -> str:
    icon = ICONS[report.decision]
    lines = [
        f"## {icon} gatekeeper: {report.decision} ({report.env})",
        "",
        f"{_escape(strictness_note(report))} · services "
        f"{', '.join(f'`{s}`' for s in report.services)} · evaluated at "
        f"{format_timestamp(report.evaluated_at)} · exit code {report.exit_code}",
        *(["", f"**{_escape(partial_note(report))}**"] if report.partial else []),
        "",
        "| Gate | Service | Decision | Findings | Reason |",
        "|---|---|---|---|---|",
    ]
    for r in report.results:
        decision = f"{ICONS[r.decision]} {r.decision}"
        if r.waiver_applied and r.waiver is not None:
            decision += f" (waiver {r.waiver.ticket})"
        if r.override:
            decision += " (override)"
        row = (r.gate, r.service, decision, str(len(r.findings)), r.reason)
        lines.append("| " + " | ".join(_escape(cell) for cell in row) + " |")
    lines.extend(_details(report))
    lines += ["", f"<sub>{_escape(provenance_line(report))}</sub>"]
    return "\n".join(lines) + "\n"


def _details(report: Report) -> list[str]:
    lines: list[str] = []
    findings = [(r, f) for r in report.results for f in r.findings]
    if findings:
        lines += ["", "### Findings", ""]
        lines += [f"- **{r.gate} / {r.service}**: {_escape(finding_line(f))}" for r, f in findings]
    if report.expired_waivers:
        lines += ["", "### Expired waivers (ignored)", ""]
        lines += [
            f"- {w.gate} / {w.service}: {_escape(w.ticket)}, expired "
            f"{format_timestamp(w.expires_at)}"
            for w in report.expired_waivers
        ]
    if report.override is not None:
        o = report.override
        lines += [
            "",
            f"**Override** by `{o.agent}`"
            f"{' (--no-strict on a strict env)' if o.no_strict else ''}: {_escape(o.reason)} "
            f"(gates: {', '.join(o.gates) or 'none'}; recorded: {_escape(o.recorded or 'no')})",
        ]
    actions = clear_actions(report)
    if actions:
        lines += ["", "### What would clear it", ""]
        lines += [f"- {_escape(a)}" for a in actions]
    return lines


def _escape(text: str) -> str:
    """Table- and list-safe: pipes escaped, newlines folded."""
    return text.replace("|", "\\|").replace("\n", " ")
