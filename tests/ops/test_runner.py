"""Running jobs: slot naming, roles, dry runs that write nothing, the lock and the run log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, CliRun, tree_digest

SAMPLE_REGISTRY = """\
version: 1
jobs:
  - id: sample
    schedule: "0 9 * * *"
    entry: tests.ops.sample_jobs:write_report
    role: [agent_cto, agent_oncall]
    inputs: {sleep_s: 0.0}
    timeout_s: 60
    owner: sre
  - id: no_dry_run
    schedule: "0 * * * *"
    entry: tests.ops.sample_jobs:write_report
    role: agent_cto
    dry_run: false
    owner: sre
"""
NOW = "2026-03-02T10:30:00Z"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "task_registry.yml").write_text(SAMPLE_REGISTRY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_run_writes_the_slot_file_and_the_run_log(run_cli: CliRun, workdir: Path) -> None:
    result = run_cli("--agent", "helion", "jobs", "run", "sample", "--now", NOW)
    assert (result.exit_code, result.stderr) == (0, "")
    report = workdir / "ops/reports/sample/2026-03-02T0900.txt"
    assert report.read_text() == "slot 2026-03-02T09:00:00+00:00 by helion\n"
    assert "for slot 2026-03-02T09:00:00Z" in result.stdout
    listed = json.loads(run_cli("jobs", "list", "--format", "json").stdout)["jobs"]
    assert (listed[0]["last_run"], listed[0]["last_outcome"]) == (NOW, "ok")
    assert listed[1]["last_run"] is None
    # a double fire of the same slot rewrites the same file
    again = run_cli("jobs", "run", "sample", "--agent", "helion", "--now", "2026-03-02T11:00:00Z")
    assert again.exit_code == 0
    assert sorted(p.name for p in report.parent.iterdir()) == ["2026-03-02T0900.txt"]


def test_the_role_is_checked_against_the_agent(run_cli: CliRun, workdir: Path) -> None:
    before = tree_digest(workdir)
    refused = run_cli("--agent", "monitor", "jobs", "run", "sample", "--now", NOW)
    assert refused.exit_code == 1
    assert "agent 'monitor' (role agent_monitor) may not run sample" in refused.stderr
    nobody = run_cli("jobs", "run", "sample", "--now", NOW)
    assert nobody.exit_code == 1 and "needs an agent" in nobody.stderr
    helion = run_cli("--agent", "helion", "jobs", "run", "no_dry_run", "--now", NOW)
    assert helion.exit_code == 1 and "needs agent_cto" in helion.stderr
    assert tree_digest(workdir) == before


def test_inputs_are_typed_and_unknown_ones_refused(run_cli: CliRun, workdir: Path) -> None:
    bad = run_cli("--agent", "helion", "jobs", "run", "sample", "--input", "sleep_s=x")
    assert bad.exit_code == 1 and "expected a float" in bad.stderr
    unknown = run_cli("--agent", "helion", "jobs", "run", "sample", "--input", "colour=red")
    assert (
        unknown.exit_code == 1
        and "unknown input of sample (known: sleep_s) (colour)" in unknown.stderr
    )


def test_dry_run_writes_nothing_at_all(run_cli: CliRun, workdir: Path) -> None:
    before = tree_digest(workdir)
    result = run_cli("--agent", "helion", "jobs", "run", "sample", "--dry-run", "--now", NOW,
                     "--format", "json")  # fmt: skip
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["outputs"][0]["target"].endswith("2026-03-02T0900.txt")
    assert tree_digest(workdir) == before
    refused = run_cli("--agent", "sofiia", "jobs", "run", "no_dry_run", "--dry-run")
    assert refused.exit_code == 1 and "does not support --dry-run" in refused.stderr


def test_the_script_is_the_same_runner(workdir: Path) -> None:
    env = {**os.environ, "GATEKEEPER_AGENT": "helion", "PYTHONPATH": str(REPO)}
    script = REPO / "ops" / "scripts" / "run_governance_job.py"
    done = subprocess.run([sys.executable, str(script), "sample", "--dry-run", "--now", NOW],
                          capture_output=True, text=True, env=env, cwd=workdir)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert "would write ops/reports/sample/2026-03-02T0900.txt" in done.stdout


def _start_slow_run(workdir: Path, extra_env: dict[str, str]) -> subprocess.Popen[str]:
    env = {**os.environ, "GATEKEEPER_AGENT": "helion", "PYTHONPATH": str(REPO), **extra_env}
    return subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", "jobs", "run", "sample", "--input", "sleep_s=3",
         "--now", NOW],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(condition: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_concurrent_runs_on_jsonl_one_runs_one_exits_1(run_cli: CliRun, workdir: Path) -> None:
    first = _start_slow_run(workdir, {})
    lock = workdir / "ops/incidents/.jobs/sample.lock"
    _wait_for(lambda: lock.is_file() and lock.read_bytes())
    second = run_cli("--agent", "helion", "jobs", "run", "sample", "--now", NOW)
    assert second.exit_code == 1
    assert f"job sample is already running (pid {first.pid} on " in second.stderr
    _out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    again = run_cli("--agent", "helion", "jobs", "run", "sample", "--now", NOW)
    assert again.exit_code == 0  # the lock went with the process


@pytest.mark.postgres
def test_two_concurrent_runs_on_postgres_use_an_advisory_lock(
    run_cli: CliRun, workdir: Path, migrated_pg_url: str
) -> None:
    pg = {"INCIDENT_BACKEND": "postgres", "DATABASE_URL": migrated_pg_url}
    first = _start_slow_run(workdir, pg)

    def locked() -> bool:
        with psycopg.connect(migrated_pg_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE %s",
                (f"gatekeeper job sample: pid {first.pid} %",),
            ).fetchone()
        return bool(row and row[0])

    _wait_for(locked)
    second = run_cli("--agent", "helion", "jobs", "run", "sample", "--now", NOW, env=pg)
    assert second.exit_code == 1, first.communicate(timeout=30)
    assert f"job sample is already running (pid {first.pid} on " in second.stderr
    _out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert not (workdir / "ops/incidents").exists()  # nothing beside a JSONL store
    listed = json.loads(run_cli("jobs", "list", "--format", "json", env=pg).stdout)["jobs"]
    assert listed[0]["last_outcome"] == "ok"


@pytest.mark.postgres
def test_dry_run_on_postgres_changes_nothing(
    run_cli: CliRun, workdir: Path, migrated_pg_url: str
) -> None:
    pg = {"INCIDENT_BACKEND": "postgres", "DATABASE_URL": migrated_pg_url}
    tables = ("job_runs", "risk_history", "backlog_items", "alerts", "incidents")

    def counts() -> list[object]:
        with psycopg.connect(migrated_pg_url) as conn:
            return [conn.execute(f"SELECT count(*) FROM {t}".encode()).fetchone() for t in tables]

    before, tree = counts(), tree_digest(workdir)
    result = run_cli("--agent", "helion", "jobs", "run", "sample", "--dry-run", env=pg)
    assert result.exit_code == 0
    assert (counts(), tree_digest(workdir)) == (before, tree)


def test_a_failed_run_is_in_the_run_log(run_cli: CliRun, workdir: Path) -> None:
    registry = workdir / "ops" / "task_registry.yml"
    registry.write_text(SAMPLE_REGISTRY.replace("timeout_s: 60", "timeout_s: 1"))
    result = run_cli("--agent", "helion", "jobs", "run", "sample", "--input", "sleep_s=3")
    assert result.exit_code == 1
    assert result.stderr == "gatekeeper: error: job sample timed out after 1 s (sample)\n"
    listed = json.loads(run_cli("jobs", "list", "--format", "json").stdout)["jobs"]
    assert (listed[0]["last_outcome"], listed[0]["last_error"]) == (
        "failed",
        "job sample timed out after 1 s (sample)",
    )


def test_help_has_an_example(run_cli: CliRun) -> None:
    for sub in ("list", "run", "cron", "check-sync"):
        result = run_cli("jobs", sub, "--help")
        assert result.exit_code == 0 and "Example: gatekeeper" in result.stdout
