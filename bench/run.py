"""Benchmarks: cold-process timings with baselines measured in the same run.

    python3 bench/run.py                       # 1k and 10k, JSONL and Postgres
    python3 bench/run.py --sizes 1k,10k,100k   # the full table (generates 100k once: slow)
    python3 bench/run.py --quick               # 1k only, 3 repeats: a smoke run

Every figure is reported next to a baseline measured in the same run, because
these machines are noisy: ``python -c "import pydantic, yaml, click"`` (the
import floor of our stack) and a full ``orjson`` parse of the same JSONL files
(what "read everything" costs). Peak RSS is per process (``wait4``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data"
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
NOW = "2026-06-01T00:00:00Z"  # bench.generate.REFERENCE_NOW
SERVICE = "svc-042"
PY = sys.executable
GATEKEEPER = [PY, "-m", "gatekeeper"]
ORJSON_PARSE = (
    "import orjson, sys\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, 'rb') as f:\n"
    "        for line in f: orjson.loads(line)\n"
)


@dataclass
class Timing:
    name: str
    seconds: list[float]
    peak_rss_kb: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_process(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """Run ``argv`` to completion; return (seconds, peak RSS in KiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {argv}\n{err}")
    return elapsed, usage.ru_maxrss, proc.returncode


def measure(name: str, argv: list[str], repeat: int, env: dict[str, str] | None = None) -> Timing:
    run_process(argv, env)  # warm the page cache; not counted
    samples, rss = [], 0
    for _ in range(repeat):
        seconds, peak, _code = run_process(argv, env)
        samples.append(seconds)
        rss = max(rss, peak)
    return Timing(name, samples, rss)


def ensure_store(size: str, database_url: str | None) -> Path:
    directory = DATA / size
    if not (directory / "incidents.jsonl").exists():
        print(f"generating {size} store in {directory} …", file=sys.stderr)
        subprocess.run(
            [PY, "-m", "bench.generate", "--incidents", str(SIZES[size]), "--out", str(directory)],
            check=True,
            cwd=REPO,
        )
    if database_url:
        from bench.pg import ensure_loaded

        ensure_loaded(directory, database_url, schema=f"bench_{size}")
    return directory


def gate_argv(store: Path, backend: str, database_url: str | None, size: str) -> list[str]:
    argv = [*GATEKEEPER, "--now", NOW, "--store-dir", str(store)]
    if backend == "postgres":
        from bench.pg import schema_url

        argv += [
            "--backend",
            "postgres",
            "--database-url",
            schema_url(database_url or "", f"bench_{size}"),
        ]
    return argv


def scenarios(args: argparse.Namespace) -> list[tuple[Timing, Timing]]:
    """Each scenario paired with the baseline it is judged against."""
    repeat = args.repeat
    floor = measure(
        "import floor: python -c 'import pydantic, yaml, click'",
        [PY, "-c", "import pydantic, yaml, click"],
        repeat,
    )
    rows = [
        (
            measure(
                "check: examples/incidents (jsonl)",
                [
                    *GATEKEEPER,
                    "--store-dir",
                    "examples/incidents",
                    "check",
                    "--env",
                    "prod",
                    "--service",
                    "checkout",
                ],
                repeat,
            ),
            floor,
        )
    ]
    for size in args.sizes:
        store = ensure_store(size, args.database_url if "postgres" in args.backends else None)
        files = [
            str(store / n)
            for n in ("incidents.jsonl", "events.jsonl", "artifacts.jsonl")
            if (store / n).exists()
        ]
        parse = measure(
            f"baseline: orjson parse of every line ({size})",
            [PY, "-c", ORJSON_PARSE, *files],
            repeat,
        )
        rows.append((parse, floor))
        for backend in args.backends:
            base = gate_argv(store, backend, args.database_url, size)
            judged = parse if backend == "jsonl" else floor
            rows.append(
                (
                    measure(
                        f"check {size} ({backend})",
                        [*base, "check", "--env", "prod", "--service", SERVICE],
                        repeat,
                    ),
                    judged,
                )
            )
            rows.append(
                (
                    measure(
                        f"incident list --status open {size} ({backend})",
                        [*base, "incident", "list", "--status", "open"],
                        repeat,
                    ),
                    judged,
                )
            )
            rows.append(
                (
                    measure(
                        f"incident followups {size} ({backend})",
                        [*base, "incident", "followups", "--service", SERVICE, "--env", "prod"],
                        repeat,
                    ),
                    judged,
                )
            )
    return rows


def print_table(rows: list[tuple[Timing, Timing]]) -> None:
    print(f"{'scenario':58} {'median':>8} {'min':>8} {'max':>8} {'rss MB':>7}  vs baseline")
    for timing, baseline in rows:
        ratio = "" if timing is baseline else f"{timing.median / baseline.median:5.2f}x"
        print(
            f"{timing.name:58} {timing.median:8.3f} {min(timing.seconds):8.3f} "
            f"{max(timing.seconds):8.3f} {timing.peak_rss_kb / 1024:7.1f}  {ratio}"
        )


def writers_benchmark(count: int = 8, per_writer: int = 200) -> None:
    """8 concurrent gatekeeper writers vs a single fsync'd plain-Python append loop."""
    from bench.writers import compare_writers

    compare_writers(count, per_writer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gatekeeper benchmarks")
    parser.add_argument("--sizes", default="1k,10k", help="comma list of 1k,10k,100k")
    parser.add_argument("--backends", default="jsonl,postgres")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "GATEKEEPER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--quick", action="store_true", help="1k, jsonl and postgres, 3 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "1k", 3
    args.sizes = [s for s in args.sizes.split(",") if s]
    args.backends = [b for b in args.backends.split(",") if b]
    with tempfile.TemporaryDirectory():
        print_table(scenarios(args))
    writers_benchmark()
    return 0


if __name__ == "__main__":
    sys.exit(main())
