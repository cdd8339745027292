"""The default report: a few lines a person reads in a CI log, decision first."""

from __future__ import annotations

from gatekeeper.engine.report import GateResult, Report
from gatekeeper.reports._common import (
    clear_actions,
    finding_line,
    partial_note,
    provenance_line,
    strictness_note,
)
from gatekeeper.timeutil import format_timestamp


def render(report: Report) -> str:
    lines = [_headline(report)]
    if not report.results:
        lines.append("  no gate applies to these services in this environment")
    width = max((len(r.gate) + len(r.service) for r in report.results), default=0) + 3
    for result in report.results:
        lines.extend(_result(result, report, width))
    for waiver in report.expired_waivers:
        lines.append(
            f"  expired waiver ignored: {waiver.gate}/{waiver.service} ({waiver.ticket}, "
            f"expired {format_timestamp(waiver.expires_at)})"
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


def _headline(report: Report) -> str:
    partial = f"; {partial_note(report)}" if report.partial else ""
    return (
        f"gatekeeper: {report.decision.upper()} (exit {report.exit_code}) - "
        f"{strictness_note(report)}; services {', '.join(report.services)}; "
        f"evaluated at {format_timestamp(report.evaluated_at)}{partial}"
    )


def _result(result: GateResult, report: Report, width: int) -> list[str]:
    label = f"{result.gate} / {result.service}".ljust(width)
    lines = [f"  {result.decision.upper():<5}  {label} {result.reason}"]
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
