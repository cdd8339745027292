"""The JSONL store's manifest, ``store.json``: what makes a directory a store.

It holds the format version, when the store was created and, per data file, a
high-water mark: the size in bytes and the number of records the file had after
the last write acknowledged by gatekeeper. Writers update it under the store
lock after every append; ``store compact`` (a legitimate rewrite) and
``store init`` set it to the files as they are.

The gate uses it two ways: a directory with neither a manifest nor any record
is not a store (an empty answer from it would look like "no incidents"), and a
file now shorter than its high-water mark lost acknowledged records (truncated,
deleted, rewritten by hand) even when every remaining line parses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Any

from gatekeeper._frozen import frozen
from gatekeeper.errors import StoreUnavailable
from gatekeeper.store.base import Problem
from gatekeeper.store.fileio import atomic_write

LineCounter = Callable[[str], int]
MANIFEST = "store.json"
FORMAT_VERSION = 1
DATA_FILES = ("incidents.jsonl", "events.jsonl", "artifacts.jsonl")
NOT_A_STORE = (
    "not an incident store: no store.json and no records "
    "(`gatekeeper store init` makes an intentionally empty store)"
)


@frozen
class Mark:
    """A file's high-water mark: its size and record count after the last acknowledged write."""

    bytes: int = 0
    records: int = 0


@frozen
class Manifest:
    format_version: int
    created: str
    files: dict[str, Mark] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "format_version": self.format_version,
            "created": self.created,
            "files": {
                name: {"bytes": mark.bytes, "records": mark.records}
                for name, mark in sorted(self.files.items())
            },
        }
        return json.dumps(data, indent=2).encode() + b"\n"


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of ``directory``; ``None`` if it has none; unavailable if unreadable."""
    path = directory / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreUnavailable(f"cannot read: {exc.strerror}", where=str(path)) from exc
    try:
        data = json.loads(raw)
        files = {
            str(name): Mark(int(mark["bytes"]), int(mark["records"]))
            for name, mark in data.get("files", {}).items()
        }
        return Manifest(int(data["format_version"]), str(data["created"]), files)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StoreUnavailable(f"damaged manifest: {exc}", where=str(path)) from exc


def write_manifest(directory: Path, manifest: Manifest) -> None:
    # Not fsynced: a crash may leave the previous marks, which are only laxer.
    atomic_write(directory / MANIFEST, manifest.to_json(), durable=False)


def file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def has_records(directory: Path) -> bool:
    """Whether any data file of ``directory`` holds anything at all."""
    return any(file_size(directory / name) > 0 for name in DATA_FILES)


def after_append(
    directory: Path, appended: dict[str, int], created: datetime, count_lines: LineCounter
) -> None:
    """Move the marks on after an append (the caller holds the lock).

    ``appended`` is records added per file. Without a manifest yet (a store
    written before manifests existed), the marks start from the files' lines,
    counted once by ``count_lines(name)``.
    """
    current = read_manifest(directory)
    if current is None:
        current = baseline(directory, created, count_lines)
    else:
        files = dict(current.files)
        for name in DATA_FILES:
            previous = files.get(name, Mark())
            size = file_size(directory / name)
            files[name] = Mark(size, previous.records + appended.get(name, 0))
        current = Manifest(current.format_version, current.created, files)
    write_manifest(directory, current)


def baseline(directory: Path, created: datetime | str, count_lines: LineCounter) -> Manifest:
    """A manifest describing the files exactly as they are now."""
    files = {
        name: Mark(
            file_size(directory / name),
            int(count_lines(name)) if file_size(directory / name) else 0,
        )
        for name in DATA_FILES
    }
    stamp = created if isinstance(created, str) else _iso(created)
    return Manifest(FORMAT_VERSION, stamp, files)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def shrunk_files(directory: Path, manifest: Manifest) -> list[Problem]:
    """A :class:`Problem` per data file now shorter than its high-water mark."""
    found = []
    for name, mark in sorted(manifest.files.items()):
        size = file_size(directory / name)
        if size < mark.bytes:
            reason = f"truncated: {size} bytes < high-water {mark.bytes}"
            found.append(Problem(str(directory / name), 0, reason))
    return found


def require_store(directory: Path) -> Manifest | None:
    """The manifest; :class:`StoreUnavailable` if ``directory`` is not a store at all."""
    if not directory.is_dir():
        raise StoreUnavailable("store directory does not exist", where=str(directory))
    manifest = read_manifest(directory)
    if manifest is None and not has_records(directory):
        raise StoreUnavailable(NOT_A_STORE, where=str(directory))
    return manifest
