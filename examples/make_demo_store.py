"""Rebuild the demo incident store in examples/incidents/ (deterministic ids and times).

    python3 examples/make_demo_store.py

The store is committed; this script documents how it was made. ``checkout`` in
prod has an active P1 and an overdue follow-up, so the quick start's gate check
shows real findings whatever day it runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from gatekeeper.artifacts import prepare_artifact
from gatekeeper.models import Event, Incident
from gatekeeper.store import WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.timeutil import parse_timestamp

HERE = Path(__file__).resolve().parent / "incidents"


def incident(
    suffix: str,
    service: str,
    env: str,
    severity: str,
    title: str,
    started: str,
    status: str = "open",
    resolved: str | None = None,
    **extra: Any,
) -> Incident:
    stamp = started.replace("-", "").replace(":", "")
    return Incident(
        id=f"inc_{stamp[:8]}_{stamp[9:13]}_{suffix}",
        service=service,
        env=env,
        severity=severity,
        status=status,
        title=title,
        started_at=started,
        created_at=started,
        updated_at=resolved or started,
        resolved_at=resolved,
        closed_at=resolved if status == "closed" else None,
        created_by="helion",
        **extra,
    )


def event(n: int, inc: Incident, ts: str, type: str, message: str, **meta: Any) -> Event:
    return Event(
        id=f"evt_{n:016x}",
        incident_id=inc.id,
        ts=ts,
        recorded_at=ts,
        type=type,
        message=message,
        meta=meta,
        actor="helion",
    )


def main() -> None:
    checkout = incident(
        "ck0001",
        "checkout",
        "prod",
        "P1",
        "Checkout 5xx rate above 5%",
        "2026-11-20T09:12:00Z",
        status="mitigated",
        summary="Payment client retries exhausted the connection pool.",
        labels={"team": "payments", "region": "eu-west-1"},
    )
    checkout_old = incident(
        "ck0002",
        "checkout",
        "prod",
        "P3",
        "Slow cart page",
        "2026-11-02T14:00:00Z",
        status="closed",
        resolved="2026-11-02T16:30:00Z",
    )
    payments = incident(
        "pay001",
        "payments",
        "prod",
        "P1",
        "Card authorisations timing out",
        "2026-11-10T07:45:00Z",
        status="resolved",
        resolved="2026-11-10T09:05:00Z",
    )
    gateway = incident(
        "gw0001",
        "gateway",
        "staging",
        "P1",
        "Gateway 502 after deploy",
        "2026-11-03T11:00:00Z",
        status="closed",
        resolved="2026-11-03T11:40:00Z",
    )
    events = [
        event(1, checkout, "2026-11-20T09:12:00Z", "status_change", "incident opened", to="open"),
        event(2, checkout, "2026-11-20T09:15:00Z", "ack", "paged helion"),
        event(
            3,
            checkout,
            "2026-11-20T10:02:00Z",
            "status_change",
            "status open -> mitigated",
            to="mitigated",
        ),
        event(
            4,
            checkout,
            "2026-11-20T11:00:00Z",
            "followup",
            "follow-up added",
            followup_id="fu_ck000001",
            title="Add a circuit breaker to the payment client",
            owner="ana",
            priority="P1",
            status="open",
            due="2026-11-24T17:00:00Z",
            ticket="PAY-1423",
        ),
        event(
            5,
            checkout,
            "2026-11-20T11:05:00Z",
            "followup",
            "follow-up added",
            followup_id="fu_ck000002",
            title="Alert on connection pool saturation",
            owner="bo",
            priority="P2",
            status="open",
            due="2026-11-22T17:00:00Z",
        ),
        event(
            6,
            checkout,
            "2026-11-23T15:00:00Z",
            "followup",
            "follow-up updated",
            followup_id="fu_ck000002",
            status="done",
        ),
        event(
            7,
            checkout_old,
            "2026-11-02T16:00:00Z",
            "followup",
            "follow-up added",
            followup_id="fu_ck000003",
            title="Cache cart totals",
            owner="cy",
            priority="P3",
            status="in_progress",
            due="2027-06-30",
        ),
        event(8, payments, "2026-11-10T08:00:00Z", "ack", "acknowledged"),
        event(
            9,
            payments,
            "2026-11-10T12:00:00Z",
            "followup",
            "follow-up added",
            followup_id="fu_pay00001",
            title="Raise the issuer timeout to 8s",
            owner="dee",
            priority="P1",
            status="done",
            due="2026-11-17",
        ),
        event(10, gateway, "2026-11-03T11:02:00Z", "ack", "acknowledged"),
    ]
    postmortem = b"# Card authorisations timing out\n\nSee the timeline; action items done.\n"
    artifact = prepare_artifact(
        payments.id,
        "postmortem.md",
        postmortem,
        created_at=parse_timestamp("2026-11-12T10:00:00Z"),
        created_by="helion",
    )
    shutil.rmtree(HERE, ignore_errors=True)
    HERE.mkdir(parents=True)
    (HERE / payments.id).mkdir()
    (HERE / payments.id / "postmortem.md").write_bytes(postmortem)
    JsonlIncidentStore(HERE).write(
        WriteBatch(
            new_incidents=(checkout, checkout_old, payments, gateway),
            events=tuple(events),
            artifacts=(artifact,),
        )
    )
    (HERE / ".lock").unlink()


if __name__ == "__main__":
    main()
