"""Risk: parts worked out by hand, summing to the score, bounded at 100."""

from __future__ import annotations

from typing import Any

import pytest

from gatekeeper.intelligence.risk import compute_risk, render_markdown, render_text
from gatekeeper.intelligence.settings import DEFAULT_RISK, RiskSettings
from gatekeeper.store.base import IncidentStore
from tests.intelligence.factories import StoreBuilder, at

NOW = at("2026-03-02T12:00:00Z")
DAY = 86400


def scenario() -> StoreBuilder:
    b = StoreBuilder()
    # checkout/prod: one active P0, one resolved P1 without a postmortem, two overdue follow-ups.
    b.incident("2026-03-01T12:00:00Z", severity="P0", suffix="active")
    resolved = b.incident(
        "2026-02-23T12:00:00Z", severity="P1", resolve_after_s=7200, suffix="respmx"
    )
    b.followup(resolved, "fu_b1", due="2026-02-20", priority="P1")  # 10 days late > 7: far
    b.followup(resolved, "fu_b2", due="2026-03-01", priority="P2")  # 1 day late
    b.followup(resolved, "fu_b3", due="2026-03-10", priority="P0")  # not due yet
    # payments/prod: the same timeout three times, the first follow-up never done.
    title = "Payments timeout after {}"
    first = b.incident(
        "2026-02-10T12:00:00Z",
        service="payments",
        severity="P3",
        title=title.format("30s"),
        resolve_after_s=3600,
        suffix="rec001",
    )
    b.followup(first, "fu_c1", due="2026-03-30", priority="P3")
    b.incident(
        "2026-02-20T12:00:00Z",
        service="payments",
        severity="P3",
        title=title.format("45s"),
        resolve_after_s=3600,
        suffix="rec002",
    )
    b.incident(
        "2026-02-27T12:00:00Z",
        service="payments",
        severity="P3",
        title=title.format("2m"),
        resolve_after_s=3600,
        suffix="rec003",
    )
    return b


def parts_of(score: dict[str, Any]) -> dict[str, float]:
    return {p["name"]: p["points"] for p in score["parts"]}


def test_parts_by_hand(backend_store: IncidentStore) -> None:
    scenario().write_to(backend_store)
    report = compute_risk(backend_store, DEFAULT_RISK, now=NOW).to_json()
    scores = {(s["service"], s["env"]): s for s in report["scores"]}
    checkout = scores[("checkout", "prod")]
    # active: P0 40. recent: P0 8*0.5^(1/7) = 7.2458 + P1 5*0.5^(7/7) = 2.5 -> 9.7.
    # overdue: fu_b1 P1 6*2 (far past) + fu_b2 P2 3 = 15. missing postmortem: the P1, 10.
    assert parts_of(checkout) == {
        "active_incidents": 40,
        "recent_incidents": 9.7,
        "overdue_followups": 15,
        "missing_postmortems": 10,
        "recurrence_without_fix": 0,
    }
    assert checkout["score"] == 74.7
    assert checkout["band"] == "high"
    evidence = {p["name"]: p["evidence"] for p in checkout["parts"]}
    assert evidence["overdue_followups"] == ["fu_b1", "fu_b2"]
    assert evidence["missing_postmortems"] == ["inc_20260223_1200_respmx"]
    payments = scores[("payments", "prod")]
    # recent P3: 0.5^(20/7) + 0.5^(10/7) + 0.5^(3/7) = 0.1380 + 0.3715 + 0.7430 = 1.2525 -> 1.3
    assert parts_of(payments)["recent_incidents"] == 1.3
    assert parts_of(payments)["recurrence_without_fix"] == 10
    assert payments["score"] == 11.3
    assert payments["band"] == "low"
    assert [s["service"] for s in report["scores"]] == ["checkout", "payments"]


def test_parts_sum_to_score_and_score_is_capped(backend_store: IncidentStore) -> None:
    b = StoreBuilder()
    for n in range(3):
        b.incident("2026-03-02T11:00:00Z", service="db", severity="P0", suffix=f"dbpa{n:02d}")
    for n in range(3):
        done = b.incident(
            "2026-02-20T00:00:00Z",
            service="db",
            severity="P1",
            resolve_after_s=3600,
            suffix=f"dbpb{n:02d}",
        )
        for m in range(3):
            b.followup(done, f"fu_db{n}{m}", due="2026-02-21", priority="P0")
    b.write_to(backend_store)
    [db] = compute_risk(backend_store, DEFAULT_RISK, now=NOW, service="db").to_json()["scores"]
    assert parts_of(db) == {
        "active_incidents": 60,  # 3 * 40 = 120, capped
        "recent_incidents": 20,  # 3 * ~8 + 3 * ~1.5, capped
        "overdue_followups": 30,  # 9 * 10 * 2, capped
        "missing_postmortems": 20,  # 3 * 10, capped
        # six incidents of one title; the P1s' follow-ups were open when the P0s came
        "recurrence_without_fix": 10,
    }
    assert db["score"] == 100
    assert db["band"] == "critical"
    assert all(p["points"] <= p["cap"] for p in db["parts"])
    # one JSON type for every score and part, capped or not (100.0, never 100)
    assert all(type(v) is float for v in [db["score"], *(p["points"] for p in db["parts"])])


def test_sum_equals_score_below_the_cap(backend_store: IncidentStore) -> None:
    scenario().write_to(backend_store)
    for score in compute_risk(backend_store, DEFAULT_RISK, now=NOW).to_json()["scores"]:
        assert round(sum(p["points"] for p in score["parts"]), 1) == score["score"]


def test_policy_weights_change_the_score(backend_store: IncidentStore) -> None:
    scenario().write_to(backend_store)
    lighter = RiskSettings.model_validate(
        {"active_incidents": {"weights": {"P0": 10}, "cap": 10}, "bands": {"elevated": 10}}
    )
    report = compute_risk(backend_store, lighter, now=NOW, service="checkout", env="prod")
    [checkout] = report.to_json()["scores"]
    assert parts_of(checkout)["active_incidents"] == 10
    assert checkout["score"] == 44.7
    assert checkout["band"] == "elevated"


def test_one_service_with_nothing_in_scope_scores_zero(backend_store: IncidentStore) -> None:
    report = compute_risk(backend_store, DEFAULT_RISK, now=NOW, service="search", env="prod")
    [search] = report.to_json()["scores"]
    assert (search["score"], search["band"]) == (0, "low")
    assert [p["points"] for p in search["parts"]] == [0, 0, 0, 0, 0]
    assert all(type(v) is float for v in [search["score"], *(p["points"] for p in search["parts"])])


@pytest.mark.parametrize("render", [render_text, render_markdown])
def test_renderings_name_the_services(render, backend_store: IncidentStore) -> None:  # type: ignore[no-untyped-def]
    scenario().write_to(backend_store)
    text = render(compute_risk(backend_store, DEFAULT_RISK, now=NOW))
    assert "checkout" in text and "74.7" in text and "payments" in text
