"""docs/jobs.md and docs/alerts.md: every example runs, in order, as a user's shell would.

Each ```bash block runs under ``bash -e -o pipefail`` in a checkout-like directory
(the shipped registry, cron files and scripts), with ``sudo`` running its command and
``/etc/cron.d`` pointed at a temporary directory. A ```text block after it is what the
block prints (its first lines; stderr when it shows an error). ``GATEKEEPER_NOW`` fixes
the clock to a Monday morning, so the jobs' slots and outputs are the documented ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gatekeeper.ops.locks import file_lock
from gatekeeper.ops.registry import load_registry
from gatekeeper.timeutil import parse_timestamp
from tests.conftest import REPO
from tests.intelligence.test_digest import week9

NOW = "2026-03-02T09:30:00Z"
BLOCK = re.compile(r"```(bash|text)\n(.*?)```", re.S)
DOC_DATABASE_URL = "postgresql://gatekeeper@db.internal:5432/gatekeeper"
PRELUDE = 'sudo() { "$@"; }\ngatekeeper() { python3 -m gatekeeper "$@"; }\n'


def examples(doc: str) -> list[tuple[str, str | None]]:
    """Each bash block with the text block that follows it (None if there is none)."""
    blocks = BLOCK.findall((REPO / "docs" / doc).read_text(encoding="utf-8"))
    out: list[tuple[str, str | None]] = []
    for index, (kind, body) in enumerate(blocks):
        if kind == "bash":
            after = blocks[index + 1] if index + 1 < len(blocks) else None
            out.append((body, after[1] if after and after[0] == "text" else None))
    return out


def checkout(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "ops" / "cron").mkdir(parents=True)
    shutil.copy(REPO / "ops" / "task_registry.yml", work / "ops" / "task_registry.yml")
    for name in ("jobs.cron", "alert_triage.cron"):
        shutil.copy(REPO / "ops" / "cron" / name, work / "ops" / "cron" / name)
    (work / "ops" / "scripts").symlink_to(REPO / "ops" / "scripts")
    (tmp_path / "etc" / "cron.d").mkdir(parents=True)
    return work


def _normalise(text: str) -> str:
    text = re.sub(r"pid \d+ on \S+", "pid PID on HOST", text)
    return re.sub(r"inc_\d{8}_\d{4}_[a-z0-9]{6}", "inc_ID", text)


def run_block(
    work: Path, block: str, expected: str | None, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    etc = str(work.parent / "etc") + "/"
    script = PRELUDE + block.replace("/etc/", etc)
    if database_url is not None:
        script = script.replace(DOC_DATABASE_URL, database_url)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": str(work.parent),
        "GATEKEEPER_NOW": NOW,
    }
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    failing = expected is not None and expected.startswith("gatekeeper: error:")
    if failing:
        assert done.returncode == 1, (block, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
    else:
        assert done.returncode == 0, (block, done.stderr)
    if expected is not None:
        shown = (done.stderr if failing else done.stdout).replace(etc, "/etc/")
        want = expected.splitlines()
        assert _normalise(shown).splitlines()[: len(want)] == _normalise(expected).splitlines()
    return done


def test_every_jobs_example_runs_in_order(tmp_path: Path) -> None:
    work = checkout(tmp_path)
    week9().build(work / "ops" / "incidents")
    blocks = examples("jobs.md")
    assert len(blocks) >= 8
    for block, expected in blocks:
        if expected is not None and "is already running" in expected:
            with file_lock(work / "ops" / "incidents", "weekly_backlog_generate",
                           parse_timestamp(NOW)):  # fmt: skip
                run_block(work, block, expected)
        else:
            run_block(work, block, expected)
    text = "".join(block for block, _ in blocks)
    for needed in ("--dry-run", "--target kubernetes", "sudo cp ops/cron/jobs.cron",
                   "jobs list", "job_runs.jsonl", "retention"):  # fmt: skip
        assert needed in text, needed

    # the file the install step copies is the shipped one, and it is in sync
    installed = tmp_path / "etc" / "cron.d" / "daarion-governance"
    assert installed.read_bytes() == (REPO / "ops" / "cron" / "jobs.cron").read_bytes()
    assert oct(installed.stat().st_mode & 0o777) == "0o644"
    generated = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "jobs", "cron"], cwd=REPO, capture_output=True,
        text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert generated.stdout.encode() == installed.read_bytes()

    # Kubernetes: one CronJob per registered job, with the registry's fields
    registry = load_registry(REPO / "ops" / "task_registry.yml")
    docs = [d for d in yaml.safe_load_all((work / "gatekeeper-cronjobs.yaml").read_text()) if d]
    assert [d["metadata"]["labels"]["gatekeeper/job"] for d in docs] == list(registry.jobs)
    for doc in docs:
        job = registry.jobs[doc["metadata"]["labels"]["gatekeeper/job"]]
        assert (doc["apiVersion"], doc["kind"]) == ("batch/v1", "CronJob")
        spec = doc["spec"]
        assert (spec["schedule"], spec["timeZone"]) == (job.schedule, job.timezone)
        assert spec["concurrencyPolicy"] == ("Forbid" if job.concurrency == "forbid" else "Allow")
        assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == job.timeout_s
        (container,) = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        assert container["command"][-1] == job.id
        assert container["image"] == registry.activation.image

    # what the runs wrote: the day's risk report, the backlog, the run log
    assert (work / "ops/reports/risk/2026-03-02.json").is_file()
    assert (work / "ops/reports/risk/2026-03-02.md").is_file()
    backlog = (work / "ops/backlog/items.jsonl").read_text().splitlines()
    assert {json.loads(line)["kind"] for line in backlog} == {
        "overdue_followup",
        "recurring_signature",
    }
    runs = [json.loads(line) for line in (work / "ops/incidents/job_runs.jsonl").read_text()
            .splitlines()]  # fmt: skip
    assert [(r["job"], r["outcome"]) for r in runs] == [
        ("daily_risk_digest", "running"),
        ("daily_risk_digest", "ok"),
        ("weekly_backlog_generate", "running"),
        ("weekly_backlog_generate", "ok"),
    ]  # fmt: skip; the locked run and the dry runs are not logged


def test_every_alerts_example_runs_in_order(tmp_path: Path, pg_url: str) -> None:
    work = checkout(tmp_path)
    blocks = examples("alerts.md")
    assert len(blocks) >= 5
    for block, expected in blocks:
        run_block(work, block, expected, database_url=pg_url)
    inbox = [json.loads(x) for x in (work / "ops/incidents/alerts.jsonl").read_text().splitlines()]
    assert sum(1 for r in inbox if r["state"] == "processed") == 3
    installed = tmp_path / "etc" / "cron.d" / "daarion-alert-triage"
    assert installed.read_bytes() == (REPO / "ops" / "cron" / "alert_triage.cron").read_bytes()

    import psycopg

    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT state, count(*) FROM alerts GROUP BY 1").fetchall()
        incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()
    assert rows == [("processed", 3)] and incidents == (2,)


@pytest.mark.parametrize("doc", ["jobs.md", "alerts.md"])
def test_the_docs_name_no_internal_files(doc: str) -> None:
    text = (REPO / "docs" / doc).read_text(encoding="utf-8")
    assert "SPEC" not in text and "../shared" not in text
