"""The follow-up fold: time order, per-field updates, overdue rules, SLA defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gatekeeper.followups import DEFAULT_SLA_DAYS, fold_followups
from gatekeeper.models import Event

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
INCIDENT = "inc_20260301_0900_abc123"


def event(
    n: int, meta: dict[str, Any], *, ts: datetime | None = None, type: str = "followup"
) -> Event:
    return Event(
        id=f"evt_{n:016x}",
        incident_id=INCIDENT,
        ts=ts or T0 + timedelta(hours=n),
        recorded_at=T0 + timedelta(hours=n),
        type=type,
        meta=meta,
        actor="helion",
    )


def test_first_event_creates_and_later_events_update_named_fields_only() -> None:
    (fu,) = fold_followups(
        [
            event(
                0,
                {
                    "followup_id": "fu_1",
                    "title": "Add alert",
                    "owner": "ana",
                    "priority": "P1",
                    "due": "2026-03-05",
                },
            ),
            event(1, {"followup_id": "fu_1", "owner": "bo"}),
            event(2, {"followup_id": "fu_1", "status": "in_progress"}),
        ]
    )
    assert (fu.title, fu.owner, fu.status, fu.priority) == ("Add alert", "bo", "in_progress", "P1")
    assert fu.due == datetime(2026, 3, 5, 23, 59, 59, 999999, tzinfo=UTC)
    assert fu.created_at == T0 and fu.updated_at == T0 + timedelta(hours=2)


def test_fold_uses_event_time_not_file_order() -> None:
    late = event(5, {"followup_id": "fu_1", "status": "done"})
    early = event(1, {"followup_id": "fu_1", "title": "t", "owner": "o", "status": "open"})
    (fu,) = fold_followups([late, early])
    assert fu.status == "done"
    assert fu.completed_at == late.ts


def test_reopening_clears_completed_at() -> None:
    (fu,) = fold_followups(
        [
            event(0, {"followup_id": "fu_1", "title": "t", "owner": "o"}),
            event(1, {"followup_id": "fu_1", "status": "done"}),
            event(2, {"followup_id": "fu_1", "status": "open"}),
        ]
    )
    assert fu.status == "open" and fu.completed_at is None


def test_default_due_is_creation_plus_sla_days_for_priority() -> None:
    folded = fold_followups(
        [
            event(i, {"followup_id": f"fu_{p}", "title": "t", "owner": "o", "priority": p})
            for i, p in enumerate(DEFAULT_SLA_DAYS)
        ]
    )
    assert sorted(fu.priority for fu in folded) == sorted(DEFAULT_SLA_DAYS)  # one per priority
    for fu in folded:
        assert fu.due - fu.created_at == timedelta(days=DEFAULT_SLA_DAYS[fu.priority])


def test_policy_sla_days_override_the_defaults() -> None:
    (fu,) = fold_followups(
        [event(0, {"followup_id": "fu_1", "title": "t", "owner": "o", "priority": "P1"})],
        sla_days={"P1": 2},
    )
    assert fu.due == T0 + timedelta(days=2)


def test_overdue_means_open_or_in_progress_and_past_due() -> None:
    base = {"title": "t", "owner": "o", "due": "2026-03-02T00:00:00Z"}
    folded = {
        fu.followup_id: fu
        for fu in fold_followups(
            [
                event(i, {"followup_id": s, **base, "status": s})
                for i, s in enumerate(["open", "in_progress", "done", "cancelled"])
            ]
        )
    }
    after = datetime(2026, 3, 3, tzinfo=UTC)
    before = datetime(2026, 3, 1, 23, tzinfo=UTC)
    assert {k for k, fu in folded.items() if fu.is_overdue(after)} == {"open", "in_progress"}
    assert not any(fu.is_overdue(before) for fu in folded.values())


def test_other_event_types_and_bad_fields_are_ignored() -> None:
    (fu,) = fold_followups(
        [
            event(0, {"followup_id": "fu_1", "title": "t", "owner": "o"}),
            event(1, {"followup_id": "fu_1", "status": "done"}, type="note"),
            event(2, {"followup_id": "fu_1", "priority": "P9", "owner": 3}),
        ]
    )
    assert (fu.status, fu.priority, fu.owner) == ("open", "P2", "o")


@pytest.mark.parametrize("due", [5, None, ["2026-03-01"], "soon", "0001-01-01T00:00:00+01:00"])
def test_a_followup_event_with_a_bad_due_is_not_a_valid_record(due: object) -> None:
    # Refused as a record, so a store reader reports such a line as corrupt.
    with pytest.raises(ValidationError, match="meta.due"):
        event(0, {"followup_id": "fu_1", "title": "t", "owner": "o", "due": due})


def test_same_followup_id_on_two_incidents_are_two_followups() -> None:
    a = event(0, {"followup_id": "fu_1", "title": "a", "owner": "o"})
    b = a.model_copy(update={"id": "evt_" + "f" * 16, "incident_id": "inc_20260301_0900_zzz999"})
    assert len(fold_followups([a, b])) == 2


# -- properties ------------------------------------------------------------------

FIELDS = {
    "title": st.text(min_size=1, max_size=5),
    "owner": st.sampled_from(["ana", "bo", "cy"]),
    "priority": st.sampled_from(list(DEFAULT_SLA_DAYS)),
    "status": st.sampled_from(["open", "in_progress", "done", "cancelled"]),
    "due": st.sampled_from(["2026-03-04", "2026-03-10T12:00:00Z"]),
}
updates = st.lists(
    st.tuples(st.integers(0, 500), st.fixed_dictionaries({}, optional=FIELDS)),
    min_size=1,
    max_size=12,
)


@given(updates, st.randoms())
def test_fold_is_independent_of_input_order(
    steps: list[tuple[int, dict[str, Any]]], rnd: Any
) -> None:
    events = [
        event(n, {"followup_id": "fu_1", **fields}, ts=T0 + timedelta(minutes=m))
        for n, (m, fields) in enumerate(steps)
    ]
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert fold_followups(events) == fold_followups(shuffled)


@given(updates)
def test_each_field_ends_at_its_last_written_value(steps: list[tuple[int, dict[str, Any]]]) -> None:
    events = [
        event(n, {"followup_id": "fu_1", **fields}, ts=T0 + timedelta(minutes=m))
        for n, (m, fields) in enumerate(steps)
    ]
    (fu,) = fold_followups(events)
    ordered = sorted(events, key=lambda e: (e.ts, e.recorded_at, e.id))
    for name in ("title", "owner", "priority", "status"):
        written = [e.meta[name] for e in ordered if name in e.meta]
        if written:
            assert getattr(fu, name) == written[-1]
    assert (fu.completed_at is not None) == (fu.status == "done")
    assert fu.created_at == ordered[0].ts
