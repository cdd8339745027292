"""Follow-ups folded from ``followup`` events.

A follow-up has no row of its own: the first ``followup`` event with a given
``followup_id`` creates it and every later one updates the fields it names. The
state is those events folded in time order (``ts``, then ``recorded_at``, then
event id, so the fold is deterministic even for events with equal timestamps).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.models import FOLLOWUP_PRIORITIES, FOLLOWUP_STATUSES, Event, FollowUp
from gatekeeper.timeutil import parse_due

DEFAULT_SLA_DAYS: Mapping[str, int] = {"P0": 3, "P1": 7, "P2": 14, "P3": 30}
FOLLOWUP_FIELDS = ("title", "owner", "due", "priority", "status", "ticket")
_DEFAULT_PRIORITY = "P2"


_DAY_SECONDS = 86400


def days_overdue(followup: FollowUp, now: datetime) -> int:
    """Whole days past due, every started day counted: the one rule for "N days overdue".

    A follow-up due yesterday 23:00 is 1 day overdue at 01:00 today (not 0: it *is*
    late); one due by the end of 2026-02-25 (a date-only due) is 1 day overdue all of
    2026-02-26 and 5 days overdue on 2026-03-02 — the calendar days since its due
    day. Not overdue (due now or later, or done/cancelled) is 0. The gate, the
    follow-up summary, the weekly digest and the risk score all use this function.
    """
    if not followup.is_overdue(now):
        return 0
    late = (now - followup.due).total_seconds()
    return max(1, math.ceil(late / _DAY_SECONDS))


def default_due(created_at: datetime, priority: str, sla_days: Mapping[str, int]) -> datetime:
    """Creation time plus the policy's SLA for the priority."""
    days = sla_days.get(priority, DEFAULT_SLA_DAYS.get(priority, DEFAULT_SLA_DAYS["P3"]))
    return created_at + timedelta(days=days)


def policy_sla_days(policy_path: Path) -> Mapping[str, int]:
    """The ``followup_sla_days`` of the policy at ``policy_path``.

    Without a policy there (the path does not exist) the shipped defaults apply;
    a policy that exists but is invalid is a ``ConfigError`` like everywhere else.
    """
    if not policy_path.exists():
        return DEFAULT_SLA_DAYS
    from gatekeeper.policy import load_policy  # imported late: the policy loader imports us

    return load_policy(policy_path).followup_sla_days


def fold_followups(
    events: Iterable[Event], *, sla_days: Mapping[str, int] = DEFAULT_SLA_DAYS
) -> list[FollowUp]:
    """Fold ``followup`` events into follow-ups, ordered by creation time.

    Events of other types are ignored, so a whole timeline can be passed in.
    A malformed field in one event is ignored (the previous value stands): the
    fold never fails on data that is already stored.
    """
    ordered = sorted(
        (e for e in events if e.type == "followup" and isinstance(e.meta.get("followup_id"), str)),
        key=lambda e: (e.ts, e.recorded_at, e.id),
    )
    states: dict[tuple[str, str], dict[str, Any]] = {}
    for event in ordered:
        key = (event.incident_id, event.meta["followup_id"])
        state = states.get(key)
        if state is None:
            state = states[key] = _new_state(event)
        _apply(state, event)
    return sorted(
        (_finish(state, sla_days) for state in states.values()),
        key=lambda f: (f.created_at, f.followup_id),
    )


def _new_state(event: Event) -> dict[str, Any]:
    return {
        "followup_id": event.meta["followup_id"],
        "incident_id": event.incident_id,
        "title": "",
        "owner": "unassigned",
        "due": None,
        "priority": _DEFAULT_PRIORITY,
        "status": "open",
        "ticket": None,
        "created_at": event.ts,
        "updated_at": event.ts,
        "completed_at": None,
    }


def _apply(state: dict[str, Any], event: Event) -> None:
    meta = event.meta
    for field in FOLLOWUP_FIELDS:
        if field in meta and _acceptable(field, meta[field]):
            state[field] = meta[field]
    state["updated_at"] = event.ts
    if state["status"] == "done":
        if state["completed_at"] is None:
            state["completed_at"] = event.ts
    else:
        state["completed_at"] = None


def _acceptable(field: str, value: Any) -> bool:
    if field == "ticket":
        return value is None or isinstance(value, str)
    if field == "priority":
        return value in FOLLOWUP_PRIORITIES
    if field == "status":
        return value in FOLLOWUP_STATUSES
    if field == "due":
        try:
            parse_due(value)
        except Exception:  # 5, null, a list, a year 99999: whatever it is, it is not a due
            return False
        return True
    return isinstance(value, str)


def _finish(state: dict[str, Any], sla_days: Mapping[str, int]) -> FollowUp:
    due = state["due"]
    state["due"] = (
        parse_due(due)
        if due is not None
        else default_due(state["created_at"], state["priority"], sla_days)
    )
    return FollowUp(**state)
