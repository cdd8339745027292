"""The store contract (see docs/store.md): one behavioural suite, run against every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gatekeeper.errors import Conflict, NotFound
from gatekeeper.store import IncidentFilter, IncidentStore, WriteBatch
from tests.store.factories import T0, artifact, changed, event, followup, incident


def snapshot(store: IncidentStore) -> tuple[list[object], list[object], list[object]]:
    return list(store.iter_incidents()), list(store.iter_events()), list(store.iter_artifacts())


def test_created_incident_reads_back_equal(store: IncidentStore) -> None:
    created = incident(labels={"team": "payments", "region": "eu"}, summary="5xx on /pay")
    store.write(WriteBatch(new_incidents=(created,)))
    assert store.get_incident(created.id) == created


def test_the_last_version_of_an_incident_wins(store: IncidentStore) -> None:
    first = incident()
    mitigated = changed(first, status="mitigated")
    resolved = changed(mitigated, status="resolved", resolved_at=T0 + timedelta(hours=2))
    store.write(WriteBatch(new_incidents=(first,)))
    store.write(WriteBatch(updated_incidents=(mitigated,)))
    store.write(WriteBatch(updated_incidents=(resolved,)))
    assert store.get_incident(first.id) == resolved
    assert list(store.iter_incidents()) == [resolved]


def test_creating_an_existing_incident_is_a_conflict_and_writes_nothing(
    store: IncidentStore,
) -> None:
    created = incident()
    store.write(WriteBatch(new_incidents=(created,)))
    with pytest.raises(Conflict) as caught:
        store.write(WriteBatch(new_incidents=(changed(created),), events=(event(created),)))
    assert created.id in str(caught.value)
    assert store.get_incident(created.id) == created
    assert store.events(created.id) == []


def test_unknown_ids_are_not_found(store: IncidentStore) -> None:
    with pytest.raises(NotFound, match="inc_20260301_1000_zzzzzz"):
        store.get_incident("inc_20260301_1000_zzzzzz")
    assert store.events("inc_20260301_1000_zzzzzz") == []
    assert store.artifacts("inc_20260301_1000_zzzzzz") == []


def test_a_batch_failing_half_way_writes_nothing(store: IncidentStore) -> None:
    new, unknown = incident(), incident()
    with pytest.raises(NotFound):
        store.write(
            WriteBatch(new_incidents=(new,), updated_incidents=(unknown,), events=(event(new),))
        )
    assert snapshot(store) == ([], [], [])


def test_list_filters_and_orders_newest_first(store: IncidentStore) -> None:
    day = timedelta(days=1)
    a = incident(started_at=T0)
    b = incident(started_at=T0 + day, severity="P0", status="resolved")
    c = incident(started_at=T0 + 2 * day, service="search")
    d = incident(started_at=T0 + 3 * day, env="staging")
    e = incident(started_at=T0 + 3 * day, severity="P3")  # same start as d: id breaks the tie
    store.write(WriteBatch(new_incidents=(a, b, c, d, e)))

    def ids(**filters: object) -> list[str]:
        return [i.id for i in store.list_incidents(IncidentFilter(**filters))]  # type: ignore[arg-type]

    assert ids() == [e.id, d.id, c.id, b.id, a.id]
    assert ids(limit=2) == [e.id, d.id]
    assert ids(status=frozenset({"open"})) == [e.id, d.id, c.id, a.id]
    assert ids(service="search") == [c.id]
    assert ids(env="staging") == [d.id]
    assert ids(severity=frozenset({"P0", "P3"})) == [e.id, b.id]
    assert ids(since=T0 + day, until=T0 + 3 * day) == [c.id, b.id]  # since inclusive, until not
    assert ids(service="checkout", env="prod", status=frozenset({"open"})) == [e.id, a.id]
    assert ids(service="nothing-here") == []


def test_list_filters_on_the_latest_version(store: IncidentStore) -> None:
    first = incident()
    store.write(WriteBatch(new_incidents=(first,)))
    store.write(WriteBatch(updated_incidents=(changed(first, status="closed"),)))
    assert store.list_incidents(IncidentFilter(status=frozenset({"open"}))) == []
    assert len(store.list_incidents(IncidentFilter(status=frozenset({"closed"})))) == 1


def test_events_come_back_in_time_order(store: IncidentStore) -> None:
    inc, other = incident(), incident()
    late = event(inc, ts=T0 + timedelta(hours=3))
    early = event(inc, ts=T0 + timedelta(hours=1))
    tie_later_recorded = event(inc, ts=T0 + timedelta(hours=2), recorded_at=T0 + timedelta(hours=5))
    tie_earlier_recorded = event(inc, ts=T0 + timedelta(hours=2))
    store.write(WriteBatch(new_incidents=(inc, other)))
    store.write(WriteBatch(events=(late, early, event(other))))
    store.write(WriteBatch(events=(tie_later_recorded, tie_earlier_recorded)))
    assert store.events(inc.id) == [early, tie_earlier_recorded, tie_later_recorded, late]


def test_last_event_times_are_the_latest_ts_per_incident(store: IncidentStore) -> None:
    busy, quiet, other = incident(), incident(), incident()
    store.write(WriteBatch(new_incidents=(busy, quiet, other)))
    store.write(
        WriteBatch(
            events=(
                event(busy, ts=T0 + timedelta(hours=5)),
                event(busy, ts=T0 + timedelta(hours=1), recorded_at=T0 + timedelta(hours=9)),
                event(other, ts=T0 + timedelta(hours=7)),
            )
        )
    )
    assert store.last_event_times([busy.id, quiet.id]) == {busy.id: T0 + timedelta(hours=5)}
    assert store.last_event_times([]) == {}


def test_artifact_metadata_and_a_reattached_name_replaces_it(store: IncidentStore) -> None:
    inc = incident()
    notes = artifact(inc, "notes.txt", b"first")
    postmortem = artifact(inc, "postmortem.md", b"# PM\n")
    newer_notes = artifact(inc, "notes.txt", b"second", created_at=T0 + timedelta(hours=4))
    store.write(WriteBatch(new_incidents=(inc,), artifacts=(notes, postmortem)))
    assert store.artifacts(inc.id) == [notes, postmortem]
    store.write(WriteBatch(artifacts=(newer_notes,)))
    assert store.artifacts(inc.id) == [postmortem, newer_notes]
    assert list(store.iter_artifacts()) == [postmortem, newer_notes]


def test_gate_records_scope_followups_and_artifacts(store: IncidentStore) -> None:
    since = T0 - timedelta(days=30)
    ancient_active = incident(started_at=T0 - timedelta(days=400), status="mitigated")
    old_resolved = incident(started_at=T0 - timedelta(days=60), status="resolved")
    recent_closed = incident(started_at=T0 - timedelta(days=2), status="closed")
    other_env = incident(env="staging")
    other_service = incident(service="search")
    store.write(WriteBatch(new_incidents=(ancient_active, old_resolved, recent_closed, other_env)))
    store.write(WriteBatch(new_incidents=(other_service,)))
    store.write(
        WriteBatch(
            events=(
                followup(recent_closed, "fu_a", title="Add alert", owner="ana", due="2026-03-05"),
                followup(recent_closed, "fu_a", ts=T0 + timedelta(hours=5), status="done"),
                followup(ancient_active, "fu_b", title="Fix retry", owner="bo", priority="P1"),
                followup(old_resolved, "fu_c", title="Out of window"),
                event(recent_closed, type="note"),
            ),
            artifacts=(artifact(recent_closed),),
        )
    )
    records = store.gate_records("prod", ["checkout", "payments"], since)

    assert set(records) == {"checkout", "payments"}
    checkout = records["checkout"]
    assert (checkout.service, checkout.env) == ("checkout", "prod")
    assert [i.id for i in checkout.incidents] == [recent_closed.id, ancient_active.id]
    folded = {f.followup_id: f for f in checkout.followups}
    assert set(folded) == {"fu_a", "fu_b"}
    assert folded["fu_a"].status == "done"
    assert folded["fu_a"].completed_at == T0 + timedelta(hours=5)
    assert folded["fu_a"].owner == "ana"
    assert folded["fu_b"].priority == "P1" and folded["fu_b"].is_open
    assert checkout.artifacts == {recent_closed.id: [artifact(recent_closed)]}
    assert records["payments"].incidents == [] and records["payments"].followups == []


def test_upserting_the_same_batch_twice_changes_nothing(store: IncidentStore) -> None:
    inc = incident()
    update = changed(inc, status="mitigated")
    batch = WriteBatch(
        new_incidents=(inc,),
        updated_incidents=(update,),
        events=(event(inc), followup(inc, "fu_x", title="t")),
        artifacts=(artifact(inc),),
    )
    store.write(batch, upsert=True)
    once = snapshot(store)
    info_once = {k: store.info()[k] for k in ("incidents", "events", "artifacts")}
    store.write(batch, upsert=True)
    assert snapshot(store) == once
    assert {k: store.info()[k] for k in ("incidents", "events", "artifacts")} == info_once
    assert store.get_incident(inc.id) == update


def test_upsert_never_lets_an_older_version_win(store: IncidentStore) -> None:
    inc = incident()
    newer = changed(inc, status="resolved")
    older_note = artifact(inc, "notes.txt", b"old")
    newer_note = artifact(inc, "notes.txt", b"new", created_at=T0 + timedelta(hours=9))
    store.write(WriteBatch(new_incidents=(newer,), artifacts=(newer_note,)))
    store.write(WriteBatch(updated_incidents=(inc,), artifacts=(older_note,)), upsert=True)
    assert store.get_incident(inc.id) == newer
    assert store.artifacts(inc.id) == [newer_note]


def test_upsert_applies_a_same_time_version_that_differs(store: IncidentStore) -> None:
    # With --now fixed, two updates can share updated_at; a replay must keep the second.
    inc = incident()
    same_time = inc.model_copy(update={"status": "mitigated"})
    store.write(WriteBatch(new_incidents=(inc,)))
    store.write(WriteBatch(updated_incidents=(same_time,)), upsert=True)
    assert store.get_incident(inc.id) == same_time


def test_upsert_creates_what_is_missing(store: IncidentStore) -> None:
    inc = incident()
    store.write(WriteBatch(updated_incidents=(inc,), events=(event(inc),)), upsert=True)
    assert store.get_incident(inc.id) == inc
    assert len(store.events(inc.id)) == 1


def test_iterators_export_everything_in_a_stable_order(store: IncidentStore) -> None:
    later, earlier = incident(started_at=T0 + timedelta(days=1)), incident()
    events = [event(later), event(earlier), event(later)]
    store.write(WriteBatch(new_incidents=(later, earlier)))
    for one in events:
        store.write(WriteBatch(events=(one,)))
    store.write(WriteBatch(artifacts=(artifact(later),)))
    store.write(WriteBatch(artifacts=(artifact(earlier, "a.json", b"{}"),)))
    incidents, exported_events, artifacts = snapshot(store)
    assert incidents == [earlier, later]  # by started_at, then id
    assert exported_events == events  # in the order written
    assert artifacts == [artifact(later), artifact(earlier, "a.json", b"{}")]


def test_info_counts_and_verify_on_a_healthy_store(store: IncidentStore) -> None:
    inc = incident()
    store.write(WriteBatch(new_incidents=(inc,), events=(event(inc), event(inc))))
    store.write(WriteBatch(updated_incidents=(changed(inc),)))
    info = store.info()
    assert info["backend"] == store.backend
    assert (info["incidents"], info["events"], info["artifacts"]) == (1, 2, 0)
    assert store.verify() == []
