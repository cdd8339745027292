"""The registry, the generated cron file, and the drift check between them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, CliRun
from tests.ops.conftest import SHIPPED_CRON, SHIPPED_REGISTRY


def test_the_shipped_files_are_in_sync(run_cli: CliRun) -> None:
    result = run_cli("jobs", "check-sync", "--registry", str(SHIPPED_REGISTRY),
                     "--cron", str(SHIPPED_CRON))  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("in sync: 5 jobs")


def test_jobs_cron_regenerates_the_shipped_file(
    run_cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    result = run_cli("jobs", "cron")
    assert result.exit_code == 0
    assert result.stdout == SHIPPED_CRON.read_text()


def test_shipped_schedules_follow_the_runbook() -> None:
    text = SHIPPED_CRON.read_text()
    for line in ("0 * * * * ", "0 9 * * * ", "0 6 * * 1 ", "20 6 * * 1 ", "0 8 * * 1 "):
        assert any(row.startswith(line) for row in text.splitlines()), line
    assert "CRON_TZ=UTC" in text
    triage = (REPO / "ops" / "cron" / "alert_triage.cron").read_text()
    assert "*/5 * * * * root cd /opt/daarion && python3 ops/scripts/alert_triage_loop.py" in triage


def test_kubernetes_manifests(run_cli: CliRun) -> None:
    import yaml

    result = run_cli("jobs", "cron", "--registry", str(SHIPPED_REGISTRY), "--target", "kubernetes")
    assert result.exit_code == 0
    docs = list(yaml.safe_load_all(result.stdout))
    assert len(docs) == 5
    first = docs[0]
    assert first["kind"] == "CronJob" and first["spec"]["concurrencyPolicy"] == "Forbid"
    assert first["spec"]["timeZone"] == "UTC"
    container = first["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][1:] == ["ops/scripts/run_governance_job.py", "hourly_risk_snapshot"]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("61 * * * *", "Bad minute"),
        ("0 0 30 2 *", "Bad day-of-month"),
        ("0 0 * * * *", "has 6 fields"),
        ("@hourly", "has 1 field"),
    ],
)
def test_invalid_schedules_are_exit_2_with_file_and_line(
    run_cli: CliRun, registry_file: Path, schedule: str, message: str
) -> None:
    text = registry_file.read_text().replace('schedule: "0 9 * * *"', f'schedule: "{schedule}"')
    registry_file.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if schedule in row)
    result = run_cli("jobs", "list", "--registry", str(registry_file))
    assert result.exit_code == 2
    assert message in result.stderr
    assert f"({registry_file}:{line}, jobs.1.schedule)" in result.stderr
    assert result.stderr.count("\n") == 1


def test_cron_file_with_an_invalid_schedule_is_exit_2(run_cli: CliRun, tmp_path: Path) -> None:
    cron = tmp_path / "jobs.cron"
    text = SHIPPED_CRON.read_text().replace("0 9 * * * root", "0 0 30 2 * root")
    cron.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "30 2" in row)
    result = run_cli("jobs", "check-sync", "--registry", str(SHIPPED_REGISTRY), "--cron", str(cron))
    assert result.exit_code == 2
    assert f"({cron}:{line})" in result.stderr


def test_registry_errors_name_file_line_and_field(run_cli: CliRun, registry_file: Path) -> None:
    text = registry_file.read_text().replace(
        "    owner: platform\n", "    owner: platform\n    colour: red\n", 1
    )
    registry_file.write_text(text)
    result = run_cli("jobs", "list", "--registry", str(registry_file))
    assert result.exit_code == 2
    line = text.splitlines().index("    colour: red") + 1
    assert f"unknown field ({registry_file}:{line}, jobs.2.colour)" in result.stderr


def test_a_duplicate_job_id_is_refused(run_cli: CliRun, registry_file: Path) -> None:
    text = registry_file.read_text().replace("id: weekly_incident_digest", "id: daily_risk_digest")
    registry_file.write_text(text)
    result = run_cli("jobs", "list", "--registry", str(registry_file))
    assert result.exit_code == 2 and "already declared at line" in result.stderr


def test_registry_from_the_environment(run_cli: CliRun, registry_file: Path) -> None:
    result = run_cli(
        "jobs", "list", "--format", "json", env={"GATEKEEPER_REGISTRY": str(registry_file)}
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["registry"] == str(registry_file)


RUNNER = "root cd /opt/daarion && python3 ops/scripts/run_governance_job.py"
DAILY = f"0 9 * * * {RUNNER} daily_risk_digest # gatekeeper:daily_risk_digest"

# (name, edit of the shipped cron text, expected drift kinds)
KYIV = ("CRON_TZ=UTC", "CRON_TZ=Europe/Kyiv"), ("TZ=UTC", "TZ=Europe/Kyiv")
NO_ZONE = ("CRON_TZ=UTC\n", ""), ("TZ=UTC\n", "")
UNKNOWN = f"0 1 * * * {RUNNER} nightly # gatekeeper:nightly\n"
NOT_RUNNER = "0 9 * * * root /usr/bin/backup.sh # gatekeeper:daily_risk_digest"
OTHER_JOB = DAILY.replace("py daily_risk_digest", "py weekly_incident_digest")
DRY = DAILY.replace("daily_risk_digest #", "daily_risk_digest --dry-run #")


def _swap(*pairs: tuple[str, str]) -> object:
    def edit(text: str) -> str:
        for old, new in pairs:
            text = text.replace(old, new)
        return text

    return edit


# (name, edit of the shipped cron text, expected drift kinds)
DRIFT_TABLE = [
    ("job missing", _swap((DAILY + "\n", "")), ["missing"]),
    ("line commented out", _swap((DAILY, "# " + DAILY)), ["disabled"]),
    ("unknown job", lambda t: t + UNKNOWN, ["unknown_job"]),
    ("schedule", _swap((DAILY, DAILY.replace("0 9 ", "0 10 "))), ["schedule"]),
    ("timezone", _swap(*KYIV), ["timezone"] * 5),
    ("no time zone at all", _swap(*NO_ZONE), ["timezone"] * 5),
    ("not the runner", _swap((DAILY, NOT_RUNNER)), ["not_runner"]),
    ("marker mismatch", _swap((DAILY, OTHER_JOB)), ["marker_mismatch"]),
    ("duplicate", lambda t: t + DAILY + "\n", ["duplicate"]),
    ("unmarked", _swap((DAILY, DAILY.split(" # ")[0])), ["unmarked"]),
    ("dry run only", _swap((DAILY, DRY)), ["dry_run"]),
    ("foreign line", lambda t: t + "15 3 * * * root /usr/local/bin/rotate-logs\n", ["foreign"]),
]


@pytest.mark.parametrize(("name", "edit", "kinds"), DRIFT_TABLE, ids=[r[0] for r in DRIFT_TABLE])
def test_drift_table(
    run_cli: CliRun, tmp_path: Path, name: str, edit: object, kinds: list[str]
) -> None:
    cron = tmp_path / "jobs.cron"
    cron.write_text(edit(SHIPPED_CRON.read_text()))  # type: ignore[operator]
    result = run_cli("jobs", "check-sync", "--registry", str(SHIPPED_REGISTRY), "--cron", str(cron),
                     "--format", "json")  # fmt: skip
    assert result.exit_code == 1, name
    drift = json.loads(result.stdout)["drift"]
    assert [d["kind"] for d in drift] == kinds
    assert all(d["message"] for d in drift)
    text = run_cli("jobs", "check-sync", "--registry", str(SHIPPED_REGISTRY), "--cron", str(cron))
    assert text.stdout.startswith(f"{kinds[0]}: ")
    assert "difference" in text.stderr
