"""--no-strict on a strict env is break-glass; --gate subsets in strict envs are partial."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
import pytest
import xmlschema

from tests.conftest import CliRun
from tests.gate import factories
from tests.gate.conftest import SCHEMAS, CheckRun, PolicyWriter
from tests.store.conftest import migrated_pg_url, pg_schema, pg_server, pg_url  # noqa: F401

POLICY = """\
version: 1
environments:
  prod: {strict: true}
  dev: {strict: false}
gates:
  followup_watch: {type: followup_watch}
  postmortem_required: {type: postmortem_required}
"""


@pytest.mark.parametrize("agent", [None, "monitor", "someone"])
def test_no_strict_on_a_strict_env_without_an_override_is_refused(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, agent: str | None
) -> None:
    factories.write(store_dir, [factories.incident()])
    write_policy(POLICY)
    args = ["--env", "prod", "--service", "checkout", "--no-strict"]
    refused = check(*args, agent=agent)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert "--no-strict on strict env 'prod' is break-glass" in refused.stderr
    if agent is not None:
        refused = check(*args, "--override", "hotfix", agent=agent)
        assert (refused.exit_code, refused.stdout) == (2, "")
        assert "override refused" in refused.stderr
    assert factories.events_of_type(store_dir, "gate_override") == []


def test_no_strict_on_a_lenient_env_needs_nothing(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident(env="dev")])
    write_policy(POLICY)
    assert check("--env", "dev", "--service", "checkout", "--no-strict").exit_code == 0
    assert not (store_dir / "gate_overrides.jsonl").exists()


def test_no_strict_with_an_override_is_recorded_on_every_incident_with_a_finding(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    active = factories.incident()
    factories.write(store_dir, [active])
    write_policy(POLICY)
    result = check(
        "--env", "prod", "--service", "checkout", "--no-strict", "--override", "sev1 fix",
        "--format", "json", agent="helion",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    override = json.loads(result.stdout)["override"]
    assert (override["no_strict"], override["incidents"]) == (True, [active.id])
    (event,) = factories.events_of_type(store_dir, "gate_override")
    assert event.incident_id == active.id
    assert event.meta["no_strict"] is True and event.meta["gates"] == ["followup_watch"]
    assert event.actor == "helion"


def test_no_strict_without_findings_goes_to_the_gate_overrides_log(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident(service="search")])
    write_policy(POLICY)
    result = check(
        "--env", "prod", "--service", "checkout", "--no-strict", "--override", "quiet deploy",
        agent="sofiia",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    log = store_dir / "gate_overrides.jsonl"
    assert f"recorded: gate_overrides log {log}" in result.stdout
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["agent"] == "sofiia" and entry["reason"] == "quiet deploy"
    assert (entry["env"], entry["services"], entry["no_strict"]) == ("prod", ["checkout"], True)
    assert factories.events_of_type(store_dir, "gate_override") == []


def test_no_strict_without_findings_goes_to_the_postgres_table(
    run_cli: CliRun,
    write_policy: PolicyWriter,
    migrated_pg_url: str,  # noqa: F811
) -> None:
    policy = write_policy(POLICY)
    result = run_cli(
        "--policy", str(policy), "--backend", "postgres", "--database-url", migrated_pg_url,
        "--agent", "helion", "check", "--env", "prod", "--service", "checkout", "--no-strict",
        "--override", "quiet deploy", "--now", "2026-03-02T12:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "recorded: gate_overrides table at postgres" in result.stdout
    with psycopg.connect(migrated_pg_url) as conn:
        rows = conn.execute("SELECT agent, reason, env, services, no_strict FROM gate_overrides")
        assert rows.fetchall() == [("helion", "quiet deploy", "prod", ["checkout"], True)]


def test_a_gate_subset_in_a_strict_env_is_partial_everywhere(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, tmp_path: Path
) -> None:
    factories.write(store_dir, [factories.incident(service="search")])
    write_policy(POLICY)
    junit = tmp_path / "gate.xml"
    args = ["--env", "prod", "--service", "checkout", "--gate", "followup_watch"]
    result = check(*args, "--format", "json", "--junit", str(junit))
    report = json.loads(result.stdout)
    assert report["partial"] is True
    assert report["not_run"] == [{"gate": "postmortem_required", "service": "checkout"}]
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["postmortem_required"].find("skipped") is not None
    assert cases["followup_watch"].find("skipped") is None
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert props["partial"] == "true"
    for xsd in ("junit-jenkins-10.xsd", "junit-windyroad.xsd"):
        xmlschema.XMLSchema(str(SCHEMAS / xsd)).validate(junit.read_text())
    text = check(*args).stdout
    assert "PARTIAL (--gate): not run postmortem_required/checkout" in text.splitlines()[0]
    markdown = check(*args, "--format", "markdown").stdout
    assert "PARTIAL (--gate)" in markdown


def test_a_gate_subset_in_a_lenient_env_is_not_partial(
    check: CheckRun, write_policy: PolicyWriter
) -> None:
    write_policy(POLICY)
    result = check("--env", "dev", "--service", "x", "--gate", "followup_watch", "--format", "json")
    assert json.loads(result.stdout)["partial"] is False


def test_a_break_glass_that_cannot_be_recorded_never_passes(
    run_cli: CliRun, write_policy: PolicyWriter, tmp_path: Path
) -> None:
    policy = write_policy(
        "version: 1\nenvironments: {prod: {strict: true}}\n"
        "gates: {freeze: {type: freeze_window, windows: [{name: w, weekly: {days: [sat]}}]}}\n"
    )
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    result = run_cli(
        "--policy", str(policy), "--store-dir", str(not_a_dir), "--agent", "sofiia",
        "check", "--env", "prod", "--service", "web", "--no-strict", "--override", "why",
        "--now", "2026-03-02T12:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 3, result.stdout
    assert result.stderr.startswith("gatekeeper: error: break-glass could not be recorded: ")
