"""A Markdown summary for ``$GITHUB_STEP_SUMMARY`` and merge-request comments.

Every piece of text that is not ours (incident titles, owners, tickets, waiver and
override reasons, error messages, paths) renders as text, never as Markdown or
HTML: ``&``, ``<`` and ``>`` become entities, Markdown punctuation (backslash,
backtick, ``*``, ``_``, ``[``, ``]``, ``|``, ``~``) is backslash-escaped — so a
``|`` cannot split a table cell — and newlines are folded. An underscore between
two letters or digits (``inc_20260228_1200_abc123``) cannot start emphasis and is
left as it is, so ids stay readable in the raw file. Code spans are fenced
with more backticks than the text holds. ``quiet`` keeps the heading only.
"""

from __future__ import annotations

from gatekeeper.engine.report import Report
from gatekeeper.reports._common import (
    clear_actions,
    finding_line,
    partial_note,
    provenance_line,
    strictness_note,
    totals_line,
)
from gatekeeper.timeutil import format_second

ICONS = {"pass": "✅", "warn": "⚠️", "block": "⛔", "error": "❗"}
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_PUNCTUATION = frozenset("\\`*_[]|~")


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    """The summary; ``color`` is accepted for a uniform signature (Markdown has none)."""
    icon = ICONS[report.decision]
    heading = f"## {icon} gatekeeper: {report.decision} ({escape(report.env)})"
    if quiet:
        return heading + "\n"
    lines = [
        heading,
        "",
        f"{escape(strictness_note(report))} · services "
        f"{', '.join(code(s) for s in report.services)} · evaluated at "
        f"{format_second(report.evaluated_at)} · exit code {report.exit_code}",
        "",
        f"**{escape(totals_line(report))}**",
        *(["", f"**{escape(partial_note(report))}**"] if report.partial else []),
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
        lines.append("| " + " | ".join(escape(cell) for cell in row) + " |")
    lines.extend(_details(report))
    lines += ["", f"<sub>{escape(provenance_line(report))}</sub>"]
    return "\n".join(lines) + "\n"


def _details(report: Report) -> list[str]:
    lines: list[str] = []
    findings = [(r, f) for r in report.results for f in r.findings]
    if findings:
        lines += ["", "### Findings", ""]
        lines += [
            f"- **{escape(r.gate)} / {escape(r.service)}**: {escape(finding_line(f))}"
            for r, f in findings
        ]
    if report.expired_waivers:
        lines += ["", "### Expired waivers (ignored)", ""]
        lines += [
            f"- {escape(w.gate)} / {escape(w.service)}: {escape(w.ticket)}, expired "
            f"{format_second(w.expires_at)}"
            for w in report.expired_waivers
        ]
    if report.override is not None:
        o = report.override
        lines += [
            "",
            f"**Override** by {code(o.agent)}"
            f"{' (--no-strict on a strict env)' if o.no_strict else ''}: {escape(o.reason)} "
            f"(gates: {escape(', '.join(o.gates) or 'none')}; "
            f"recorded: {escape(o.recorded or 'no')})",
        ]
    actions = clear_actions(report)
    if actions:
        lines += ["", "### What would clear it", ""]
        lines += [f"- {escape(a)}" for a in actions]
    return lines


def escape(text: str) -> str:
    """``text`` as literal Markdown text on one line: no HTML, no formatting, no cell breaks."""
    text = _one_line(text)
    out = []
    for index, char in enumerate(text):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char == "_" and _inside_word(text, index):
            out.append(char)  # inc_2026_abc: an underscore between letters never emphasises
        elif char in _PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _inside_word(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()


def code(text: str) -> str:
    """``text`` as an inline code span, fenced by one backtick more than its longest run."""
    text = _one_line(text)
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
