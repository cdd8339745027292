"""End to end, as a new user would: none of these may answer exit 0 in strict prod.

Each test is one scenario of "fail closed everywhere", run through the CLI with
the shipped policy, on JSONL and PostgreSQL where the scenario applies. The
message must name the file:line, the environment or the service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, CliResult, CliRun
from tests.store.conftest import (  # noqa: F401 - fixtures
    migrated_pg_url,
    pg_schema,
    pg_server,
    pg_url,
    proxied_url,
    proxy,
)
from tests.store.tcp_proxy import TcpProxy

NOW = "2026-03-04T10:00:00Z"  # a Wednesday: no shipped freeze window applies
DEAD = "postgresql://postgres@127.0.0.1:1/test"

Gate = Callable[..., CliResult]


@pytest.fixture
def gate(run_cli: CliRun) -> Gate:
    """``gatekeeper --policy policies [GLOBALS] check ARGS --now NOW`` (shipped policy)."""

    def run(*args: str, globals_: tuple[str, ...] = ()) -> CliResult:
        return run_cli("--policy", str(REPO / "policies"), *globals_, "check", *args, "--now", NOW)

    return run


def create(run_cli: CliRun, *globals_: str, service: str, severity: str = "P0") -> str:
    result = run_cli(
        *globals_, "--agent", "sofiia", "incident", "create", "--service", service,
        "--env", "prod", "--severity", severity, "--title", f"{service} down",
        "--started-at", "2026-03-03T10:00:00Z", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["id"])


def assert_fails_closed(result: CliResult) -> None:
    assert result.exit_code != 0, result.stdout
    assert "PASS" not in result.stdout.split("\n", 1)[0]


# -- one corrupt record hides an active P0 --------------------------------------------


def test_a_corrupt_incident_line_hiding_a_p0_is_exit_3_naming_the_line(
    run_cli: CliRun, gate: Gate, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    create(run_cli, "--store-dir", str(store), service="search", severity="P3")
    create(run_cli, "--store-dir", str(store), service="billing")
    path = store / "incidents.jsonl"
    text = path.read_text()
    assert text.count('"severity":"P0"') == 1
    path.write_text(text.replace('"severity":"P0"', '"severity":"P0 "'))
    line = text.splitlines().index(next(x for x in text.splitlines() if '"P0"' in x)) + 1
    for fmt in ("text", "json", "junit", "markdown", "github"):
        result = gate("--env", "prod", "--service", "billing", "--format", fmt,
                      globals_=("--store-dir", str(store)))  # fmt: skip
        assert result.exit_code == 3, (fmt, result.stdout)
        assert f"incidents.jsonl:{line}" in result.stdout, fmt
    text_report = gate(
        "--env", "prod", "--service", "billing", globals_=("--store-dir", str(store))
    )
    assert "gatekeeper store verify" in text_report.stdout
    assert "gatekeeper store compact" in text_report.stdout


@pytest.mark.parametrize(
    "damage",
    [
        "torn",
        "type-quote",  # '"followup': the line no longer holds "followup", but is still reported
    ],
)
def test_a_corrupt_followup_event_is_exit_3_naming_the_line(
    run_cli: CliRun, gate: Gate, tmp_path: Path, damage: str
) -> None:
    store = tmp_path / "store"
    incident = create(run_cli, "--store-dir", str(store), service="billing", severity="P2")
    added = run_cli(
        "--store-dir", str(store), "--agent", "sofiia", "incident", "followup", "add", incident,
        "--title", "Fix the retry storm", "--owner", "ana", "--due", "2026-03-01",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    events = store / "events.jsonl"
    lines = events.read_text().splitlines(keepends=True)
    number = next(i for i, x in enumerate(lines, 1) if '"followup"' in x)
    if damage == "torn":
        lines[number - 1] = lines[number - 1].rstrip()[:-3] + "\n"
    else:
        lines[number - 1] = lines[number - 1].replace('"followup"', '"followup', 1)
    events.write_text("".join(lines))
    result = gate("--env", "prod", "--service", "billing", globals_=("--store-dir", str(store)))
    assert result.exit_code == 3, result.stdout
    assert f"events.jsonl:{number}" in result.stdout


# -- auto mode with PostgreSQL down ------------------------------------------------------


def test_auto_mode_with_postgres_down_never_passes_a_p0_only_postgres_holds(
    run_cli: CliRun,
    gate: Gate,
    tmp_path: Path,
    proxy: TcpProxy,  # noqa: F811
    proxied_url: str,  # noqa: F811
) -> None:
    store = tmp_path / "fallback"
    store.mkdir()  # an empty JSONL directory
    globals_ = ("--backend", "auto", "--database-url", proxied_url, "--store-dir", str(store))
    create(run_cli, "--backend", "postgres", "--database-url", proxied_url, service="web")
    healthy = gate("--env", "prod", "--service", "web", globals_=globals_)
    assert healthy.exit_code == 1, healthy.stdout  # the P0 blocks while Postgres answers
    proxy.cut()
    result = gate("--env", "prod", "--service", "web", "--format", "json", globals_=globals_)
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["store"]["degraded"] is True
    assert "warning: postgres unavailable" in result.stderr
    assert all(r["decision"] == "error" for r in report["results"] if r["type"] != "freeze_window")


def test_a_connection_lost_during_the_gate_read_fails_closed(
    run_cli: CliRun,
    gate: Gate,
    tmp_path: Path,
    proxy: TcpProxy,  # noqa: F811
    proxied_url: str,  # noqa: F811
) -> None:
    store = tmp_path / "fallback"
    create(run_cli, "--backend", "postgres", "--database-url", proxied_url, service="web")
    proxy.cut_when_sent(b"REPEATABLE READ")  # the gate's read-only snapshot
    result = gate(
        "--env", "prod", "--service", "web", "--format", "json",
        globals_=("--backend", "auto", "--database-url", proxied_url, "--store-dir", str(store)),
    )  # fmt: skip
    assert result.exit_code == 3, result.stdout
    assert json.loads(result.stdout)["store"]["degraded"] is True


def test_postgres_down_without_auto_is_exit_3(gate: Gate) -> None:
    result = gate("--env", "prod", "--service", "web",
                  globals_=("--backend", "postgres", "--database-url", DEAD))  # fmt: skip
    assert result.exit_code == 3
    assert "127.0.0.1:1" in result.stdout


# -- an empty or unknown store is not an empty record ------------------------------------


def test_the_shipped_empty_store_directory_is_not_a_store(gate: Gate, tmp_path: Path) -> None:
    store = tmp_path / "ops" / "incidents"
    store.mkdir(parents=True)
    (store / ".gitkeep").write_text("")
    result = gate("--env", "prod", "--service", "web", globals_=("--store-dir", str(store)))
    assert result.exit_code == 3, result.stdout
    assert "store init" in result.stdout


def test_the_parent_of_the_real_store_is_not_a_store(
    run_cli: CliRun, gate: Gate, tmp_path: Path
) -> None:
    create(run_cli, "--store-dir", str(tmp_path / "store"), service="web", severity="P1")
    result = gate("--env", "prod", "--service", "web", globals_=("--store-dir", str(tmp_path)))
    assert result.exit_code == 3, result.stdout


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_store_file_shorter_than_its_high_water_mark_is_damage(
    run_cli: CliRun, gate: Gate, tmp_path: Path, damage: str
) -> None:
    store = tmp_path / "store"
    create(run_cli, "--store-dir", str(store), service="search", severity="P3")
    create(run_cli, "--store-dir", str(store), service="web", severity="P1")
    path = store / "incidents.jsonl"
    if damage == "deleted":
        path.unlink()
    else:
        path.write_text(path.read_text().splitlines(keepends=True)[0])  # every line still parses
    result = gate("--env", "prod", "--service", "web", globals_=("--store-dir", str(store)))
    assert result.exit_code == 3, result.stdout
    assert "incidents.jsonl" in result.stdout


def test_database_url_with_the_jsonl_backend_warns_and_an_empty_store_fails_closed(
    run_cli: CliRun,
    gate: Gate,
    tmp_path: Path,
    migrated_pg_url: str,  # noqa: F811
) -> None:
    create(run_cli, "--backend", "postgres", "--database-url", migrated_pg_url, service="web")
    result = run_cli(
        "--policy", str(REPO / "policies"), "--store-dir", str(tmp_path / "never-written"),
        "check", "--env", "prod", "--service", "web", "--now", NOW,
        env={"DATABASE_URL": migrated_pg_url},
    )  # fmt: skip
    assert result.exit_code == 3, result.stdout
    assert "DATABASE_URL" in result.stderr


def test_a_missing_store_directory_fails_closed_today(gate: Gate, tmp_path: Path) -> None:
    result = gate("--env", "prod", "--service", "web",
                  globals_=("--store-dir", str(tmp_path / "missing")))  # fmt: skip
    assert_fails_closed(result)


# -- a typo -------------------------------------------------------------------------------


def test_a_misspelt_environment_is_exit_2_listing_the_known_ones(gate: Gate) -> None:
    result = gate("--env", "prdo", "--service", "web")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "'prdo'" in result.stderr and "dev, prod, staging" in result.stderr


def test_a_policy_covering_no_requested_service_is_exit_2_naming_it(
    run_cli: CliRun, tmp_path: Path
) -> None:
    policy = tmp_path / "gates.yml"
    policy.write_text(
        "version: 1\nenvironments: {prod: {strict: true}}\n"
        "gates: {fw: {type: followup_watch, services: [checkout]}}\n"
    )
    result = run_cli("--policy", str(policy), "--store-dir", str(tmp_path), "check",
                     "--env", "prod", "--service", "chekout", "--now", NOW)  # fmt: skip
    assert (result.exit_code, result.stdout) == (2, "")
    assert "'chekout'" in result.stderr


# -- --no-strict --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["jsonl", "postgres"])
def test_no_strict_in_prod_is_refused_without_an_override_and_recorded_with_one(
    run_cli: CliRun, gate: Gate, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    store = tmp_path / "store"
    globals_: tuple[str, ...] = ("--store-dir", str(store))
    if backend == "postgres":
        globals_ = ("--backend", "postgres", "--database-url",
                    request.getfixturevalue("migrated_pg_url"))  # fmt: skip
    incident = create(run_cli, *globals_, service="web")
    refused = gate("--env", "prod", "--service", "web", "--no-strict", globals_=globals_)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert "--override" in refused.stderr
    allowed = gate("--env", "prod", "--service", "web", "--no-strict", "--override", "hotfix",
                   globals_=(*globals_, "--agent", "helion"))  # fmt: skip
    assert allowed.exit_code == 0, allowed.stderr
    events = run_cli(*globals_, "incident", "get", incident, "--format", "json")
    types = [e["type"] for e in json.loads(events.stdout)["events"]]
    assert "gate_override" in types


# -- an unwritable --junit --------------------------------------------------------------


def test_an_unwritable_junit_path_is_exit_2_before_any_decision(
    run_cli: CliRun, gate: Gate, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    create(run_cli, "--store-dir", str(store), service="web")
    junit = tmp_path / "no-such-dir" / "gate.xml"
    result = gate("--env", "prod", "--service", "web", "--junit", str(junit),
                  globals_=("--store-dir", str(store)))  # fmt: skip
    assert (result.exit_code, result.stdout) == (2, "")
    assert str(junit) in result.stderr


def test_a_block_whose_junit_write_fails_stays_exit_1(
    run_cli: CliRun, gate: Gate, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    create(run_cli, "--store-dir", str(store), service="web")
    result = gate("--env", "prod", "--service", "web", "--junit", "/dev/full",
                  globals_=("--store-dir", str(store)))  # fmt: skip
    assert result.exit_code == 1
    assert re.match(r"gatekeeper: BLOCK \(exit 1\)", result.stdout)
