"""The default report: a few lines a person reads in a CI log, decision first.

With ``color`` (the CLI decides: a terminal, no ``NO_COLOR``, no ``--no-color``)
decisions are painted with plain ANSI codes — PASS green, WARN yellow, BLOCK and
ERROR red — and the decision line is bold. Padding is computed on the plain
words, so the columns line up either way. ``quiet`` keeps the decision line only.
"""

from __future__ import annotations

from gatekeeper.engine.report import GateResult, Report
from gatekeeper.reports._common import (
    clear_actions,
    finding_line,
    partial_note,
    provenance_line,
    strictness_note,
    totals_line,
)
from gatekeeper.timeutil import format_second

COLORS = {"pass": "32", "warn": "33", "block": "31", "error": "31"}
BOLD, RESET, DEFAULT_COLOR = "\x1b[1m", "\x1b[0m", "\x1b[39m"
_DECISION_WIDTH = max(len(d) for d in COLORS)


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    lines = [_headline(report, color)]
    if quiet:
        return lines[0] + "\n"
    lines.append(totals_line(report))
    if not report.results:
        lines.append("  no gate applies to these services in this environment")
    width = max((len(_label(r)) for r in report.results), default=0)
    for result in report.results:
        lines.extend(_result(result, report, width, color))
    for waiver in report.expired_waivers:
        lines.append(
            f"  expired waiver ignored: {waiver.gate}/{waiver.service} ({waiver.ticket}, "
            f"expired {format_second(waiver.expires_at)})"
        )
    if report.override is not None:
        lines.append(_override(report))
    lines.extend(f"  report not written: {error}" for error in report.output_errors)
    actions = clear_actions(report)
    if actions:
        lines.append("what would clear it:")
        lines.extend(f"  - {action}" for action in actions)
    lines.append(provenance_line(report))
    return "\n".join(lines) + "\n"


def _paint(word: str, decision: str, color: bool) -> str:
    """``word`` in the colour of ``decision``; the foreground is reset, bold is kept."""
    return f"\x1b[{COLORS[decision]}m{word}{DEFAULT_COLOR}" if color else word


def _headline(report: Report, color: bool) -> str:
    partial = f"; {partial_note(report)}" if report.partial else ""
    decision = _paint(report.decision.upper(), report.decision, color)
    line = (
        f"gatekeeper: {decision} (exit {report.exit_code}) - "
        f"{strictness_note(report)}; services {', '.join(report.services)}; "
        f"evaluated at {format_second(report.evaluated_at)}{partial}"
    )
    return f"{BOLD}{line}{RESET}" if color else line


def _label(result: GateResult) -> str:
    return f"{result.gate} / {result.service}"


def _result(result: GateResult, report: Report, width: int, color: bool) -> list[str]:
    word = result.decision.upper()
    pad = " " * (_DECISION_WIDTH - len(word))
    decision = _paint(word, result.decision, color)
    lines = [f"  {decision}{pad}  {_label(result).ljust(width)}  {result.reason}"]
    if result.waiver is not None and result.decision == "block":
        lines.append(f"         waiver {result.waiver.ticket} is active but does not cover this")
    lines.extend(f"         - {finding_line(f)}" for f in result.findings)
    return lines


def _override(report: Report) -> str:
    assert report.override is not None
    override = report.override
    what = "--no-strict on a strict env, " if override.no_strict else ""
    recorded = f"; recorded: {override.recorded}" if override.recorded else ""
    if not override.gates:
        return (
            f"  override by {override.agent} requested ({what}{override.reason}): "
            f"nothing to override{recorded}"
        )
    incidents = ", ".join(override.incidents) or "none"
    return (
        f"  OVERRIDE by {override.agent}: {what}{override.reason} - gates "
        f"{', '.join(override.gates)} softened to warn; incidents: {incidents}{recorded}"
    )
