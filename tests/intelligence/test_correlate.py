"""Correlation: ranking and every part's points worked out by hand, the note, the roles.

The target ``A`` is checkout/prod, 10:00-11:00 on 2026-03-01, labels team, region
and fingerprint. Default weights: service 0.25, env 0.10, time 0.25, title 0.20,
labels 0.10, fingerprint 0.10; proximity halves every 6 h.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.config import Settings
from gatekeeper.errors import Forbidden, InvalidInput, NotFound
from gatekeeper.incidents import IncidentService
from gatekeeper.intelligence.correlate import (
    PARTS,
    append_note,
    correlate,
    normalised_weights,
    run,
)
from gatekeeper.intelligence.settings import (
    DEFAULT_CORRELATION,
    CorrelationSettings,
    CorrelationWeights,
)
from gatekeeper.models import Event
from gatekeeper.rbac import DEFAULT_RBAC
from gatekeeper.store.base import IncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.notes import Note
from gatekeeper.store.postgres import PostgresIncidentStore
from gatekeeper.tools import handle
from tests.conftest import CliRun, tree_digest
from tests.intelligence.factories import StoreBuilder, at

NOW = at("2026-03-02T12:00:00Z")
A = "inc_20260301_1000_aaaaaa"
B = "inc_20260301_1030_bbbbbb"
C = "inc_20260301_1400_cccccc"
D1 = "inc_20260301_1015_dddddc"
D2 = "inc_20260301_1015_dddddd"
E = "inc_20260227_1000_eeeeee"
F = "inc_20260220_0000_ffffff"
G = "inc_20260201_0000_gggggg"


def related_store() -> StoreBuilder:
    b = StoreBuilder()
    b.incident(
        "2026-03-01T10:00:00Z",
        suffix="aaaaaa",
        title="Checkout 5xx rate above 5%",
        labels={"team": "payments", "region": "eu", "fingerprint": "fp1"},
        ack_after_s=300,
        resolve_after_s=3600,
    )
    # Overlaps A; same title once normalised; 1 of 3 labels; same fingerprint.
    b.incident(
        "2026-03-01T10:30:00Z",
        suffix="bbbbbb",
        severity="P2",
        title="Checkout 5xx rate above 7%",
        labels={"team": "payments", "region": "us", "fingerprint": "fp1"},
        resolve_after_s=1800,
    )
    # Starts 3 h after A ended, in staging; 3 of 8 title words shared.
    b.incident(
        "2026-03-01T14:00:00Z",
        suffix="cccccc",
        env="staging",
        title="Checkout latency p99 above 900ms",
        resolve_after_s=3600,
    )
    # Two alike: payments/prod, overlapping, same fingerprint only. Tie broken by id.
    for suffix in ("dddddd", "dddddc"):
        b.incident(
            "2026-03-01T10:15:00Z",
            suffix=suffix,
            service="payments",
            title="Payments gateway timeout",
            labels={"fingerprint": "fp1"},
            resolve_after_s=600,
        )
    # 47 h before A started, elsewhere: 0.25 * 0.5 ** (47 / 6) = 0.0011, below 0.3.
    b.incident(
        "2026-02-27T10:00:00Z",
        suffix="eeeeee",
        service="search",
        env="dev",
        title="Search index rebuild slow",
        resolve_after_s=3600,
    )
    # Same problem 9 days before: outside the default 7-day window.
    b.incident("2026-02-20T00:00:00Z", suffix="ffffff", resolve_after_s=3600)
    # Started a month ago, still open: a candidate whatever its age, overlapping A.
    b.incident("2026-02-01T00:00:00Z", suffix="gggggg", title="Checkout 5xx rate above 9%")
    return b


def _reasons(data: dict[str, Any], incident_id: str) -> dict[str, float]:
    entry = next(r for r in data["related"] if r["incident_id"] == incident_id)
    return {r["part"]: r["points"] for r in entry["reasons"]}


def test_ranking_and_reasons_by_hand(backend_store: IncidentStore) -> None:
    related_store().write_to(backend_store)
    data = correlate(backend_store, A, DEFAULT_CORRELATION, now=NOW).to_json()
    ranked = [(r["incident_id"], r["score"]) for r in data["related"]]
    assert ranked == [
        (B, 0.9333),  # .25 + .10 + .25 + .20 + round(.10 / 3, 4) + .10
        (G, 0.8),  # .25 + .10 + .25 (open until now) + .20
        (C, 0.5018),  # .25 + round(.25 * 0.5 ** (3 / 6), 4) + .20 * 3 / 8
        (D1, 0.45),  # .10 + .25 + .10, tied with D2: by id
        (D2, 0.45),
    ]
    assert _reasons(data, B) == {
        "same_service": 0.25,
        "same_env": 0.1,
        "time_proximity": 0.25,
        "title_similarity": 0.2,
        "shared_labels": 0.0333,
        "shared_fingerprint": 0.1,
    }
    assert _reasons(data, C) == {
        "same_service": 0.25,
        "time_proximity": 0.1768,
        "title_similarity": 0.075,
    }
    assert _reasons(data, D1) == {
        "same_env": 0.1,
        "time_proximity": 0.25,
        "shared_fingerprint": 0.1,
    }
    c = next(r for r in data["related"] if r["incident_id"] == C)
    details = {r["part"]: r["detail"] for r in c["reasons"]}
    assert details["time_proximity"] == "3h 00m after it (halved every 6h)"
    assert details["title_similarity"] == "3 of 8 title words shared"
    b_details = {r["part"]: r["detail"] for r in data["related"][0]["reasons"]}
    assert b_details["shared_labels"] == "team=payments (1 of 3 labels)"
    assert b_details["shared_fingerprint"] == "same alert fingerprint fp1"
    assert data["incident_id"] == A and data["weights"] == normalised_weights(DEFAULT_CORRELATION)
    for entry in data["related"]:  # the score is the sum of its rounded points
        assert entry["score"] == round(sum(r["points"] for r in entry["reasons"]), 4)


def test_window_and_limit(tmp_path: Path) -> None:
    store = related_store().build(tmp_path / "store")
    wide = correlate(store, A, DEFAULT_CORRELATION, now=NOW, window_days=10).to_json()
    # F: 9 days before, same service/env/title; proximity 0.25 * 0.5 ** (215 / 6) rounds to 0.
    assert _reasons(wide, F) == {"same_service": 0.25, "same_env": 0.1, "title_similarity": 0.2}
    top = correlate(store, A, DEFAULT_CORRELATION, now=NOW, limit=2).to_json()
    assert [r["incident_id"] for r in top["related"]] == [B, G]
    with pytest.raises(InvalidInput):
        correlate(store, A, DEFAULT_CORRELATION, now=NOW, window_days=0)
    with pytest.raises(NotFound):
        correlate(store, "inc_20260301_1000_zzzzzz", DEFAULT_CORRELATION, now=NOW)
    with pytest.raises(InvalidInput, match="expected inc_YYYYMMDD"):
        correlate(store, "inc_1", DEFAULT_CORRELATION, now=NOW)


def test_policy_weights_are_scaled_and_min_score_applies(tmp_path: Path) -> None:
    store = related_store().build(tmp_path / "store")
    only_fingerprint = CorrelationSettings(
        weights=CorrelationWeights(
            same_service=0,
            same_env=0,
            time_proximity=0,
            title_similarity=0,
            shared_labels=0,
            shared_fingerprint=3,
        ),
        min_score=0.5,
    )
    data = correlate(store, A, only_fingerprint, now=NOW).to_json()
    assert [(r["incident_id"], r["score"]) for r in data["related"]] == [
        (D1, 1.0),  # ties by id: 10:15 before 10:30
        (D2, 1.0),
        (B, 1.0),
    ]


def test_equal_weights_sum_to_one_so_a_full_match_is_never_above_1() -> None:
    equal = CorrelationSettings(weights=CorrelationWeights(**dict.fromkeys(PARTS, 1.0)))
    weights = normalised_weights(equal)
    assert list(weights.values()) == [0.1667, 0.1667, 0.1667, 0.1667, 0.1666, 0.1666]
    assert round(sum(weights.values()), 10) == 1.0  # each part at its full weight: 1, not 1.0002


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=len(PARTS), max_size=len(PARTS)))
def test_scaled_weights_always_sum_to_exactly_one(raw: list[float]) -> None:
    if sum(raw) <= 0:
        return
    weights = normalised_weights(
        CorrelationSettings(weights=CorrelationWeights(**dict(zip(PARTS, raw, strict=True))))
    )
    assert sum(round(w * 10_000) for w in weights.values()) == 10_000
    total = sum(raw)
    for part, value in zip(PARTS, raw, strict=True):
        assert abs(weights[part] - value / total) <= 1e-4 + 1e-12
        if value == 0:
            assert weights[part] == 0


def test_deterministic_for_a_store_and_now(tmp_path: Path) -> None:
    store = related_store().build(tmp_path / "store")
    first = correlate(store, A, DEFAULT_CORRELATION, now=NOW).to_json()
    assert correlate(store, A, DEFAULT_CORRELATION, now=NOW).to_json() == first
    later = correlate(store, A, DEFAULT_CORRELATION, now=at("2026-03-05T12:00:00Z")).to_json()
    assert later["generated_at"] == "2026-03-05T12:00:00Z"


def _service(store: IncidentStore, agent: str | None) -> IncidentService:
    return IncidentService(store=store, rbac=DEFAULT_RBAC, artifacts_dir=Path("."), agent=agent)


def test_append_note_once_per_result(backend_store: IncidentStore) -> None:
    related_store().write_to(backend_store)
    service = _service(backend_store, "helion")
    first = run(service, A, DEFAULT_CORRELATION, now=NOW, note=True)
    assert first["note"]["appended"] is True
    notes = [e for e in backend_store.events(A) if e.type == "correlation"]
    assert len(notes) == 1
    assert notes[0].actor == "helion" and notes[0].ts == NOW
    assert notes[0].meta["related"] == [
        {"incident_id": B, "score": 0.9333},
        {"incident_id": G, "score": 0.8},
        {"incident_id": C, "score": 0.5018},
        {"incident_id": D1, "score": 0.45},
        {"incident_id": D2, "score": 0.45},
    ]
    again = run(service, A, DEFAULT_CORRELATION, now=NOW, note=True)
    assert again["note"] == {"appended": False, "event_id": None}
    assert len([e for e in backend_store.events(A) if e.type == "correlation"]) == 1
    # A different result is a new note.
    narrower = run(service, A, DEFAULT_CORRELATION, now=NOW, note=True, limit=1)
    assert narrower["note"]["appended"] is True
    last = [e for e in backend_store.events(A) if e.type == "correlation"][-1]
    assert last.meta["related"] == [{"incident_id": B, "score": 0.9333}]


def _twin(store: IncidentStore) -> IncidentStore:
    """Another store object on the same data: its own lock file handle or connection."""
    if isinstance(store, JsonlIncidentStore):
        return JsonlIncidentStore(store.directory)
    assert isinstance(store, PostgresIncidentStore)
    return PostgresIncidentStore.open(store.target.url, schema=store.target.schema)


@pytest.mark.parametrize("runners", [2, 4])
def test_racing_notes_add_one_event(
    backend_store: IncidentStore, runners: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers noting the same result at once: exactly one correlation event.

    The look at the last note is slowed down, so writers whose look were not
    under the lock with their append would all see no note and all append.
    """
    related_store().write_to(backend_store)
    is_new = Note.is_new

    def slow_is_new(note: Note, last: Event | None) -> bool:
        time.sleep(0.2)
        return is_new(note, last)

    monkeypatch.setattr(Note, "is_new", slow_is_new)
    stores = [_twin(backend_store) for _ in range(runners)]
    reports = [correlate(s, A, DEFAULT_CORRELATION, now=NOW) for s in stores]
    start = threading.Barrier(runners)

    def note(index: int) -> bool:
        start.wait()
        return append_note(_service(stores[index], "helion"), reports[index], now=NOW) is not None

    try:
        with ThreadPoolExecutor(runners) as pool:
            appended = list(pool.map(note, range(runners)))
    finally:
        for s in stores:
            s.close()
    assert sorted(appended) == [False] * (runners - 1) + [True]
    assert len([e for e in backend_store.events(A) if e.type == "correlation"]) == 1


