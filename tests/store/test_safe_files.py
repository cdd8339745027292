"""Store files are opened safely: no symlink followed, nothing but regular files read."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from gatekeeper.errors import StoreUnavailable
from gatekeeper.store import IncidentFilter, WriteBatch
from gatekeeper.store.fileio import atomic_write
from gatekeeper.store.jsonl import JsonlIncidentStore

from . import factories as f


def test_a_fifo_in_place_of_a_store_file_is_refused_without_hanging(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path)
    store.init(f.T0)
    os.mkfifo(tmp_path / "incidents.jsonl")
    with pytest.raises(StoreUnavailable, match="not a regular file"):
        store.gate_read("prod", ["checkout"], f.T0)
    with pytest.raises(StoreUnavailable, match="not a regular file"):
        store.write(WriteBatch(new_incidents=(f.incident(),)))


def test_a_symlinked_store_file_is_neither_read_nor_written(tmp_path: Path) -> None:
    store_dir, outside = tmp_path / "store", tmp_path / "outside.jsonl"
    store = JsonlIncidentStore(store_dir)
    store.init(f.T0)
    outside.write_bytes(b"precious\n")
    (store_dir / "incidents.jsonl").symlink_to(outside)
    with pytest.raises(StoreUnavailable):
        store.write(WriteBatch(new_incidents=(f.incident(),)))
    with pytest.raises(StoreUnavailable):
        store.list_incidents(IncidentFilter())
    assert outside.read_bytes() == b"precious\n"


def test_a_symlinked_store_directory_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    JsonlIncidentStore(real).init(f.T0)
    (tmp_path / "link").symlink_to(real)
    store = JsonlIncidentStore(tmp_path / "link")
    with pytest.raises(StoreUnavailable, match="symlink"):
        store.write(WriteBatch(new_incidents=(f.incident(),)))
    with pytest.raises(StoreUnavailable, match="symlink"):
        store.gate_read("prod", ["checkout"], f.T0)
    assert not (real / "incidents.jsonl").exists()


def test_a_planted_staging_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me\n")
    store_dir = tmp_path / "store"
    store = JsonlIncidentStore(store_dir, on_problem=lambda _p: None)
    store.write(WriteBatch(new_incidents=(f.incident(),)))
    for pid in range(os.getpid() - 5, os.getpid() + 5):  # the old predictable names
        (store_dir / f".incidents.jsonl.{pid}.tmp").symlink_to(victim)
    atomic_write(store_dir / "incidents.jsonl", b"")
    store.compact()
    assert victim.read_bytes() == b"keep me\n"


def test_stray_temp_files_are_removed_by_the_next_write(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path)
    store.init(f.T0)
    (tmp_path / ".incidents.jsonl.abc123.tmp").write_bytes(b"half a rewrite")
    store.write(WriteBatch(new_incidents=(f.incident(),)))
    assert list(tmp_path.glob(".*.tmp")) == []
    assert store.gate_read("prod", ["checkout"], f.T0 - timedelta(days=1)).skipped == ()
