"""bench/http.py runs: a bounded load from a second process against a live server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import generate
from bench import http as bench_http


def test_the_http_bench_runs_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    assert generate.main(["--incidents", "40", "--out", str(store)]) == 0
    argv = ["--store-dir", str(store), "--workers", "1", "--requests", "15"]
    assert bench_http.main([*argv, "--seconds", "10", "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    for scenario in ("incident_get", "incident_list", "/v1/check"):
        line = next(line for line in out.splitlines() if f" {scenario} " in line)
        assert re.search(r"\b15 ok\s+0 err", line), line
    assert "per-decision ratio" in out and "latency ratio" in out
    assert "one `gatekeeper check` process" in out
