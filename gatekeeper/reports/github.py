"""GitHub Actions workflow commands: ``::error``/``::warning`` annotations, gate as title."""

from __future__ import annotations

from gatekeeper.engine.report import GateResult, Report
from gatekeeper.reports._common import finding_line

LEVELS = {"block": "error", "error": "error", "warn": "warning"}


def render(report: Report) -> str:
    lines = [_annotation(r, report) for r in report.results if r.decision in LEVELS]
    lines += [
        f"::warning title={_property(f'waiver expired: {w.gate}')}::"
        f"{_data(f'{w.service}: waiver {w.ticket} expired and is ignored')}"
        for w in report.expired_waivers
    ]
    summary = (
        f"gatekeeper {report.decision} for {', '.join(report.services)} in {report.env} "
        f"(exit {report.exit_code})"
    )
    lines.append(f"::notice title=gatekeeper::{_data(summary)}")
    return "\n".join(lines) + "\n"


def _annotation(result: GateResult, report: Report) -> str:
    body = [f"{result.service}: {result.decision} - {result.reason}"]
    body += [f"- {finding_line(f)}" for f in result.findings]
    return (
        f"::{LEVELS[result.decision]} title={_property(result.gate)}::{_data(chr(10).join(body))}"
    )


def _data(text: str) -> str:
    """Escape a message the way the runner decodes it (% first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
