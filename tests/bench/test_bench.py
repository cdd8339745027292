"""The benchmark tools work: deterministic stores, the Postgres load, the documented commands.

The benchmarks themselves are too slow for the test command; these tests keep
their parts honest so that ``python -m bench.run`` runs when someone needs it.
"""

from __future__ import annotations

import os
import re
import shlex
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench import action as action_bench
from bench import generate, pg, run
from bench.generate import Generator
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.jsonl_index import snapshot
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.conftest import REPO

FILES = ("incidents.jsonl", "events.jsonl", "artifacts.jsonl")
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _generated(directory: Path, count: int = 60) -> Path:
    assert generate.main(["--incidents", str(count), "--out", str(directory)]) == 0
    return directory


def test_a_generated_store_is_deterministic_valid_indexed_and_realistic(tmp_path: Path) -> None:
    first, second = _generated(tmp_path / "a"), _generated(tmp_path / "b")
    for name in FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    store = JsonlIncidentStore(first)
    assert store.verify() == []
    with snapshot(first) as index:
        assert index is not None  # written through store.write, so indexed as it grew
    info = store.info()
    assert info["incidents"] == 60
    assert info["files"]["incidents.jsonl"]["lines"] > 60  # resolved ones have two versions
    assert 8 * 60 <= info["events"] <= 14 * 60
    assert info["artifacts"] > 0
    types = {e.type for e in store.iter_events()}
    assert {"followup", "status_change", "note"} <= types


def test_severities_lean_towards_p2_and_p3() -> None:
    gen = Generator(seed=1)
    severities = [gen.incident()[1].severity for _ in range(400)]
    assert severities.count("P2") + severities.count("P3") > 0.6 * len(severities)


def test_generate_keeps_an_existing_store_only_when_asked(tmp_path: Path) -> None:
    directory = _generated(tmp_path / "store", 10)
    assert generate.main(["--incidents", "10", "--out", str(directory)]) == 1
    with (directory / "events.jsonl").open("ab") as handle:  # the index is stale now
        handle.write(b"\n")
    assert generate.main(["--incidents", "10", "--out", str(directory), "--reuse"]) == 0
    with snapshot(directory) as index:
        assert index is not None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql://u@h/db?options=-csearch_path%3Dbench_1k"),
        ("postgresql://u@h/db?sslmode=off", "postgresql://u@h/db?sslmode=off&options="),
        ("host=h dbname=db", "host=h dbname=db options=-csearch_path=bench_1k"),
    ],
)
def test_schema_url_points_the_search_path_at_the_schema(url: str, expected: str) -> None:
    assert pg.schema_url(url, "bench_1k").startswith(expected)


