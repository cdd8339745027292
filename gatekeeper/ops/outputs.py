"""What a job writes, described before it is written.

A job returns a list of outputs; the runner applies them, or for ``--dry-run``
only describes them, so no job can write anything during a dry run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gatekeeper.store.fileio import atomic_write, ensure_directory


class Output(Protocol):
    @property
    def target(self) -> str: ...

    def describe(self) -> str: ...

    def apply(self) -> None: ...

    def to_json_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FileOutput:
    """A file replaced atomically (temp file + rename): a double fire rewrites the same bytes."""

    path: Path
    data: bytes

    @property
    def target(self) -> str:
        return str(self.path)

    def describe(self) -> str:
        return f"{self.path} ({len(self.data)} bytes)"

    def apply(self) -> None:
        ensure_directory(self.path.parent)
        atomic_write(self.path, self.data)

    def to_json_dict(self) -> dict[str, Any]:
        return {"kind": "file", "target": self.target, "bytes": len(self.data)}


@dataclass(frozen=True)
class RecordsOutput:
    """Records appended to a file or table (``write`` does it; nothing runs on a dry run)."""

    target: str
    records: tuple[dict[str, Any], ...]
    write: Callable[[], None]

    def describe(self) -> str:
        count = len(self.records)
        return f"{self.target} ({count} record{'s' * (count != 1)})"

    def apply(self) -> None:
        if self.records:
            self.write()

    def to_json_dict(self) -> dict[str, Any]:
        return {"kind": "records", "target": self.target, "records": list(self.records)}
