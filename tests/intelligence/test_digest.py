"""The weekly digest, field by field against values worked out by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gatekeeper.intelligence.digest import render_markdown, weekly_digest
from gatekeeper.intelligence.stats import describe
from gatekeeper.intelligence.weeks import last_complete_week, parse_week
from gatekeeper.store.base import IncidentStore
from tests.conftest import CliRun
from tests.intelligence.factories import StoreBuilder, at

NOW = at("2026-03-02T12:00:00Z")
GOLDEN = Path(__file__).parent / "golden"


def week9() -> StoreBuilder:
    b = StoreBuilder()
    b.incident(
        "2026-02-23T10:00:00Z",
        suffix="aaaaaa",
        ack_after_s=300,
        mitigate_after_s=1800,
        resolve_after_s=3600,
    )
    b.incident(
        "2026-02-24T00:00:00Z",
        severity="P2",
        suffix="bbbbbb",
        ack_after_s=600,
        resolve_after_s=7200,
    )
    reopened = b.incident(
        "2026-02-25T00:00:00Z", suffix="cccccc", ack_after_s=120, resolve_after_s=1200
    )
    b.status(reopened, 2000, "resolved", "open")
    b.status(reopened, 9000, "open", "resolved")
    unacked = b.incident(
        "2026-02-26T00:00:00Z",
        severity="P3",
        suffix="dddddd",
        title="Queue backlog over 5k messages",
    )
    b.followup(unacked, "fu_d1", due="2026-02-27", priority="P2", owner="carol")
    b.incident(
        "2026-02-27T00:00:00Z",
        service="payments",
        severity="P2",
        suffix="eeeeee",
        ack_after_s=900,
        resolve_after_s=5400,
    )
    b.incident("2026-02-17T00:00:00Z", severity="P2", suffix="ffffff", resolve_after_s=3600)
    b.incident("2026-02-10T00:00:00Z", severity="P3", suffix="gggggg", resolve_after_s=3600)
    b.incident("2026-02-11T00:00:00Z", severity="P3", suffix="hhhhhh", resolve_after_s=3600)
    return b


def test_statistics_nearest_rank_and_listed_values() -> None:
    assert describe([900, 120, 600, 300]).to_json() == {
        "count": 4,
        "median_s": 450,
        "p90_s": 900,
        "mean_s": 480,
        "values_s": [120, 300, 600, 900],
    }
    five = describe([10, 20, 30, 40, 50]).to_json()
    assert five == {"count": 5, "median_s": 30, "p90_s": 50, "mean_s": 30}
    ten = describe(list(range(1, 11)))
    assert (ten.p90_s, ten.median_s) == (9, 5.5)
    assert describe([]).to_json() == {
        "count": 0,
        "median_s": None,
        "p90_s": None,
        "mean_s": None,
        "values_s": [],
    }


def test_digest_by_hand(backend_store: IncidentStore) -> None:
    week9().write_to(backend_store)
    data = weekly_digest(backend_store, parse_week("2026-W09"), now=NOW).to_json()
    assert (data["week"], data["start"], data["end"]) == (
        "2026-W09",
        "2026-02-23T00:00:00Z",
        "2026-03-02T00:00:00Z",
    )
    assert data["opened"] == {
        "total": 5,
        "by_severity": {"P0": 0, "P1": 2, "P2": 2, "P3": 1, "P4": 0},
        "by_service": {"checkout": 4, "payments": 1},
    }
    assert data["resolved"]["total"] == 4
    assert data["mtta"] == {
        "count": 4,
        "median_s": 450,
        "p90_s": 900,
        "mean_s": 480,
        "values_s": [120, 300, 600, 900],
        "unacked": 1,
    }
    # B skipped mitigation: its resolution (7200 s) counts as mitigation.
    assert data["mttm"] == {
        "count": 4,
        "median_s": 3600,
        "p90_s": 7200,
        "mean_s": 3900,
        "values_s": [1200, 1800, 5400, 7200],
        "unmitigated": 1,
    }
    # C was reopened: its first resolution (1200 s) stands.
    assert data["mttr"] == {
        "count": 4,
        "median_s": 4500,
        "p90_s": 7200,
        "mean_s": 4350,
        "values_s": [1200, 3600, 5400, 7200],
        "unresolved": 1,
    }
    assert data["data_errors"] == []
    assert [a["incident_id"] for a in data["active"]] == ["inc_20260226_0000_dddddd"]
    assert data["active"][0]["age_s"] == 4.5 * 86400
    [late] = data["overdue_followups"]
    assert (late["followup_id"], late["owner"], late["days_overdue"]) == ("fu_d1", "carol", 3)
    assert data["trend"] == {
        "weeks": ["2026-W05", "2026-W06", "2026-W07", "2026-W08", "2026-W09"],
        "opened": [0, 0, 2, 1, 5],
    }
    assert data["backlog"]["total"] == [0, 0, 0, 0, 1]
    assert data["change"] == {
        "opened_vs_last_week": 4,
        "opened_vs_median_of_4_before": 4.5,
        "median_of_4_before": 0.5,
    }


def test_negative_duration_is_a_data_error(backend_store: IncidentStore) -> None:
    b = StoreBuilder()
    b.incident("2026-02-24T00:00:00Z", suffix="negack", ack_after_s=-60)
    b.write_to(backend_store)
    data = weekly_digest(backend_store, parse_week("2026-W09"), now=NOW).to_json()
    assert data["data_errors"] == [
        {"incident_id": "inc_20260224_0000_negack", "metric": "mtta", "seconds": -60}
    ]
    assert data["mtta"]["count"] == 0


def test_week_53_and_the_year_boundary(backend_store: IncidentStore) -> None:
    week = parse_week("2026-W53")
    assert (week.start, week.end) == (at("2026-12-28T00:00:00Z"), at("2027-01-04T00:00:00Z"))
    b = StoreBuilder()
    b.incident("2027-01-03T23:59:00Z", suffix="lastwk")
    b.incident("2027-01-04T00:00:00Z", suffix="firstw")
    b.write_to(backend_store)
    later = at("2027-01-10T00:00:00Z")
    w53 = weekly_digest(backend_store, week, now=later).to_json()
    w01 = weekly_digest(backend_store, parse_week("2027-W01"), now=later).to_json()
    assert (w53["opened"]["total"], w01["opened"]["total"]) == (1, 1)
    assert w01["trend"]["weeks"][-2:] == ["2026-W53", "2027-W01"]
    assert last_complete_week(at("2027-01-04T00:00:00Z")).label == "2026-W53"


def test_empty_week(backend_store: IncidentStore) -> None:
    digest = weekly_digest(backend_store, parse_week("2026-W20"), now=NOW)
    data = digest.to_json()
    assert data["opened"]["total"] == 0 and data["mttr"]["count"] == 0
    assert "No incidents were opened or resolved this week." in render_markdown(digest)


def test_golden_markdown(tmp_path: Path) -> None:
    store = week9().build(tmp_path / "store")
    text = render_markdown(weekly_digest(store, parse_week("2026-W09"), now=NOW))
    golden = GOLDEN / "digest_2026-W09.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert "xychart-beta" in text and "| opened | 0 | 2 | 2 | 1 | 0 | 5 |" in text


def _cli(run_cli: CliRun, store: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("--store-dir", str(store), "--policy", str(store / "none"), *args)


def test_cli_default_week_and_bad_weeks(run_cli: CliRun, tmp_path: Path) -> None:
    store = tmp_path / "store"
    week9().build(store)
    result = _cli(
        run_cli, store, "digest", "weekly", "--now", "2026-03-02T12:00:00Z", "--format", "json"
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["week"] == "2026-W09"
    bad = _cli(run_cli, store, "digest", "weekly", "--week", "2025-W53")
    assert bad.exit_code == 2
    assert "'2025-W53' does not exist" in bad.stderr and "--week" in bad.stderr
    assert _cli(run_cli, store, "digest", "weekly", "--week", "2026-9").exit_code == 2


@pytest.mark.parametrize(("agent", "code"), [(None, 1), ("monitor", 1), ("helion", 0)])
def test_cli_save_needs_cto_or_oncall(
    run_cli: CliRun, tmp_path: Path, agent: str | None, code: int
) -> None:
    store, out = tmp_path / "store", tmp_path / "out"
    week9().build(store)
    who = ["--agent", agent] if agent else []
    result = _cli(
        run_cli,
        store,
        *who,
        "digest",
        "weekly",
        "--week",
        "2026-W09",
        "--save",
        "--out",
        str(out),
        "--now",
        "2026-03-02T12:00:00Z",
    )
    assert result.exit_code == code
    if code:
        assert (
            "forbidden" in result.stderr or "may not" in result.stderr or "needs" in result.stderr
        )
        assert not out.exists()
    else:
        saved = json.loads((out / "2026-W09.json").read_text())
        assert saved["opened"]["total"] == 5
        assert (out / "2026-W09.md").read_text().startswith("# Incident digest 2026-W09")
        assert sorted(p.name for p in out.iterdir()) == ["2026-W09.json", "2026-W09.md"]
