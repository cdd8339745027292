"""Report files: checked before the gate runs, written after it.

A path that cannot be written is found before any gate runs (a configuration
error, exit 2, no decision printed). A write that still fails afterwards is
reported on the run (``Report.output_errors``) and never lowers the exit code
of a block or an error; it turns a pass into exit 2.
"""

from __future__ import annotations

import os
from pathlib import Path

from gatekeeper.errors import ConfigError


def check_writable(path: Path) -> None:
    """:class:`ConfigError` unless ``path`` can be created or overwritten as a file."""
    if path.is_dir():
        raise ConfigError("cannot write report: is a directory", where=str(path))
    existed = path.exists()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot write report: {exc.strerror}", where=str(path)) from exc
    os.close(fd)
    if not existed:  # the probe leaves nothing behind
        path.unlink(missing_ok=True)


def write_report(path: Path, text: str) -> None:
    """Write ``text`` to ``path``; :class:`ConfigError` naming the path if it fails."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write report: {exc.strerror}", where=str(path)) from exc
