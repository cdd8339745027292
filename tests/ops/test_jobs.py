"""The governance jobs with --now: paths, content, idempotent backlog, missing intelligence."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.conftest import CliRun, tree_digest
from tests.ops.conftest import SHIPPED_REGISTRY

HAS_RISK = importlib.util.find_spec("gatekeeper.intelligence.risk") is not None


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


@pytest.mark.skipif(HAS_RISK, reason="the intelligence library is installed")
@pytest.mark.parametrize(
    "job", ["hourly_risk_snapshot", "daily_risk_digest", "weekly_platform_priority_digest",
            "weekly_incident_digest"],
)  # fmt: skip
def test_without_the_intelligence_library_a_job_fails_in_one_line(
    run_cli: CliRun, workdir: Path, job: str
) -> None:
    result = run_cli("--agent", "helion", "jobs", "run", job, "--now", "2026-03-02T09:00:00Z")
    assert result.exit_code == 1
    assert result.stderr.startswith("gatekeeper: error: the intelligence library ")
    assert result.stderr.count("\n") == 1
    listed = json.loads(run_cli("jobs", "list", "--format", "json").stdout)["jobs"]
    assert {j["id"]: j["last_outcome"] for j in listed}[job] == "failed"


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