@pytest.mark.parametrize("agent", [None, "monitor", "aistalk", "someone"])
def test_append_note_needs_a_writer(tmp_path: Path, agent: str | None) -> None:
    store = related_store().build(tmp_path / "store")
    before = tree_digest(tmp_path / "store")
    with pytest.raises(Forbidden):
        run(_service(store, agent), A, DEFAULT_CORRELATION, now=NOW, note=True)
    report = correlate(store, A, DEFAULT_CORRELATION, now=NOW)
    with pytest.raises(Forbidden):
        append_note(_service(store, agent), report, now=NOW)
    assert tree_digest(tmp_path / "store") == before
    # Reading needs no agent at all.
    assert run(_service(store, agent), A, DEFAULT_CORRELATION, now=NOW)["related"]


def _tool(store: IncidentStore, tmp_path: Path, agent: str | None, **params: Any) -> Any:
    request = {
        "tool": "incident_intelligence_tool",
        "action": "correlate",
        "agent_id": agent,
        "params": {"incident_id": A, **params},
    }
    return handle(request, store=store, settings=Settings(policy=tmp_path / "none"), now=NOW)


def _cli(run_cli: CliRun, tmp_path: Path, *args: str) -> Any:
    store = str(tmp_path / "store")
    return run_cli(
        "--store-dir", store, "--policy", str(tmp_path / "none"), "--now", "2026-03-02T12:00:00Z",
        *args,
    )  # fmt: skip