@pytest.fixture
def bench_schema() -> Iterator[tuple[str, str]]:
    url = os.environ.get("GATEKEEPER_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL
    schema = f"gk_bench_{uuid.uuid4().hex[:12]}"
    yield url, schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


@pytest.mark.postgres
def test_ensure_loaded_loads_once_then_leaves_the_schema_alone(
    tmp_path: Path, bench_schema: tuple[str, str]
) -> None:
    url, schema = bench_schema
    directory = _generated(tmp_path / "store", 40)
    assert pg.ensure_loaded(directory, url, schema) is True
    assert pg.ensure_loaded(directory, url, schema) is False
    store = PostgresIncidentStore.open(pg.schema_url(url, schema))
    try:
        assert pg.jsonl_counts(directory) == {
            k: store.info()[k] for k in ("incidents", "events", "artifacts")
        }
        jsonl = JsonlIncidentStore(directory)
        assert list(store.iter_incidents()) == list(jsonl.iter_incidents())
    finally:
        store.close()


def test_scan_only_copy_links_the_files_without_the_index(tmp_path: Path) -> None:
    directory = _generated(tmp_path / "store")
    copy = run.scan_only_copy(directory)
    assert sorted(p.name for p in copy.iterdir()) == sorted(FILES)
    assert all((copy / n).samefile(directory / n) for n in FILES)
    assert run.scan_only_copy(directory) == copy  # again: nothing to do


def test_the_tables_print_medians_ratios_and_growth(capsys: pytest.CaptureFixture[str]) -> None:
    floor = run.Timing("baseline: import floor", [0.1, 0.1, 0.1], 20_480)
    parse = run.Timing("baseline: orjson parse of every line 1k", [0.5], 10_240)
    check = run.Timing("check 1k (jsonl)", [0.2, 0.3, 0.25], 40_960)
    run.print_table([run.Row(floor, floor), run.Row(check, floor, parse)])
    run.print_growth([run.Row(parse, floor), run.Row(check, floor, parse)], ["1k"], ["jsonl"])
    out = capsys.readouterr().out
    assert re.search(r"check 1k \(jsonl\)\s+0\.250\s+0\.200\s+0\.300\s+40\.0\s+2\.50\s+0\.50", out)
    assert re.search(r"jsonl\s+0\.250\n", out)


def test_every_command_in_docs_performance_parses() -> None:
    text = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(?:\$ )?python -m (bench\.\w+)(.*)$", text, flags=re.M)
    assert {module for module, _ in commands} >= {"bench.run", "bench.generate"}
    from bench import intel

    parsers = {"bench.run": run.build_parser(), "bench.generate": generate.build_parser()}
    parsers["bench.intel"] = intel.build_parser()
    for module, args in commands:
        if module in parsers:
            parsers[module].parse_args(shlex.split(args.split("#")[0]))


def test_start_up_ratios_are_taken_round_by_round() -> None:
    """A machine that slows down mid-run moves both sides of each ratio, not the median."""
    from bench import startup

    slow = 3.0  # the second round runs three times slower, on every command alike
    base = {"python -c pass": 0.01, "import floor (pydantic, yaml, click)": 0.1}
    base |= {"floor + one pydantic model": 0.125, "gatekeeper check": 0.15}
    results = [base, {k: v * slow for k, v in base.items()}, base]
    table = startup.table(results, list(base))
    row = next(line for line in table.splitlines() if line.startswith("| gatekeeper check"))
    assert row.split(" | ")[2:] == ["15.00", "1.50", "1.20 |"]


def test_the_start_up_measurements_clear_the_bytecode_switch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench import startup

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    assert "PYTHONDONTWRITEBYTECODE" not in startup._env()


def test_the_rego_peer_answers_like_the_gate(run_cli: Any) -> None:
    pytest.importorskip("regopy", reason="the bench extra (pip install .[bench])")
    import subprocess
    import sys

    from bench.startup import DEMO, NOW

    for service in ("checkout", "search", "payments"):
        peer = subprocess.run(
            [sys.executable, "-m", "bench.peers.rego_check", str(DEMO), service, "prod", NOW],
            cwd=REPO,
        )
        gate = run_cli(
            "--store-dir", str(DEMO), "--policy", str(REPO / "policies"), "--now", NOW,
            "check", "--env", "prod", "--service", service,
        )  # fmt: skip
        assert peer.returncode == gate.exit_code, service


def test_the_intelligence_benchmark_runs_on_a_tiny_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import intel

    directory = _generated(tmp_path / "store", 40)
    assert intel.main(["--store", str(directory), "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("digest weekly", "recurrence", "risk", "correlate", "postmortem"):
        row = next(line for line in out.splitlines() if line.startswith(name))
        assert re.search(r"\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d +\d+\.\d{2}$", row), row
    assert re.search(r"^baseline: orjson parse.* +\d+\.\d$", out, flags=re.M)


def test_the_intelligence_ratios_are_taken_round_by_round() -> None:
    from bench import intel

    baseline = intel.Series(intel.BASELINE, [1.0, 3.0, 1.0])
    digest = intel.Series("digest weekly", [2.0, 6.0, 2.0], ratios=[2.0, 2.0, 2.0])
    out = intel.table("10k", [baseline, digest])
    row = next(line for line in out.splitlines() if line.startswith("digest weekly"))
    assert row.split()[-1] == "2.00" and row.split()[2] == "2.000"


def test_bench_action_knows_every_step_of_action_yml_and_refuses_what_it_does_not(
    tmp_path: Path,
) -> None:
    """bench.action times action.yml's own steps; a change it cannot follow stops it."""
    job, steps = action_bench.new_job(tmp_path, tmp_path / "cache")
    assert [s.get("id") for s in steps] == ["python", "venv", "restore", "install", None, "gate"]
    assert job.resolve("${{ inputs.env }} ${{ runner.temp }}") == f"prod {job.runner_temp}"
    assert job.resolve("${{ steps.venv.outputs.key }}") == ""  # unset outputs, as GitHub
    job.outputs["restore"] = {"cache-hit": "true"}
    assert not job.condition("steps.restore.outputs.cache-hit != 'true'")
    unknown: list[dict[str, Any]] = [
        {"run": "echo ${{ github.sha }}"},
        {"env": {"X": "${{ hashFiles('x') }}"}, "run": "true"},
        {"uses": "actions/cache@v5", "with": {"path": "x", "key": "y"}},
        {"if": "always()", "run": "true"},
        {"run": "true", "env": {"X": "${{ inputs.no-such-input }}"}},
    ]
    for step in unknown:
        with pytest.raises(action_bench.Unknown):
            action_bench.check(job, step)


def test_the_read_path_prototype_reads_the_demo_store_like_the_models(tmp_path: Path) -> None:
    """bench.readpath's generated Structs read the demo store's records as the models do."""
    msgspec = pytest.importorskip("msgspec", reason="the bench extra (pip install .[bench])")
    import importlib.util
    import json
    import sys

    from bench import readpath
    from bench.startup import DEMO
    from gatekeeper import models

    path = readpath.write_generated(tmp_path / "gatekeeper_structs.py")
    spec = importlib.util.spec_from_file_location("gatekeeper_structs", path)
    assert spec is not None and spec.loader is not None
    generated = importlib.util.module_from_spec(spec)
    sys.modules["gatekeeper_structs"] = generated
    try:
        spec.loader.exec_module(generated)
        for name, model_name in readpath.FILES.items():
            for line in (DEMO / name).read_bytes().splitlines():
                ours = getattr(models, model_name).model_validate_json(line)
                theirs = msgspec.json.decode(line, type=getattr(generated, model_name))
                assert ours.model_dump() == msgspec.structs.asdict(theirs)
        # pydantic's patterns (Rust regex) refuse a value with a final newline; so do the Structs
        line = (DEMO / "events.jsonl").read_bytes().splitlines()[0]
        record = json.loads(line)
        bad = json.dumps({**record, "id": record["id"] + "\n"}).encode()
        with pytest.raises(ValueError):
            models.Event.model_validate_json(bad)
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(bad, type=generated.Event)
    finally:
        del sys.modules["gatekeeper_structs"]
