"""Report writers, one module per format, each with ``render(report) -> str``.

Only the writer asked for is imported (the JUnit one pulls in ``junit_xml``).
"""

from __future__ import annotations

import importlib
from typing import Protocol, cast

from gatekeeper.engine.report import Report

FORMATS = ("text", "json", "junit", "markdown", "github")


class Writer(Protocol):
    def render(self, report: Report) -> str: ...


def render(report: Report, fmt: str) -> str:
    """``report`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    writer = cast(Writer, importlib.import_module(f"gatekeeper.reports.{fmt}"))
    return writer.render(report)
