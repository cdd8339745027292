"""Artifact files: validated names and contents, written atomically (SPEC §3).

An artifact lives at ``<artifacts_dir>/<incident_id>/<name>``. Every check runs
before anything touches the disk, so a refusal writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import cast

from gatekeeper.errors import InvalidInput, StoreUnavailable
from gatekeeper.models import ARTIFACT_NAME_RE, INCIDENT_ID_RE, Artifact, ArtifactKind

MAX_ARTIFACT_BYTES = 2 * 1024 * 1024  # 2 MiB, inclusive


def check_name(name: str) -> ArtifactKind:
    """Return the kind a name implies, or refuse names that could escape the directory."""
    if not ARTIFACT_NAME_RE.fullmatch(name) or ".." in name:
        raise InvalidInput(
            f"invalid artifact name {name!r}: expected a plain file name like "
            "postmortem.md (letters, digits, . _ -; no path separators or '..'; "
            "ending in .md, .json or .txt)",
            where="name",
        )
    return cast(ArtifactKind, name.rsplit(".", 1)[1])


def check_content(name: str, kind: ArtifactKind, content: bytes) -> None:
    """Refuse oversized, non-UTF-8 or (for ``json``) unparsable contents."""
    if len(content) > MAX_ARTIFACT_BYTES:
        raise InvalidInput(
            f"artifact is {len(content)} bytes; the limit is {MAX_ARTIFACT_BYTES} (2 MiB)",
            where=name,
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"artifact is not UTF-8 text (byte {exc.start})", where=name) from None
    if kind == "json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"artifact is not valid JSON: {exc.msg} at line {exc.lineno}", where=name
            ) from None


def artifact_path(artifacts_dir: Path, incident_id: str, name: str) -> Path:
    if not INCIDENT_ID_RE.fullmatch(incident_id):
        raise InvalidInput(f"not an incident id: {incident_id!r}", where="incident_id")
    check_name(name)
    return artifacts_dir / incident_id / name


def prepare_artifact(
    incident_id: str, name: str, content: bytes, *, created_at: datetime, created_by: str
) -> Artifact:
    """Validate name and content and build the metadata record (writes nothing)."""
    kind = check_name(name)
    check_content(name, kind, content)
    return Artifact(
        incident_id=incident_id,
        name=name,
        kind=kind,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=created_at,
        created_by=created_by,
    )


@contextmanager
def staged_artifact_file(artifacts_dir: Path, artifact: Artifact, content: bytes) -> Iterator[Path]:
    """Stage the bytes in a temp file; rename it into place only if the block succeeds.

    The caller records the metadata inside the block. If that fails the temp file
    is removed and any earlier version of the artifact stays as it was.
    """
    target = artifact_path(artifacts_dir, artifact.incident_id, artifact.name)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreUnavailable(f"cannot write artifact: {exc.strerror}", where=str(target)) from exc
    try:
        yield target
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
