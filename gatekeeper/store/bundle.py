"""Portable store bundles: ``store export FILE`` and ``store import FILE`` (see docs/store.md).

A bundle is JSONL. The first line is a header, ``{"format": "gatekeeper-bundle",
"version": 1, ...}``; then one line per record, ``{"type": "incident" | "event" |
"artifact", "record": {...}}``, incidents first, then events, then artifacts. An
artifact line also carries the file's bytes, ``"content": {"encoding": "utf-8" |
"base64", "data": "..."}`` (``null`` when the file was missing at export).
Last come the break-glass log's entries, ``{"type": "gate_override", "record": {...}}``.
Record lines are written with sorted keys, so two exports of the same records
are byte-identical whichever backend they came from.

Import reads the whole bundle and validates every line first (one-line error
naming ``file:line`` and the field); only then does it write, with ``upsert``,
so importing twice changes nothing. Artifact files are staged beside their
destination and renamed into place once their metadata is committed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from gatekeeper.artifacts import MAX_ARTIFACT_BYTES, remove_stale_temp_files
from gatekeeper.errors import InvalidInput, NotFound, StoreUnavailable
from gatekeeper.models import Artifact, Event, Incident, Record, describe_validation_error
from gatekeeper.store.base import IncidentStore
from gatekeeper.store.fileio import fsync_directory
from gatekeeper.store.overrides import GateOverride, iter_overrides, write_overrides
from gatekeeper.store.writes import WriteBatch
from gatekeeper.timeutil import format_timestamp

FORMAT = "gatekeeper-bundle"
VERSION = 1
CHUNK = 2000  # records per write: bounded memory and transactions on big stores
Warn = Callable[[str], None]


class Header(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["gatekeeper-bundle"]
    version: int
    exported_at: str
    source: str


class Content(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    encoding: Literal["utf-8", "base64"]
    data: str


class IncidentLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["incident"]
    record: Incident


class EventLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["event"]
    record: Event


class ArtifactLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["artifact"]
    record: Artifact
    content: Content | None = None


class GateOverrideLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["gate_override"]
    record: GateOverride


LINE_MODELS: dict[str, type[BaseModel]] = {
    "incident": IncidentLine,
    "event": EventLine,
    "artifact": ArtifactLine,
    "gate_override": GateOverrideLine,
}


@dataclass
class BundleSummary:
    """What an export wrote or an import read, by record type."""

    path: str
    incidents: int = 0
    events: int = 0
    artifacts: int = 0
    files: int = 0
    missing_files: list[str] = field(default_factory=list)
    gate_overrides: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "incidents": self.incidents,
            "events": self.events,
            "artifacts": self.artifacts,
            "files": self.files,
            "missing_files": self.missing_files,
            "gate_overrides": self.gate_overrides,
        }


def artifact_path(artifacts_dir: Path, artifact: Artifact) -> Path:
    return artifacts_dir / artifact.incident_id / artifact.name


# -- export --------------------------------------------------------------------


def _line(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


def _record_line(kind: str, record: Record, **extra: Any) -> bytes:
    return _line({"type": kind, "record": record.to_json_dict(), **extra})


def _content(artifact: Artifact, artifacts_dir: Path, warn: Warn) -> dict[str, str] | None:
    path = artifact_path(artifacts_dir, artifact)
    try:
        data = path.read_bytes()
    except OSError as exc:
        warn(f"artifact file unreadable ({exc.strerror}); exporting metadata only: {path}")
        return None
    if hashlib.sha256(data).hexdigest() != artifact.sha256:
        warn(f"artifact file differs from its recorded sha256; exporting metadata only: {path}")
        return None
    try:
        return {"encoding": "utf-8", "data": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "data": base64.b64encode(data).decode("ascii")}


def _export_lines(
    store: IncidentStore, artifacts_dir: Path, now: datetime, summary: BundleSummary, warn: Warn
) -> Iterator[bytes]:
    yield _line(
        {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": format_timestamp(now),
            "source": store.backend,
        }
    )
    for incident in store.iter_incidents():
        summary.incidents += 1
        yield _record_line("incident", incident)
    for event in store.iter_events():
        summary.events += 1
        yield _record_line("event", event)
    for artifact in store.iter_artifacts():
        summary.artifacts += 1
        content = _content(artifact, artifacts_dir, warn)
        if content is None:
            summary.missing_files.append(f"{artifact.incident_id}/{artifact.name}")
        else:
            summary.files += 1
        yield _record_line("artifact", artifact, content=content)
    for entry in iter_overrides(store, lambda problem: warn(f"not exported: {problem}")):
        summary.gate_overrides += 1
        yield _record_line("gate_override", entry)


def export_bundle(
    store: IncidentStore, path: Path, *, artifacts_dir: Path, now: datetime, warn: Warn
) -> BundleSummary:
    """Write every record of ``store`` to ``path`` (atomically: temp file, then rename)."""
    summary = BundleSummary(str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            for line in _export_lines(store, artifacts_dir, now, summary, warn):
                handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise InvalidInput(f"cannot write bundle: {exc.strerror}", where=str(path)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return summary


# -- import --------------------------------------------------------------------


@dataclass
class Bundle:
    """A validated bundle, ready to write."""

    incidents: list[Incident] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    artifacts: list[tuple[Artifact, bytes | None]] = field(default_factory=list)
    gate_overrides: list[GateOverride] = field(default_factory=list)


def _decode_content(line: ArtifactLine) -> bytes | None:
    if line.content is None:
        return None
    if line.content.encoding == "utf-8":
        data = line.content.data.encode("utf-8")
    else:
        try:
            data = base64.b64decode(line.content.data, validate=True)
        except binascii.Error:
            raise ValueError("content.data: not valid base64") from None
    if len(data) != line.record.size_bytes:
        raise ValueError(f"content: {len(data)} bytes, record says {line.record.size_bytes}")
    if hashlib.sha256(data).hexdigest() != line.record.sha256:
        raise ValueError("content: sha256 does not match record.sha256")
    # The limits of attaching: the size, and JSON that parses. (UTF-8 is not
    # re-checked: a store may hold older text artifacts exported as base64.)
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ValueError(f"content: {len(data)} bytes, over the {MAX_ARTIFACT_BYTES}-byte limit")
    if line.record.kind == "json":
        try:
            json.loads(data)
        except ValueError as exc:
            raise ValueError(f"content: not valid JSON: {exc}") from None
    return data


def _parse_line(raw: bytes) -> BaseModel:
    data = json.loads(raw.rstrip(b"\r\n"))
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    kind = data.get("type")
    model = LINE_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValueError(f"type: expected one of {', '.join(LINE_MODELS)}, got {kind!r}")
    return model.model_validate(data)


def _check_header(raw: bytes, where: str) -> None:
    try:
        header = Header.model_validate(json.loads(raw.rstrip(b"\r\n")))
    except ValueError as exc:
        reason = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise InvalidInput(
            f"not a gatekeeper bundle: the first line must be its header ({reason})", where=where
        ) from None
    if header.version != VERSION:
        raise InvalidInput(
            f"unsupported bundle version {header.version} (this gatekeeper reads {VERSION})",
            where=where,
        )


def _add(bundle: Bundle, parsed: BaseModel) -> None:
    if isinstance(parsed, IncidentLine):
        bundle.incidents.append(parsed.record)
    elif isinstance(parsed, EventLine):
        bundle.events.append(parsed.record)
    elif isinstance(parsed, ArtifactLine):
        bundle.artifacts.append((parsed.record, _decode_content(parsed)))
    elif isinstance(parsed, GateOverrideLine):
        bundle.gate_overrides.append(parsed.record)


def read_bundle(path: Path) -> Bundle:
    """Parse and validate every line of ``path``; the first bad one raises InvalidInput."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise NotFound("no such bundle file", where=str(path)) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read bundle: {exc.strerror}", where=str(path)) from exc
    bundle = Bundle()
    header_seen = False
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            where = f"{path}:{lineno}"
            if not header_seen:
                _check_header(raw, where)
                header_seen = True
                continue
            if not raw.strip():
                continue
            try:
                _add(bundle, _parse_line(raw))
            except ValueError as exc:
                reason = (
                    describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
                )
                raise InvalidInput(reason, where=where) from None
            except Exception as exc:  # RecursionError, OverflowError…: still this one line
                raise InvalidInput(f"not decodable: {type(exc).__name__}", where=where) from None
    if not header_seen:
        raise InvalidInput("empty file: not a gatekeeper bundle", where=f"{path}:1")
    return bundle


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``path``, fsynced; the rename comes later."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent.is_symlink():
        raise StoreUnavailable("artifact folder is a symlink; refusing it", where=str(path.parent))
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.import-", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        written = os.fstat(handle.fileno()).st_mtime_ns
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:  # what a killed import or writer left here
        remove_stale_temp_files(path.parent, folder, written)
    finally:
        os.close(folder)
    return Path(name)


