"""Alert triage benchmark: N alerts into the inbox, then one ``alerts triage`` process.

    python -m bench.alerts                 # 10k alerts, JSONL and Postgres
    python -m bench.alerts --count 2000 --backends jsonl

The baseline, measured in the same run, is a plain Python loop appending the
same records (one alert event and one processed mark per alert) to JSONL files
with one fsync per 1000 records: the floor of "write every alert once". The
goal is a 10k-alert triage on JSONL within 10 s. On Postgres the run uses a
schema of its own (dropped afterwards) and the inbox is the ``alerts`` table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.pg import schema_url

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-03-02T12:00:00Z"
SERVICES = [f"svc-{i:02d}" for i in range(20)]


def generate(count: int, seed: int = 7, fingerprints: int = 200) -> list[dict[str, object]]:
    """``count`` firing alerts over ``fingerprints`` distinct signatures, a minute apart."""
    rng = random.Random(seed)
    alerts: list[dict[str, object]] = []
    for n in range(count):
        k = rng.randrange(fingerprints)
        minute = n * 60 // max(1, count // 600)
        alerts.append(
            {
                "source": "prometheus",
                "service": SERVICES[k % len(SERVICES)],
                "env": "prod",
                "severity": rng.choice(["P2", "P3", "P3", "P4"]),
                "title": f"alert rule {k} firing",
                "received_at": _clock(minute),
            }
        )
    return alerts


def _clock(seconds: int) -> str:
    hours, minutes, secs = seconds // 3600 % 24, seconds // 60 % 60, seconds % 60
    return f"2026-03-01T{hours:02d}:{minutes:02d}:{secs:02d}Z"


def _gatekeeper(args: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        input=stdin,
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _schema(database_url: str, schema: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as conn:
        name = sql.Identifier(schema)
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
        if create:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))


def baseline(directory: Path, alerts: list[dict[str, object]]) -> float:
    started = time.perf_counter()
    with (
        (directory / "events.jsonl").open("ab") as events,
        (directory / "marks.jsonl").open("ab") as marks,
    ):
        for n, alert in enumerate(alerts, start=1):
            events.write(json.dumps({"type": "alert", **alert}).encode() + b"\n")
            marks.write(json.dumps({"n": n, "state": "processed"}).encode() + b"\n")
            if n % 1000 == 0:
                events.flush()
                marks.flush()
                os.fsync(events.fileno())
                os.fsync(marks.fileno())
    return time.perf_counter() - started


def run(count: int, backend: str, database_url: str | None) -> dict[str, float]:
    alerts = generate(count)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "INCIDENT_JSONL_DIR": str(Path(tmp) / "store"),
            "GATEKEEPER_AGENT": "helion",
            "GATEKEEPER_POLICY": str(Path(tmp) / "no-policy"),
            "INCIDENT_BACKEND": backend,
            "PYTHONPATH": str(REPO),
        }
        schema = f"bench_alerts_{os.getpid()}"
        if backend == "postgres":
            assert database_url, "--database-url (or DATABASE_URL) is needed for postgres"
            _schema(database_url, schema, create=True)
            env["DATABASE_URL"] = schema_url(database_url, schema)
            _gatekeeper(["store", "migrate"], env)
        lines = "".join(json.dumps(a) + "\n" for a in alerts)
        add_s = _gatekeeper(["alerts", "add", "--now", NOW], env, lines)
        try:
            triage_s = _gatekeeper(["alerts", "triage", "--now", NOW], env)
        finally:
            if backend == "postgres" and database_url:
                _schema(database_url, schema, create=False)
        base_dir = Path(tmp) / "baseline"
        base_dir.mkdir()
        base_s = baseline(base_dir, alerts)
    return {"add_s": add_s, "triage_s": triage_s, "baseline_s": base_s, "ratio": triage_s / base_s}


def main() -> None:
    parser = argparse.ArgumentParser(description="alert triage benchmark")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backends", default="jsonl,postgres")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    for backend in args.backends.split(","):
        figures = run(args.count, backend, args.database_url)
        print(
            f"{backend:8} {args.count} alerts: add {figures['add_s']:.2f} s, triage "
            f"{figures['triage_s']:.2f} s, baseline loop {figures['baseline_s']:.3f} s, "
            f"triage/baseline {figures['ratio']:.0f}x"
        )


if __name__ == "__main__":
    main()
