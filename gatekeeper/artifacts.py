"""Artifact files: validated names and contents, written atomically (see docs/incidents.md).

An artifact lives at ``<artifacts_dir>/<incident_id>/<name>``. Every check runs
before anything touches the disk, so a refusal writes nothing. The bytes travel
with the batch that records their metadata (:class:`ArtifactFile`): the store
stages them in a temporary file and renames it into place when the batch
commits. An ``<incident_id>`` folder that is a symlink is refused, and files
are created and renamed relative to the folder opened without following links,
so nothing is ever written outside the artifacts directory.

A process killed between staging and renaming (a Postgres write before its
COMMIT, ``store import``) leaves its temp file behind. The next write that
stages a file into the same folder removes such leftovers once they are older
than :data:`STALE_TEMP_AGE_S` (measured against the file it has just written,
so by the file system's own clock): no live writer keeps a staged file that
long, so a file another process is about to rename is never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from gatekeeper.errors import InvalidInput, StoreUnavailable
from gatekeeper.models import ARTIFACT_NAME_RE, INCIDENT_ID_RE, Artifact, ArtifactKind

MAX_ARTIFACT_BYTES = 2 * 1024 * 1024  # 2 MiB, inclusive
STALE_TEMP_AGE_S = 3600  # far above any write's staging-to-rename time (its deadline)
# ``.<name>.<token>.tmp``: this module's and ``store import``'s staged files.
_TEMP_RE = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_-]+\.tmp")
# The JSONL store's batch intent (gatekeeper.store.jsonl_batch.INTENT): while one is
# pending in the artifacts directory, its recovery may still publish staged files.
_BATCH_INTENT = ".batch-intent.json"


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
    check_folder(target.parent)
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


@dataclass(frozen=True)
class ArtifactFile:
    """An artifact's bytes, to be published by the write that records its metadata.

    ``folder`` is ``<artifacts_dir>/<incident_id>``; ``tmp`` the name it is staged
    under in that folder (unpredictable, created with ``O_EXCL``).
    """

    folder: Path
    name: str
    content: bytes
    tmp: str

    @classmethod
    def of(cls, artifacts_dir: Path, artifact: Artifact, content: bytes) -> ArtifactFile:
        target = artifact_path(artifacts_dir, artifact.incident_id, artifact.name)
        tmp = f".{target.name}.{secrets.token_hex(6)}.tmp"
        return cls(Path(os.path.abspath(target.parent)), target.name, content, tmp)

    @property
    def target(self) -> Path:
        return self.folder / self.name


def check_folder(folder: Path) -> None:
    """Refuse an ``<incident_id>`` folder that is a symlink (or not a folder) before writing."""
    if folder.is_symlink():
        raise StoreUnavailable(
            "artifact folder is a symlink; refusing to write through it", where=str(folder)
        )
    if folder.exists() and not folder.is_dir():
        raise StoreUnavailable("artifact folder is not a directory", where=str(folder))


def _open_folder(folder: Path, *, create: bool) -> int:
    check_folder(folder)
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        check_folder(folder)  # replaced by a link meanwhile: say so
        raise StoreUnavailable(
            f"cannot open artifact folder: {exc.strerror}", where=str(folder)
        ) from exc


def stage_files(files: Sequence[ArtifactFile]) -> None:
    """Write each file's bytes to its temporary name, fsynced (nothing is published yet).

    Then remove stale temp files a killed writer left in each folder written to
    (:func:`remove_stale_temp_files`).
    """
    swept: set[Path] = set()
    for file in files:
        folder = _open_folder(file.folder, create=True)
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(file.tmp, flags, 0o644, dir_fd=folder)
            try:
                view = memoryview(file.content)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
                written = os.fstat(fd).st_mtime_ns
            finally:
                os.close(fd)
            if file.folder not in swept:
                swept.add(file.folder)
                remove_stale_temp_files(file.folder, folder, written)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot write artifact: {exc.strerror}", where=str(file.target)
            ) from exc
        finally:
            os.close(folder)


def remove_stale_temp_files(folder: Path, folder_fd: int, written_ns: int) -> list[str]:
    """Remove the staged temp files in ``folder`` a killed writer left; return their names.

    ``written_ns`` is the mtime of a file just written there: a temp file is stale
    when it was last written more than :data:`STALE_TEMP_AGE_S` before it. Only
    regular files named like a staged artifact (``.<artifact name>.<token>.tmp``)
    go; nothing is removed while a JSONL batch is pending in the artifacts
    directory (the store's next writer publishes or discards those itself).
    Best effort: a file that cannot be removed stays, and the write goes on.
    """
    try:
        if os.lstat(folder.parent / _BATCH_INTENT).st_size > 0:
            return []
    except OSError:
        pass
    cutoff = written_ns - STALE_TEMP_AGE_S * 1_000_000_000
    removed = []
    try:
        names = os.listdir(folder_fd)
    except OSError:
        return []
    for name in names:
        match = _TEMP_RE.fullmatch(name)
        if match is None or not ARTIFACT_NAME_RE.fullmatch(match["name"]):
            continue
        try:
            info = os.lstat(name, dir_fd=folder_fd)
            if stat.S_ISREG(info.st_mode) and info.st_mtime_ns < cutoff:
                os.unlink(name, dir_fd=folder_fd)
                removed.append(name)
        except OSError:
            continue
    if removed:
        with suppress(OSError):
            os.fsync(folder_fd)
    return removed


def publish_files(files: Sequence[ArtifactFile]) -> None:
    """Rename each staged file into place (a missing one was published already)."""
    for file in files:
        folder = _open_folder(file.folder, create=False)
        try:
            os.replace(file.tmp, file.name, src_dir_fd=folder, dst_dir_fd=folder)
            os.fsync(folder)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot publish artifact: {exc.strerror}", where=str(file.target)
            ) from exc
        finally:
            os.close(folder)


def discard_files(files: Sequence[ArtifactFile]) -> None:
    """Remove the staged files that are still there; the published versions stay."""
    for file in files:
        try:
            folder = _open_folder(file.folder, create=False)
        except StoreUnavailable:
            continue
        try:
            os.unlink(file.tmp, dir_fd=folder)
        except OSError:
            pass
        finally:
            os.close(folder)


@contextmanager
def published_on_success(files: Sequence[ArtifactFile]) -> Iterator[None]:
    """Stage ``files``; publish them if the block (the metadata's transaction) succeeds."""
    if not files:
        yield
        return
    try:
        stage_files(files)
        yield
    except BaseException:
        discard_files(files)
        raise
    publish_files(files)
