"""Report writers, one module per format, each with ``render(report, *, color, quiet) -> str``.

Only the writer asked for is imported (the JUnit one pulls in ``junit_xml``).
``color`` (ANSI) only changes the text report; ``quiet`` (the decision line only)
applies to the human formats and is refused for the machine ones, which are
always complete.
"""

from __future__ import annotations

import importlib
from typing import Protocol, cast

from gatekeeper.engine.report import Report

FORMATS = ("text", "json", "junit", "markdown", "github")
HUMAN_FORMATS = ("text", "markdown", "github")


class Writer(Protocol):
    def render(self, report: Report, *, color: bool = False, quiet: bool = False) -> str: ...


def render(report: Report, fmt: str, *, color: bool = False, quiet: bool = False) -> str:
    """``report`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    if quiet and fmt not in HUMAN_FORMATS:
        raise ValueError(f"a {fmt} report is always complete; quiet is for {HUMAN_FORMATS}")
    writer = cast(Writer, importlib.import_module(f"gatekeeper.reports.{fmt}"))
    return writer.render(report, color=color, quiet=quiet)
