"""GitHub Actions workflow commands: ``::error``/``::warning`` annotations, gate as title.

Each annotation's message lists the findings and then what would clear that
result; a closing ``::notice`` carries the decision and the totals. ``quiet``
keeps the ``::notice`` line only.
"""

from __future__ import annotations

from gatekeeper.engine.report import GateResult, Report
from gatekeeper.reports._common import finding_line, result_actions, totals_line

LEVELS = {"block": "error", "error": "error", "warn": "warning"}


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    """The workflow commands; ``color`` is accepted for a uniform signature (never used)."""
    summary = (
        f"gatekeeper {report.decision} for {', '.join(report.services)} in {report.env} "
        f"(exit {report.exit_code}) - {totals_line(report)}"
    )
    notice = f"::notice title=gatekeeper::{_data(summary)}"
    if quiet:
        return notice + "\n"
    lines = [_annotation(r, report) for r in report.results if r.decision in LEVELS]
    lines += [
        f"::warning title={_property(f'waiver expired: {w.gate}')}::"
        f"{_data(f'{w.service}: waiver {w.ticket} expired and is ignored')}"
        for w in report.expired_waivers
    ]
    lines.append(notice)
    return "\n".join(lines) + "\n"


def _annotation(result: GateResult, report: Report) -> str:
    body = [f"{result.service}: {result.decision} - {result.reason}"]
    body += [f"- {finding_line(f)}" for f in result.findings]
    actions = result_actions(result, report)
    if actions:
        body.append("what would clear it:")
        body += [f"- {action}" for action in actions]
    return (
        f"::{LEVELS[result.decision]} title={_property(result.gate)}::{_data(chr(10).join(body))}"
    )


def _data(text: str) -> str:
    """Escape a message the way the runner decodes it (% first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