def _write_artifacts(
    store: IncidentStore, chunk: Sequence[tuple[Artifact, bytes | None]], artifacts_dir: Path
) -> int:
    staged: list[tuple[Artifact, Path, Path]] = []
    try:
        for artifact, data in chunk:
            if data is not None:
                final = artifact_path(artifacts_dir, artifact)
                staged.append((artifact, _stage(final, data), final))
        store.write(WriteBatch(artifacts=tuple(a for a, _ in chunk)), upsert=True)
        restored = 0
        for artifact, tmp, final in staged:
            current = {a.name: a for a in store.artifacts(artifact.incident_id)}.get(artifact.name)
            # Only the version the store now describes may own the file name.
            if current is not None and current.sha256 == artifact.sha256:
                os.replace(tmp, final)
                fsync_directory(final.parent)
                restored += 1
        return restored
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot restore artifact file: {exc.strerror}", where=str(exc.filename)
        ) from exc
    finally:
        for _artifact, tmp, _final in staged:
            tmp.unlink(missing_ok=True)


def import_bundle(store: IncidentStore, path: Path, *, artifacts_dir: Path) -> BundleSummary:
    """Validate the whole bundle at ``path``, then write it into ``store`` idempotently."""
    bundle = read_bundle(path)
    summary = BundleSummary(str(path), len(bundle.incidents), len(bundle.events))
    summary.artifacts = len(bundle.artifacts)
    for incidents in _chunks(bundle.incidents):
        store.write(WriteBatch(updated_incidents=tuple(incidents)), upsert=True)
    for events in _chunks(bundle.events):
        store.write(WriteBatch(events=tuple(events)), upsert=True)
    for artifacts in _chunks(bundle.artifacts):
        summary.files += _write_artifacts(store, artifacts, artifacts_dir)
    write_overrides(store, bundle.gate_overrides)
    summary.gate_overrides = len(bundle.gate_overrides)
    summary.missing_files = [
        f"{a.incident_id}/{a.name}" for a, data in bundle.artifacts if data is None
    ]
    return summary