def test_cli_and_tool_give_the_same_json(run_cli: CliRun, tmp_path: Path) -> None:
    store = related_store().build(tmp_path / "store")
    cli = _cli(run_cli, tmp_path, "correlate", A, "--format", "json", "--window-days", "10")
    assert cli.exit_code == 0, cli.stderr
    answer = _tool(store, tmp_path, None, window_days=10)
    assert answer["ok"] and json.loads(cli.stdout) == answer["result"]
    text = _cli(run_cli, tmp_path, "correlate", A, "--limit", "1")
    assert text.exit_code == 0
    assert f"0.9333 {B} checkout/prod P2 resolved" in text.stdout
    assert "+0.0333 shared_labels: team=payments (1 of 3 labels)" in text.stdout


def test_cli_append_note_roles_and_idempotence(run_cli: CliRun, tmp_path: Path) -> None:
    store = related_store().build(tmp_path / "store")
    before = tree_digest(tmp_path / "store")
    for who in ([], ["--agent", "monitor"]):
        refused = _cli(run_cli, tmp_path, *who, "correlate", A, "--append-note")
        assert refused.exit_code == 1 and "incident_write" in refused.stderr
    assert tree_digest(tmp_path / "store") == before
    done = _cli(run_cli, tmp_path, "--agent", "helion", "correlate", A, "--append-note")
    assert done.exit_code == 0 and "recorded as event evt_" in done.stdout
    again = _cli(run_cli, tmp_path, "--agent", "sofiia", "correlate", A, "--append-note")
    assert again.exit_code == 0 and "already noted" in again.stdout
    assert len([e for e in store.events(A) if e.type == "correlation"]) == 1
    missing = _cli(run_cli, tmp_path, "correlate", "inc_20260301_1000_zzzzzz")
    assert missing.exit_code == 1


