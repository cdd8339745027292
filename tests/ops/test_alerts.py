"""Alerts: the inbox, fingerprints, triage rules, and exactly-once under SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.alerts import generate
from gatekeeper.errors import InvalidInput
from gatekeeper.ops.alerts.fingerprint import fingerprint
from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.conftest import REPO, CliRun, tree_digest

NOW = "2026-03-02T12:00:00Z"
BASE = {"source": "prom", "service": "gateway", "env": "prod", "severity": "P3", "title": "5xx"}


def _alert(**changes: object) -> str:
    return json.dumps({**BASE, "received_at": "2026-03-02T11:00:00Z", **changes})


def _add(run_cli: CliRun, store: Path, *lines: str) -> None:
    result = run_cli(
        "--store-dir",
        str(store),
        "--agent",
        "helion",
        "alerts",
        "add",
        "--now",
        NOW,
        input="\n".join(lines) + "\n",
    )
    assert result.exit_code == 0, result.stderr


def _triage(run_cli: CliRun, store: Path, *extra: str) -> dict[str, int]:
    result = run_cli(
        "--store-dir",
        str(store),
        "--agent",
        "helion",
        "alerts",
        "triage",
        "--format",
        "json",
        "--now",
        NOW,
        *extra,
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _alert_events(store: Path) -> list[dict[str, object]]:
    return [e.to_json_dict() for e in JsonlIncidentStore(store).iter_events() if e.type == "alert"]


def test_fingerprint_is_a_canonical_list_not_a_concatenation() -> None:
    one = fingerprint({"source": "ab", "service": "c", "env": "x", "title": "t"})
    two = fingerprint({"source": "a", "service": "bc", "env": "x", "title": "t"})
    assert one != two and len(one) == 64
    same = fingerprint({"source": "ab", "service": "c", "env": "x", "title": "  T  "})
    assert same == one  # the title is normalised
    with pytest.raises(InvalidInput, match="every fingerprint field is empty"):
        fingerprint({"labels": {}}, ["labels.team"])


def test_a_bad_line_rejects_the_whole_batch(run_cli: CliRun, store_dir: Path) -> None:
    before = tree_digest(store_dir)
    result = run_cli(
        "--store-dir",
        str(store_dir),
        "--agent",
        "helion",
        "alerts",
        "add",
        input=_alert() + "\n" + _alert(severity="P9") + "\n",
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("gatekeeper: error: line 2: severity: ")
    assert tree_digest(store_dir) == before
    refused = run_cli(
        "--store-dir", str(store_dir), "--agent", "monitor", "alerts", "add", input=_alert()
    )
    assert refused.exit_code == 1 and "may not incident_write" in refused.stderr


def test_dedupe_by_fingerprint_and_every_alert_is_an_event(
    run_cli: CliRun, store_dir: Path
) -> None:
    _add(run_cli, store_dir, _alert(), _alert(title="5XX"), _alert(service="billing"))
    assert _triage(run_cli, store_dir) == {
        "processed": 3,
        "created": 2,
        "updated": 0,
        "escalated": 0,
        "dry_run": False,
        "replayed": 0,
    }
    incidents = list(JsonlIncidentStore(store_dir).iter_incidents())
    assert sorted(i.service for i in incidents) == ["billing", "gateway"]
    events = _alert_events(store_dir)
    assert len(events) == 3
    assert Counter(e["incident_id"] for e in events).most_common(1)[0][1] == 2
    assert _triage(run_cli, store_dir)["processed"] == 0  # nothing is processed twice


def test_resolved_incidents_are_never_reopened(run_cli: CliRun, store_dir: Path) -> None:
    _add(run_cli, store_dir, _alert())
    _triage(run_cli, store_dir)
    (first,) = JsonlIncidentStore(store_dir).iter_incidents()
    closed = run_cli(
        "--store-dir",
        str(store_dir),
        "--agent",
        "helion",
        "incident",
        "update",
        first.id,
        "--status",
        "resolved",
        "--now",
        NOW,
    )
    assert closed.exit_code == 0, closed.stderr
    _add(run_cli, store_dir, _alert(received_at="2026-03-02T11:30:00Z"))
    assert _triage(run_cli, store_dir)["created"] == 1
    store = JsonlIncidentStore(store_dir)
    assert store.get_incident(first.id).status == "resolved"
    assert sorted(i.status for i in store.iter_incidents()) == ["open", "resolved"]


def test_escalation_thresholds_and_the_ceiling(run_cli: CliRun, tmp_path: Path) -> None:
    store = tmp_path / "store"
    policy = tmp_path / "policies"
    policy.mkdir()
    (policy / "gates.yml").write_text(
        "version: 1\nenvironments: {prod: {strict: true}}\n"
        "triage: {repeat_threshold: 3, repeat_window_minutes: 10, severity_ceiling: P2}\n"
    )
    times = ["11:00", "11:01", "11:02", "11:03", "11:20", "11:21", "11:22"]
    _add(run_cli, store, *(_alert(received_at=f"2026-03-02T{t}:00Z") for t in times))
    result = run_cli(
        "--store-dir",
        str(store),
        "--policy",
        str(policy),
        "--agent",
        "helion",
        "alerts",
        "triage",
        "--format",
        "json",
        "--now",
        NOW,
    )
    assert json.loads(result.stdout)["escalated"] == 2  # 3rd alert, then once per window
    (incident,) = JsonlIncidentStore(store).iter_incidents()
    assert incident.severity == "P2"  # P3 -> P2, and never above the ceiling
    _add(run_cli, store, _alert(severity="P0", received_at="2026-03-02T11:40:00Z"))
    result = run_cli(
        "--store-dir",
        str(store),
        "--policy",
        str(policy),
        "--agent",
        "helion",
        "alerts",
        "triage",
        "--format",
        "json",
        "--now",
        NOW,
    )
    assert json.loads(result.stdout)["escalated"] == 1
    assert JsonlIncidentStore(store).get_incident(incident.id).severity == "P2"
    escalations = [
        e for e in JsonlIncidentStore(store).events(incident.id) if e.type == "escalation"
    ]
    assert [(e.meta["from"], e.meta["to"]) for e in escalations] == [
        ("P3", "P2"),
        ("P2", "P2"),
        ("P2", "P2"),
    ]


def test_dry_run_changes_nothing(run_cli: CliRun, store_dir: Path) -> None:
    _add(run_cli, store_dir, _alert(), _alert(service="billing"))
    before = tree_digest(store_dir)
    assert _triage(run_cli, store_dir, "--dry-run")["created"] == 2
    assert tree_digest(store_dir) == before


def test_ten_thousand_alerts_exactly_once_under_sigkill(run_cli: CliRun, store_dir: Path) -> None:
    alerts = generate(10_000)
    _add(run_cli, store_dir, *(json.dumps(a) for a in alerts))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GATEKEEPER_AGENT": "helion",
        "INCIDENT_JSONL_DIR": str(store_dir),
        "GATEKEEPER_POLICY": str(store_dir / "none"),
    }
    command = [
        sys.executable,
        "-m",
        "gatekeeper",
        "alerts",
        "triage",
        "--batch-size",
        "500",
        "--now",
        NOW,
    ]
    rng = random.Random(12)
    kills = 0
    for _ in range(6):
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 1.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 1
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    events = _alert_events(store_dir)
    per_alert = Counter(str(e["meta"]["alert_id"]) for e in events)  # type: ignore[index]
    assert len(per_alert) == 10_000 and set(per_alert.values()) == {1}
    incidents = {i.id for i in JsonlIncidentStore(store_dir).iter_incidents()}
    assert {e["incident_id"] for e in events} <= incidents
    inbox = [json.loads(line) for line in (store_dir / "alerts.jsonl").read_text().splitlines()]
    marks = Counter(r["id"] for r in inbox if r.get("state") == "processed")
    assert len(marks) == 10_000 and set(marks.values()) == {1}
    assert not (store_dir / "alerts.triage.intent.json").exists()


def test_help_has_an_example(run_cli: CliRun) -> None:
    for sub in ("add", "triage"):
        result = run_cli("alerts", sub, "--help")
        assert result.exit_code == 0 and "Example: gatekeeper" in result.stdout


# -- the inbox in Postgres -------------------------------------------------------------


def _pg(url: str, store: Path, *args: str, backend: str = "postgres") -> list[str]:
    return ["--backend", backend, "--database-url", url, "--store-dir", str(store),
            "--agent", "helion", *args, "--now", NOW]  # fmt: skip


def _pg_count(url: str, statement: str) -> int:
    (row,) = _pg_rows(url, statement)
    return int(str(row[0]))


def _pg_rows(url: str, statement: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement.encode()).fetchall()


@pytest.mark.parametrize("backend", ["postgres", "auto"])
def test_postgres_inbox_dedupes_and_marks_each_alert_once(
    run_cli: CliRun, migrated_pg_url: str, store_dir: Path, backend: str
) -> None:
    lines = "\n".join([_alert(), _alert(title="5XX"), _alert(service="billing")]) + "\n"
    added = run_cli(*_pg(migrated_pg_url, store_dir, "alerts", "add", backend=backend),
                    input=lines)  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert not (store_dir / "alerts.jsonl").exists()  # the inbox is the table
    rows = _pg_rows(migrated_pg_url, "SELECT state, ingested_by FROM alerts")
    assert rows == [("new", "helion")] * 3
    triage = _pg(migrated_pg_url, store_dir, "alerts", "triage", "--format", "json",
                 backend=backend)  # fmt: skip
    dry = run_cli(*triage, "--dry-run")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["created"] == 2
    assert _pg_rows(migrated_pg_url, "SELECT count(*) FROM incidents") == [(0,)]
    assert _pg_rows(migrated_pg_url, "SELECT DISTINCT state FROM alerts") == [("new",)]
    first = run_cli(*triage)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["processed"] == 3
    assert json.loads(first.stdout)["created"] == 2
    assert json.loads(run_cli(*triage).stdout)["processed"] == 0
    marks = _pg_rows(migrated_pg_url, "SELECT state, outcome, incident_id IS NOT NULL FROM alerts"
                                      " ORDER BY seq")  # fmt: skip
    assert marks == [("processed", "created", True), ("processed", "joined", True),
                     ("processed", "created", True)]  # fmt: skip
    events = _pg_rows(migrated_pg_url, "SELECT count(*) FROM incident_events WHERE type = 'alert'")
    assert events == [(3,)]
    assert not (store_dir / "events.jsonl").exists()


def test_postgres_bad_item_rejects_the_batch(
    run_cli: CliRun, migrated_pg_url: str, store_dir: Path
) -> None:
    lines = _alert() + "\n" + _alert(env="Prod!") + "\n"
    result = run_cli(*_pg(migrated_pg_url, store_dir, "alerts", "add"), input=lines)
    assert result.exit_code == 1
    assert result.stderr.startswith("gatekeeper: error: line 2: env: ")
    assert _pg_rows(migrated_pg_url, "SELECT count(*) FROM alerts") == [(0,)]


def test_auto_with_postgres_away_fails_closed_and_writes_nothing(
    run_cli: CliRun, store_dir: Path
) -> None:
    dead = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    before = tree_digest(store_dir)
    added = run_cli(*_pg(dead, store_dir, "alerts", "add", backend="auto"), input=_alert())
    assert added.exit_code == 1
    assert "on auto the alert inbox is in Postgres; nothing was done" in added.stderr
    triage = run_cli(*_pg(dead, store_dir, "alerts", "triage", backend="auto"))
    assert triage.exit_code == 1
    assert "on auto the alert inbox is in Postgres" in triage.stderr
    assert not (store_dir / "alerts.jsonl").exists()
    assert tree_digest(store_dir) == before


def test_postgres_exactly_once_under_sigkill(
    run_cli: CliRun, migrated_pg_url: str, store_dir: Path
) -> None:
    alerts = generate(10_000)
    lines = "".join(json.dumps(a) + "\n" for a in alerts)
    added = run_cli(*_pg(migrated_pg_url, store_dir, "alerts", "add"), input=lines)
    assert added.exit_code == 0, added.stderr
    env = {**os.environ, "PYTHONPATH": str(REPO), "GATEKEEPER_POLICY": str(store_dir / "none")}
    triage = _pg(migrated_pg_url, store_dir, "alerts", "triage", "--batch-size", "500")
    command = [sys.executable, "-m", "gatekeeper", *triage]
    rng = random.Random(5)
    processed = "SELECT count(*) FROM alerts WHERE state = 'processed'"
    mid_run_kills = 0
    for _ in range(3):
        # kill once the run has committed some batches, a random few ms later
        start = _pg_count(migrated_pg_url, processed)
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while process.poll() is None:
            if _pg_count(migrated_pg_url, processed) > start:
                time.sleep(rng.uniform(0.0, 0.3))
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        process.wait()
        left = _pg_count(migrated_pg_url, processed)
        mid_run_kills += process.returncode == -signal.SIGKILL and left < 10_000
    assert mid_run_kills >= 1
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    per_alert = _pg_rows(
        migrated_pg_url,
        "SELECT meta->>'alert_id', count(*) FROM incident_events WHERE type = 'alert' GROUP BY 1",
    )
    assert len(per_alert) == 10_000 and {n for _id, n in per_alert} == {1}
    assert _pg_rows(migrated_pg_url, "SELECT state, count(*) FROM alerts GROUP BY 1") == [
        ("processed", 10_000)
    ]
    orphans = _pg_rows(
        migrated_pg_url,
        "SELECT count(*) FROM incident_events e LEFT JOIN incidents i ON i.id = e.incident_id"
        " WHERE i.id IS NULL",
    )
    assert orphans == [(0,)]
    joined = _pg_rows(
        migrated_pg_url,
        "SELECT count(*) FROM alerts a JOIN incident_events e ON e.meta->>'alert_id' = a.id"
        " WHERE e.type = 'alert' AND e.incident_id = a.incident_id",
    )
    assert joined == [(10_000,)]


def test_postgres_batch_that_finds_an_alert_processed_rolls_back_whole(
    run_cli: CliRun, migrated_pg_url: str, store_dir: Path
) -> None:
    from gatekeeper.errors import Conflict
    from gatekeeper.ops.alerts.pg_inbox import PostgresInbox
    from gatekeeper.ops.alerts.policy import TriagePolicy
    from gatekeeper.ops.alerts.triage import Triage, TriageResult
    from gatekeeper.store.postgres import PostgresIncidentStore
    from gatekeeper.timeutil import parse_timestamp

    added = run_cli(*_pg(migrated_pg_url, store_dir, "alerts", "add"),
                    input=_alert() + "\n" + _alert(service="billing") + "\n")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    store = PostgresIncidentStore.open(migrated_pg_url)
    try:
        inbox = PostgresInbox(store)
        triage = Triage(store, inbox, TriagePolicy(), agent="helion", now=parse_timestamp(NOW))
        state = inbox.load()
        triage.times = state.times
        plan = triage._plan(state.pending, {}, TriageResult())  # planned, not yet applied
        first = state.pending[0]["id"]
        _pg_rows(
            migrated_pg_url,
            "UPDATE alerts SET state = 'processed', outcome = 'joined', processed_at = now()"
            f" WHERE id = '{first}' RETURNING id",
        )
        with pytest.raises(Conflict, match="1 alert\\(s\\) of the batch were already processed"):
            inbox.apply(store, plan)
    finally:
        store.close()
    assert _pg_rows(migrated_pg_url, "SELECT count(*) FROM incidents") == [(0,)]
    assert _pg_rows(migrated_pg_url, "SELECT count(*) FROM incident_events") == [(0,)]
    assert _pg_rows(
        migrated_pg_url, "SELECT state, count(*) FROM alerts GROUP BY 1 ORDER BY 1"
    ) == [("new", 1), ("processed", 1)]
