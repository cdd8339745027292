"""``events_of``: the timelines the digest reads in one pass equal the per-incident ones."""

from __future__ import annotations

from gatekeeper.store.base import IncidentStore
from tests.intelligence.test_digest import week9


def test_events_of_is_events_per_incident(backend_store: IncidentStore) -> None:
    builder = week9()
    builder.write_to(backend_store)
    ids = [i.id for i in builder.incidents]
    wanted = ids[:4] + ["inc_20260101_0000_nosuch"]
    found = backend_store.events_of(wanted)
    assert set(found) == set(ids[:4])
    for incident_id in ids[:4]:
        assert found[incident_id] == backend_store.events(incident_id)
        assert found[incident_id]  # every week9 incident has a timeline
    assert backend_store.events_of([]) == {}
