"""Staged artifact temp files a killed writer left are removed by the next write there.

A write killed between staging an artifact file and renaming it (a Postgres
write before its COMMIT, ``store import``) leaves ``.<name>.<token>.tmp`` in the
incident's folder. The next write that stages a file into that folder removes
those older than an hour; a fresh one (a live writer's) is never touched.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from gatekeeper.artifacts import STALE_TEMP_AGE_S, ArtifactFile
from gatekeeper.models import Incident
from gatekeeper.store import IncidentStore, WriteBatch, jsonl_batch
from gatekeeper.store.bundle import export_bundle, import_bundle
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.postgres import PostgresIncidentStore

from . import factories as f

STALE = ".postmortem.md.0a1b2c3d4e5f.tmp"  # a killed Postgres write's staged file
STALE_IMPORT = ".timeline.json.import-k2j_x9qz.tmp"  # a killed import's
FRESH = ".postmortem.md.9f8e7d6c5b4a.tmp"  # a live writer's, about to be renamed
OTHER = ".notes.tmp"  # not a staged artifact's name: never ours to remove


def _plant(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    old = time.time() - STALE_TEMP_AGE_S - 60
    for name in (STALE, STALE_IMPORT, OTHER, FRESH):
        (folder / name).write_bytes(b"half")
    for name in (STALE, STALE_IMPORT, OTHER):
        os.utime(folder / name, (old, old))
    (folder / ".raw.txt.aaaaaaaaaaaa.tmp").symlink_to(folder / OTHER)  # not a regular file
    os.utime(folder / ".raw.txt.aaaaaaaaaaaa.tmp", (old, old), follow_symlinks=False)


def _left(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.endswith(".tmp")}


def _attach(store: IncidentStore, artifacts_dir: Path, inc: Incident) -> None:
    content = b"# Postmortem\n"
    meta = f.artifact(inc, content=content)
    file = ArtifactFile.of(artifacts_dir, meta, content)
    store.write(WriteBatch(artifacts=(meta,), files=(file,)))
    assert (artifacts_dir / inc.id / "postmortem.md").read_bytes() == content


KEPT = {FRESH, OTHER, ".raw.txt.aaaaaaaaaaaa.tmp"}


def test_a_postgres_write_removes_stale_staged_files_and_keeps_a_fresh_one(
    tmp_path: Path, pg_store: PostgresIncidentStore
) -> None:
    inc = f.incident()
    pg_store.write(WriteBatch(new_incidents=(inc,)))
    _plant(tmp_path / inc.id)
    _attach(pg_store, tmp_path, inc)
    assert _left(tmp_path / inc.id) == KEPT


def test_a_jsonl_write_removes_stale_staged_files_in_the_folder(tmp_path: Path) -> None:
    store, files = JsonlIncidentStore(tmp_path / "store"), tmp_path / "files"
    inc = f.incident()
    store.write(WriteBatch(new_incidents=(inc,)))
    _plant(files / inc.id)
    _attach(store, files, inc)
    assert _left(files / inc.id) == KEPT


def test_an_import_removes_stale_staged_files_beside_what_it_restores(tmp_path: Path) -> None:
    source, files = JsonlIncidentStore(tmp_path / "src"), tmp_path / "files"
    inc = f.incident()
    source.write(WriteBatch(new_incidents=(inc,)))
    _attach(source, files, inc)
    export_bundle(source, tmp_path / "b.jsonl", artifacts_dir=files, now=f.T0, warn=print)
    restored = tmp_path / "restored"
    _plant(restored / inc.id)
    target = JsonlIncidentStore(tmp_path / "dst")
    assert import_bundle(target, tmp_path / "b.jsonl", artifacts_dir=restored).files == 1
    assert _left(restored / inc.id) == KEPT
    assert (restored / inc.id / "postmortem.md").read_bytes() == b"# Postmortem\n"


def test_nothing_is_removed_while_a_jsonl_batch_is_pending_beside_the_folders(
    tmp_path: Path, pg_store: PostgresIncidentStore
) -> None:
    """Its recovery may still publish a staged file: that is the JSONL store's to decide."""
    inc = f.incident()
    pg_store.write(WriteBatch(new_incidents=(inc,)))
    intent = jsonl_batch.Intent({"events.jsonl": jsonl_batch.Span(0, 5, "ab")}, ())
    (tmp_path / jsonl_batch.INTENT).write_bytes(intent.to_json())
    _plant(tmp_path / inc.id)
    _attach(pg_store, tmp_path, inc)
    assert _left(tmp_path / inc.id) == KEPT | {STALE, STALE_IMPORT}
