"""The governance jobs with --now: paths, content, idempotent backlog, missing intelligence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliRun, tree_digest
from tests.intelligence.test_digest import week9
from tests.ops.conftest import SHIPPED_REGISTRY


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEKEEPER_REGISTRY", str(SHIPPED_REGISTRY))
    return tmp_path


def _incident_with_followup(run_cli: CliRun, due: str) -> tuple[str, str]:
    created = run_cli("--agent", "helion", "incident", "create", "--service", "gateway", "--env",
                      "prod", "--severity", "P1", "--title", "5xx", "--started-at",
                      "2026-02-20T10:00:00Z", "--format", "json",
                      "--now", "2026-02-20T10:00:00Z")  # fmt: skip
    incident = json.loads(created.stdout)["id"]
    added = run_cli("--agent", "helion", "incident", "followup", "add", incident, "--title",
                    "Alert on 5xx", "--owner", "ana", "--due", due, "--format", "json",
                    "--now", "2026-02-20T11:00:00Z")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    return incident, json.loads(added.stdout)["followup_id"]


def _backlog(run_cli: CliRun, now: str) -> None:
    result = run_cli("--agent", "helion", "jobs", "run", "weekly_backlog_generate", "--input",
                     "recurrence=false", "--now", now)  # fmt: skip
    assert result.exit_code == 0, result.stderr


def test_backlog_is_idempotent_and_closes_an_item_when_its_followup_is_done(
    run_cli: CliRun, workdir: Path
) -> None:
    incident, followup = _incident_with_followup(run_cli, "2026-02-25")
    items = workdir / "ops/backlog/items.jsonl"
    for _ in range(3):
        _backlog(run_cli, "2026-03-02T06:20:00Z")
    lines = [json.loads(line) for line in items.read_text().splitlines()]
    assert len(lines) == 1
    assert lines[0]["kind"] == "overdue_followup" and lines[0]["status"] == "open"
    assert (lines[0]["incident_id"], lines[0]["followup_id"]) == (incident, followup)
    done = run_cli("--agent", "helion", "incident", "followup", "update", incident, followup,
                   "--status", "done", "--now", "2026-03-03T10:00:00Z")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    _backlog(run_cli, "2026-03-09T06:20:00Z")
    _backlog(run_cli, "2026-03-09T06:20:00Z")
    lines = [json.loads(line) for line in items.read_text().splitlines()]
    assert [(x["id"], x["status"]) for x in lines] == [
        (lines[0]["id"], "open"),
        (lines[0]["id"], "closed"),
    ]


def _incident(run_cli: CliRun, *backend: str, started: str, title: str = "5xx") -> str:
    created = run_cli(*backend, "--agent", "helion", "incident", "create", "--service", "gateway",
                      "--env", "prod", "--severity", "P2", "--title", title, "--started-at",
                      started, "--format", "json", "--now", started)  # fmt: skip
    assert created.exit_code == 0, created.stderr
    return str(json.loads(created.stdout)["id"])


def _backlog_items(run_cli: CliRun, *backend: str, now: str) -> list[dict[str, object]]:
    """Run the job (recurrence on) and answer the records it wrote."""
    result = run_cli(*backend, "--agent", "helion", "jobs", "run", "weekly_backlog_generate",
                     "--format", "json", "--now", now)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (output,) = json.loads(result.stdout)["outputs"]
    return list(output["records"])


def test_a_recurring_signature_is_an_item_until_a_followup_is_opened(
    run_cli: CliRun, workdir: Path
) -> None:
    ids = [_incident(run_cli, started=f"2026-02-{day}T10:00:00Z") for day in (10, 17, 24)]
    _incident(run_cli, started="2026-02-25T10:00:00Z", title="disk full")  # once: no item
    now = "2026-03-02T06:20:00Z"
    (item,) = _backlog_items(run_cli, now=now)
    assert item["kind"] == "recurring_signature" and item["status"] == "open"
    assert item["incidents"] == ids and item["count"] == 3 and item["service"] == "gateway"
    assert _backlog_items(run_cli, now=now) == []  # a rerun adds no duplicate
    added = run_cli("--agent", "helion", "incident", "followup", "add", ids[-1], "--title",
                    "Fix the retry storm", "--owner", "ana", "--due", "2026-03-20",
                    "--now", "2026-03-03T10:00:00Z")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    (closed,) = _backlog_items(run_cli, now="2026-03-04T06:20:00Z")
    assert (closed["id"], closed["status"]) == (item["id"], "closed")
    assert _backlog_items(run_cli, now="2026-03-04T06:20:00Z") == []
    lines = [json.loads(x) for x in (workdir / "ops/backlog/items.jsonl").read_text().splitlines()]
    assert [(x["id"], x["status"]) for x in lines] == [(item["id"], "open"), (item["id"], "closed")]


def test_backlog_on_postgres_is_the_table_and_idempotent(
    run_cli: CliRun, workdir: Path, migrated_pg_url: str
) -> None:
    import psycopg

    pg = ("--backend", "postgres", "--database-url", migrated_pg_url)
    ids = [_incident(run_cli, *pg, started=f"2026-02-{day}T10:00:00Z") for day in (10, 17, 24)]
    overdue = run_cli(*pg, "--agent", "helion", "incident", "followup", "add", ids[1], "--title",
                      "Canary", "--owner", "bo", "--due", "2026-02-20", "--format", "json",
                      "--now", "2026-02-18T10:00:00Z")  # fmt: skip
    assert overdue.exit_code == 0, overdue.stderr
    first = _backlog_items(run_cli, *pg, now="2026-03-02T06:20:00Z")
    assert [x["kind"] for x in first] == ["overdue_followup"]  # an open follow-up: no signature
    for _ in range(2):
        assert _backlog_items(run_cli, *pg, now="2026-03-02T06:20:00Z") == []
    followup = json.loads(overdue.stdout)["followup_id"]
    done = run_cli(*pg, "--agent", "helion", "incident", "followup", "update", ids[1], followup,
                   "--status", "done", "--now", "2026-03-03T10:00:00Z")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    second = _backlog_items(run_cli, *pg, now="2026-03-09T06:20:00Z")
    assert sorted((x["kind"], x["status"]) for x in second) == [
        ("overdue_followup", "closed"), ("recurring_signature", "open")
    ]  # fmt: skip
    assert _backlog_items(run_cli, *pg, now="2026-03-09T06:20:00Z") == []
    with psycopg.connect(migrated_pg_url) as conn:
        rows = conn.execute("SELECT id, status FROM backlog_items ORDER BY seq").fetchall()
    assert rows == [(first[0]["id"], "open"), *((x["id"], x["status"]) for x in second)]
    assert not (workdir / "ops/backlog").exists()


def test_backlog_dry_run_writes_nothing(run_cli: CliRun, workdir: Path) -> None:
    _incident_with_followup(run_cli, "2026-02-25")
    before = tree_digest(workdir)
    result = run_cli("--agent", "helion", "jobs", "run", "weekly_backlog_generate", "--dry-run",
                     "--input", "recurrence=false", "--now", "2026-03-02T06:20:00Z")  # fmt: skip
    assert result.exit_code == 0
    assert "would write ops/backlog/items.jsonl (1 record)" in result.stdout
    assert tree_digest(workdir) == before


def _week9_store(workdir: Path) -> None:
    week9().build(workdir / "ops" / "incidents")


def _run_job(run_cli: CliRun, job: str, now: str, *extra: str) -> dict[str, Any]:
    result = run_cli("--agent", "helion", "jobs", "run", job, "--format", "json", "--now", now,
                     *extra)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _risk(run_cli: CliRun, now: str) -> dict[str, Any]:
    result = run_cli("risk", "--format", "json", "--now", now)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_hourly_risk_snapshot_appends_each_slot_once(run_cli: CliRun, workdir: Path) -> None:
    _week9_store(workdir)
    now = "2026-03-02T09:41:00Z"
    answer = _run_job(run_cli, "hourly_risk_snapshot", now)
    assert answer["slot"] == "2026-03-02T09:00:00Z"
    history = workdir / "ops/incidents/risk_history.jsonl"
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    expected = _risk(run_cli, now)["scores"]
    assert [{k: v for k, v in x.items() if k != "slot"} for x in lines] == expected
    assert {x["slot"] for x in lines} == {"2026-03-02T09:00:00Z"}
    assert [x["service"] for x in lines] == ["checkout", "payments"]
    _run_job(run_cli, "hourly_risk_snapshot", "2026-03-02T09:59:00Z")  # the same slot again
    assert len(history.read_text().splitlines()) == len(lines)
    _run_job(run_cli, "hourly_risk_snapshot", "2026-03-02T10:01:00Z")
    assert len(history.read_text().splitlines()) == 2 * len(lines)


def test_hourly_risk_snapshot_on_postgres_is_the_table(
    run_cli: CliRun, workdir: Path, migrated_pg_url: str
) -> None:
    import psycopg

    from gatekeeper.store.postgres import PostgresIncidentStore

    store = PostgresIncidentStore.open(migrated_pg_url)
    try:
        week9().write_to(store)
    finally:
        store.close()
    pg = ("--backend", "postgres", "--database-url", migrated_pg_url)
    for now in ("2026-03-02T09:41:00Z", "2026-03-02T09:59:00Z"):
        result = run_cli(*pg, "--agent", "helion", "jobs", "run", "hourly_risk_snapshot",
                         "--now", now)  # fmt: skip
        assert result.exit_code == 0, result.stderr
    risk = run_cli(*pg, "risk", "--format", "json", "--now", "2026-03-02T09:41:00Z")
    expected = [(s["service"], s["env"], s["score"]) for s in json.loads(risk.stdout)["scores"]]
    with psycopg.connect(migrated_pg_url) as conn:
        rows = conn.execute(
            "SELECT slot, service, env, score FROM risk_history ORDER BY score DESC"
        ).fetchall()
    assert [r[1:] for r in rows] == expected  # the slot twice: one row per service and env
    assert {r[0].isoformat() for r in rows} == {"2026-03-02T09:00:00+00:00"}
    assert not (workdir / "ops/incidents/risk_history.jsonl").exists()


def test_daily_risk_digest_writes_the_days_report(run_cli: CliRun, workdir: Path) -> None:
    _week9_store(workdir)
    now = "2026-03-02T09:00:00Z"
    answer = _run_job(run_cli, "daily_risk_digest", now)
    base = workdir / "ops/reports/risk"
    assert [o["target"] for o in answer["outputs"]] == [
        "ops/reports/risk/2026-03-02.json", "ops/reports/risk/2026-03-02.md"
    ]  # fmt: skip
    assert json.loads((base / "2026-03-02.json").read_text()) == _risk(run_cli, now)
    markdown = (base / "2026-03-02.md").read_text()
    assert markdown.startswith("# Risk — 2026-03-02T09:00:00Z")
    assert markdown.index("| checkout | prod | 35 | elevated |") < markdown.index(
        "| payments | prod | 1.4 | low |"
    )  # ranked by score


def test_weekly_platform_priority_digest_ranks_services(run_cli: CliRun, workdir: Path) -> None:
    _week9_store(workdir)
    now = "2026-03-02T06:00:00Z"
    _run_job(run_cli, "weekly_platform_priority_digest", now)
    base = workdir / "ops/reports/platform"
    data = json.loads((base / "2026-W10.json").read_text())
    assert data["week"] == "2026-W10" and data["generated_at"] == now
    risk = _risk(run_cli, now)["scores"]
    assert [(s["service"], s["score"]) for s in data["services"]] == [
        (r["service"], r["score"]) for r in risk
    ]
    checkout, payments = data["services"]
    assert [f["followup_id"] for f in checkout["overdue_followups"]] == ["fu_d1"]
    assert checkout["overdue_followups"][0]["owner"] == "carol"
    assert payments["overdue_followups"] == []
    markdown = (base / "2026-W10.md").read_text()
    assert markdown.startswith("# Platform priorities, 2026-W10")
    assert f"| 1 | checkout | prod | {checkout['score']} | elevated | 1 |" in markdown
    assert "overdue: fu_d1" in markdown


def test_weekly_incident_digest_is_the_digest_of_the_week_that_ended(
    run_cli: CliRun, workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _week9_store(workdir)
    now = "2026-03-02T08:00:00Z"
    answer = _run_job(run_cli, "weekly_incident_digest", now)
    assert answer["slot"] == now
    base = workdir / "ops/reports/incidents/weekly"
    job_json = (base / "2026-W09.json").read_bytes()
    job_md = (base / "2026-W09.md").read_bytes()
    assert json.loads(job_json)["week"] == "2026-W09"
    for path in base.iterdir():
        path.unlink()
    saved = run_cli("--agent", "helion", "digest", "weekly", "--week", "2026-W09", "--save",
                    "--now", now)  # fmt: skip
    assert saved.exit_code == 0, saved.stderr
    assert (base / "2026-W09.json").read_bytes() == job_json  # what `digest weekly --save` writes
    assert (base / "2026-W09.md").read_bytes() == job_md


@pytest.mark.parametrize(
    ("job", "now", "target"),
    [
        ("daily_risk_digest", "2026-03-02T09:00:00Z", "ops/reports/risk/2026-03-02.json"),
        ("weekly_platform_priority_digest", "2026-03-02T06:00:00Z",
         "ops/reports/platform/2026-W10.json"),
        ("weekly_incident_digest", "2026-03-02T08:00:00Z",
         "ops/reports/incidents/weekly/2026-W09.json"),
    ],
)  # fmt: skip
def test_report_jobs_dry_run_write_nothing(
    run_cli: CliRun, workdir: Path, job: str, now: str, target: str
) -> None:
    _week9_store(workdir)
    before = tree_digest(workdir)
    result = run_cli("--agent", "helion", "jobs", "run", job, "--dry-run", "--now", now)
    assert result.exit_code == 0, result.stderr
    assert f"would write {target}" in result.stdout
    assert tree_digest(workdir) == before


def test_the_runbooks_start_task_call(run_cli: CliRun, workdir: Path) -> None:
    _incident_with_followup(run_cli, "2026-02-25")
    # the runbook's body, with the agent the API key stands for
    body = {"action": "start_task", "params": {"task_id": "weekly_backlog_generate",
            "inputs": {"recurrence": False}}}  # fmt: skip
    envelope = {"tool": "jobs", "agent_id": "sofiia", **body}
    result = run_cli("tool", "--now", "2026-03-02T06:20:00Z", input=json.dumps(envelope))
    answer = json.loads(result.stdout)
    assert answer["ok"] is True, answer
    assert answer["result"]["job"] == "weekly_backlog_generate"
    assert answer["result"]["slot"] == "2026-03-02T06:20:00Z"
    assert (workdir / "ops/backlog/items.jsonl").is_file()
    refused = run_cli("tool", input=json.dumps({**envelope, "agent_id": "monitor"}))
    assert json.loads(refused.stdout)["error"]["code"] == "forbidden"
