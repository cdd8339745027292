"""Updates are patches applied under the writer's lock: concurrent updates compose."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gatekeeper.errors import Conflict, InvalidInput, NotFound
from gatekeeper.store import IncidentStore, WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.patch import IncidentPatch, apply_patch, make_patch
from gatekeeper.store.postgres import PostgresIncidentStore

from . import factories as f

ROUNDS = 50


def test_apply_patch_sets_named_fields_labels_and_status_timestamps() -> None:
    current = f.incident(status="resolved", labels={"a": "1", "b": "2"}, resolved_at=f.T0)
    later = f.T0 + timedelta(hours=1)
    patch = make_patch(incident_id=current.id, fields={"status": "open"}, labels_set={"c": "3"},
                       labels_remove=("a",), updated_at=later, actor="helion")  # fmt: skip
    updated = apply_patch(current, patch)
    assert (updated.status, updated.resolved_at, updated.updated_at) == ("open", None, later)
    assert updated.labels == {"b": "2", "c": "3"}
    assert updated.title == current.title
    closed = apply_patch(updated, make_patch(incident_id=current.id, fields={"status": "closed"},
                                             updated_at=later, actor="helion"))  # fmt: skip
    assert (closed.resolved_at, closed.closed_at) == (later, later)


def test_apply_patch_refuses_bad_values_and_stale_versions() -> None:
    current = f.incident()
    with pytest.raises(InvalidInput, match="title"):
        apply_patch(current, make_patch(incident_id=current.id, fields={"title": ""},
                                        updated_at=f.T0, actor="helion"))  # fmt: skip
    with pytest.raises(InvalidInput, match="unknown field"):
        make_patch(incident_id=current.id, fields={"created_by": "x"}, updated_at=f.T0, actor="x")
    stale = make_patch(incident_id=current.id, fields={"title": "New"}, updated_at=f.T0,
                       actor="helion", if_updated_at=f.T0 - timedelta(minutes=1))  # fmt: skip
    with pytest.raises(Conflict, match="incident changed since"):
        apply_patch(current, stale)


def test_patch_of_a_missing_incident_is_not_found(store: IncidentStore) -> None:
    patch = make_patch(incident_id="inc_20260301_1000_zzzzzz", fields={"title": "x"},
                       updated_at=f.T0, actor="helion")  # fmt: skip
    with pytest.raises(NotFound):
        store.write(WriteBatch(patches=(patch,)))


def test_expected_version_conflict_writes_nothing(store: IncidentStore) -> None:
    inc = f.incident()
    store.write(WriteBatch(new_incidents=(inc,)))
    store.write(WriteBatch(patches=(make_patch(incident_id=inc.id, fields={"title": "First"},
                                               updated_at=f.T0 + timedelta(minutes=1),
                                               actor="helion"),)))  # fmt: skip
    stale = make_patch(incident_id=inc.id, fields={"title": "Second"}, actor="helion",
                       updated_at=f.T0 + timedelta(minutes=2), if_updated_at=f.T0)  # fmt: skip
    with pytest.raises(Conflict):
        store.write(WriteBatch(patches=(stale,)))
    assert store.get_incident(inc.id).title == "First"


def test_status_patch_writes_its_status_change_event(store: IncidentStore) -> None:
    inc = f.incident()
    store.write(WriteBatch(new_incidents=(inc,)))
    patch = make_patch(incident_id=inc.id, fields={"status": "resolved"}, actor="helion",
                       updated_at=f.T0 + timedelta(minutes=5),
                       status_event_id="evt_00000000000000aa")  # fmt: skip
    store.write(WriteBatch(patches=(patch,)))
    store.write(WriteBatch(patches=(patch,)))  # already resolved: no second event
    events = [e for e in store.events(inc.id) if e.type == "status_change"]
    assert [(e.id, e.meta) for e in events] == [
        ("evt_00000000000000aa", {"from": "open", "to": "resolved"})
    ]


def _write(
    store: IncidentStore, patch: IncidentPatch, barrier: threading.Barrier, errors: list[str]
) -> None:
    barrier.wait()
    try:
        store.write(WriteBatch(patches=(patch,)))
    except Exception as exc:  # pragma: no cover - asserted empty by the caller
        errors.append(repr(exc))


def race(open_store: Callable[[], IncidentStore]) -> None:
    """Reopen vs title edit, each from its own store object: both changes survive."""
    setup = open_store()
    stores = [open_store(), open_store()]
    try:
        for n in range(ROUNDS):
            inc = f.incident(status="resolved", resolved_at=f.T0)
            setup.write(WriteBatch(new_incidents=(inc,)))
            when = f.T0 + timedelta(minutes=1)
            patches = [
                make_patch(incident_id=inc.id, fields={"status": "open"}, updated_at=when,
                           actor="helion", status_event_id=f"evt_{n:016x}"),
                make_patch(incident_id=inc.id, fields={"title": f"Edited {n}"},
                           updated_at=when, actor="sofiia"),
            ]  # fmt: skip
            barrier = threading.Barrier(2)
            errors: list[str] = []

            threads = [
                threading.Thread(target=_write, args=(stores[i], patches[i], barrier, errors))
                for i in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            final = setup.get_incident(inc.id)
            assert (final.status, final.title, final.resolved_at) == ("open", f"Edited {n}", None)
            assert [e.type for e in setup.events(inc.id)] == ["status_change"]
    finally:
        for opened in (setup, *stores):
            opened.close()


def test_concurrent_reopen_and_edit_compose_on_jsonl(tmp_path: Path) -> None:
    race(lambda: JsonlIncidentStore(tmp_path))


def test_concurrent_reopen_and_edit_compose_on_postgres(migrated_pg_url: str) -> None:
    race(lambda: PostgresIncidentStore.open(migrated_pg_url))