@pytest.mark.parametrize(("agent", "ok"), [(None, False), ("monitor", False), ("sofiia", True)])
def test_tool_append_note_roles(tmp_path: Path, agent: str | None, ok: bool) -> None:
    store = related_store().build(tmp_path / "store")
    before = tree_digest(tmp_path / "store")
    answer = _tool(store, tmp_path, agent, append_note=True)
    assert answer["ok"] is ok, answer
    if ok:
        assert answer["result"]["note"]["appended"] is True
        again = _tool(store, tmp_path, agent, append_note=True)
        assert again["result"]["note"]["appended"] is False
    else:
        assert answer["error"]["code"] == "forbidden"
        assert tree_digest(tmp_path / "store") == before
    bad = _tool(store, tmp_path, None, window_days=0)
    assert bad["error"]["code"] == "invalid" and "window_days" in bad["error"]["message"]


def test_the_cli_takes_the_weights_from_the_policy(run_cli: CliRun, tmp_path: Path) -> None:
    related_store().build(tmp_path / "store")
    policy = tmp_path / "policies"
    policy.mkdir()
    (policy / "gates.yml").write_text(
        "version: 1\n"
        "environments: {prod: {strict: true}}\n"
        "gates:\n"
        "  postmortem_required: {type: postmortem_required}\n"
        "correlation:\n"
        "  min_score: 0.5\n"
        "  weights: {same_service: 1, same_env: 0, time_proximity: 0, title_similarity: 0,\n"
        "            shared_labels: 0, shared_fingerprint: 1}\n",
        encoding="utf-8",
    )
    result = run_cli(
        "--store-dir", str(tmp_path / "store"), "--policy", str(policy),
        "--now", "2026-03-02T12:00:00Z", "correlate", A, "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["weights"]["same_service"] == 0.5 and data["min_score"] == 0.5
    # B: service + fingerprint = 1.0; D1, D2: fingerprint 0.5; G, C: service 0.5.
    assert [(r["incident_id"], r["score"]) for r in data["related"]] == [
        (B, 1.0),
        (G, 0.5),
        (D1, 0.5),
        (D2, 0.5),
        (C, 0.5),
    ]
