"""Benchmarks: cold-process timings with baselines measured in the same run.

    python -m bench.run --quick                 # 1k only, 3 repeats: a smoke run
    python -m bench.run                         # 1k and 10k, JSONL and Postgres
    python -m bench.run --sizes 1k,10k,100k     # the full table (generates 100k once: slow)

Every figure is reported next to baselines measured in the same run, because
these machines are noisy: ``python -c "import pydantic, yaml, click"`` (the
import floor of our stack), a full ``orjson`` parse of the same JSONL files
(what "read everything" costs) and a read of their every byte with nothing
parsed (the least an exact read without the index can do). Every scenario and
baseline runs once per round, in an order shuffled anew each round
(``--seed``), and each ratio is the median of the per-round ratios, so a
machine that slows down mid-run moves both sides of a ratio alike. Peak RSS
is per process (``wait4``). Stores are generated once under ``bench/data``
(git-ignored) and loaded once into their own Postgres schema
(``bench_<size>``). ``jsonl-scan`` is the same JSONL files without the sidecar
index (hard links in ``bench/data/<size>-scan``): the cost of the
byte-prefilter scan that readers fall back to when the index is stale. The
gate runs from this checkout as ``python -m gatekeeper`` (the console
script's start and exit), with bytecode writing allowed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data"
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
FILES = ("incidents.jsonl", "events.jsonl", "artifacts.jsonl")
NOW = "2026-06-01T00:00:00Z"  # bench.generate.REFERENCE_NOW
SERVICE = "svc-042"
PY = sys.executable
GATEKEEPER = [PY, "-m", "gatekeeper"]
FLOOR = [PY, "-c", "import pydantic, yaml, click"]
ORJSON_PARSE = (
    "import orjson, sys\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, 'rb') as f:\n"
    "        for line in f: orjson.loads(line)\n"
)
# The least an exact read without the index does: every byte of every file, once, in
# C, with nothing parsed (1 MiB blocks, their newlines counted).
READ_EVERY_BYTE = (
    "import sys\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, 'rb', buffering=0) as f:\n"
    "        while block := f.read(1 << 20): block.count(b'\\n')\n"
)
# Measured processes may write bytecode, as a user's install has it compiled (this
# workplace sets PYTHONDONTWRITEBYTECODE, which would recompile every run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Timing:
    name: str
    seconds: list[float]
    peak_rss_kb: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Row:
    """One scenario and the baselines it is judged against."""

    timing: Timing
    floor: Timing
    parse: Timing | None = None

    def versus(self, baseline: Timing) -> float:
        """The median of the per-round ratios (medians' ratio if the rounds differ)."""
        mine, theirs = self.timing.seconds, baseline.seconds
        if len(mine) != len(theirs):
            return self.timing.median / baseline.median
        return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def run_process(argv: list[str], ok: tuple[int, ...] = (0, 1)) -> tuple[float, int]:
    """Run ``argv`` to completion; return (seconds, peak RSS in KiB of the child).

    An exit code outside ``ok`` stops the benchmark (by default 1 is fine: a gate
    that blocks is a valid answer).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, env=ENV
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()  # read before waiting: a full pipe would block it
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.stderr.close()
    code = proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if code not in ok:
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(argv)}\n{err}")
    if err.strip():
        print(f"note: {' '.join(argv[2:])} wrote to stderr: {err.strip()[:300]}", file=sys.stderr)
    return elapsed, usage.ru_maxrss


def measure(name: str, argv: list[str], repeat: int) -> Timing:
    """One command alone, ``repeat`` times after a warm-up (see :func:`interleaved`)."""
    return interleaved([(name, argv)], repeat)[name]


def interleaved(jobs: list[tuple[str, list[str]]], rounds: int, seed: int = 1) -> dict[str, Timing]:
    """Every job once per round, in an order shuffled anew each round.

    One warm-up run of each first (the page cache), not counted. Round ``i`` of
    every job ran in the same stretch of time, so per-round ratios
    (:meth:`Row.versus`) cancel the machine's drift.
    """
    order = random.Random(seed)
    for _name, argv in jobs:
        run_process(argv)
    samples: dict[str, list[float]] = {name: [] for name, _argv in jobs}
    peaks: dict[str, int] = dict.fromkeys(samples, 0)
    for _ in range(rounds):
        for name, argv in order.sample(jobs, len(jobs)):
            seconds, peak = run_process(argv)
            samples[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
    return {name: Timing(name, samples[name], peaks[name]) for name in samples}


def store_label(size: str, span_days: int = 365) -> str:
    """``size``, or ``<size>-<span>d`` for a history other than the default year."""
    return size if span_days == 365 else f"{size}-{span_days}d"


def prepare(
    size: str, database_url: str | None, *, schema_prefix: str = "bench", span_days: int = 365
) -> Path:
    """Generate the store once, index it, load it into Postgres: in a child process.

    The store is ``bench/data/<label>`` and its Postgres schema
    ``<schema_prefix>_<label>`` (:func:`store_label`). This process imports
    neither gatekeeper nor psycopg, so the peak RSS of the processes it
    measures is theirs, not inherited from it.
    """
    label = store_label(size, span_days)
    directory = DATA / label
    argv = [PY, "-m", "bench.generate", "--incidents", str(SIZES[size])]
    argv += ["--out", str(directory), "--reuse", "--span-days", str(span_days)]
    if database_url:
        argv += ["--database-url", database_url, "--schema", f"{schema_prefix}_{label}"]
    subprocess.run(argv, check=True, cwd=REPO)
    return directory


def scan_only_copy(directory: Path) -> Path:
    """The store's JSONL files hard-linked into a directory without the index."""
    copy = directory.with_name(f"{directory.name}-scan")
    copy.mkdir(exist_ok=True)
    for name in FILES:
        target = copy / name
        if target.exists() and not target.samefile(directory / name):
            target.unlink()
        if not target.exists() and (directory / name).exists():
            os.link(directory / name, target)
    return copy


def postgres_ready(url: str) -> bool:
    if subprocess.run([PY, "-m", "bench.pg", "--ping", url], cwd=REPO).returncode == 0:
        return True
    print("skipping the postgres backend", file=sys.stderr)
    return False


def store_options(backend: str, directory: Path, url: str, size: str) -> list[str]:
    if backend == "postgres":
        from bench.pg import schema_url

        return ["--backend", "postgres", "--database-url", schema_url(url, f"bench_{size}")]
    store = scan_only_copy(directory) if backend == "jsonl-scan" else directory
    return ["--store-dir", str(store)]


def commands(size: str) -> list[tuple[str, list[str]]]:
    return [
        (f"check {size}", ["check", "--env", "prod", "--service", SERVICE]),
        (f"incident list --status open {size}", ["incident", "list", "--status", "open"]),
        (
            f"incident followups {size}",
            ["incident", "followups", "--service", SERVICE, "--env", "prod"],
        ),
    ]


def size_jobs(size: str, args: argparse.Namespace) -> tuple[str, list[tuple[str, list[str]]]]:
    """The parse baseline's name and every job of one store size (generated if need be)."""
    directory = prepare(size, args.database_url if "postgres" in args.backends else None)
    files = [str(directory / n) for n in FILES if (directory / n).exists()]
    parse = f"baseline: orjson parse of every line {size}"
    jobs = [(parse, [PY, "-c", ORJSON_PARSE, *files])]
    jobs.append((f"baseline: read every byte {size}", [PY, "-c", READ_EVERY_BYTE, *files]))
    for backend in args.backends:
        options = store_options(backend, directory, args.database_url, size)
        for name, command in commands(size):
            jobs.append((f"{name} ({backend})", [*GATEKEEPER, "--now", NOW, *options, *command]))
    return parse, jobs


STARTUP = {
    "start-up: python -c pass": "pass",
    "start-up: the floor + one pydantic model": (
        "import pydantic, yaml, click\nclass M(pydantic.BaseModel):\n    x: int"
    ),
    "start-up: import psycopg": "import psycopg",
    "start-up: import gatekeeper.cli": "import gatekeeper.cli",
}
FLOOR_NAME = "baseline: import floor (pydantic, yaml, click)"


def scenarios(args: argparse.Namespace) -> list[Row]:
    """Every row, all measured in one interleaved run."""
    jobs = [(FLOOR_NAME, FLOOR)]
    jobs += [(name, [PY, "-c", code]) for name, code in STARTUP.items()]
    example = [*GATEKEEPER, "--now", NOW, "--store-dir", "examples/incidents"]
    example += ["check", "--env", "prod", "--service", "checkout"]
    jobs.append(("check: examples/incidents (jsonl)", example))
    parse_of: dict[str, str] = {}
    for size in args.sizes:
        parse, more = size_jobs(size, args)
        parse_of.update({name: parse for name, _argv in more if name != parse})
        jobs += more
    timings = interleaved(jobs, args.repeat, args.seed)
    floor = timings[FLOOR_NAME]
    rows = []
    for name, _argv in jobs:
        parse_name = parse_of.get(name)
        rows.append(Row(timings[name], floor, timings[parse_name] if parse_name else None))
    return rows


def print_table(rows: list[Row]) -> None:
    head = ("median", "min", "max", "RSS MB", "×floor", "×parse")
    print(f"{'scenario':52}" + "".join(f" {h:>7}" for h in head))
    for row in rows:
        t = row.timing
        versus_floor = f"{row.versus(row.floor):7.2f}" if t is not row.floor else ""
        versus_parse = f"{row.versus(row.parse):7.2f}" if row.parse else ""
        print(
            f"{t.name:52} {t.median:7.3f} {min(t.seconds):7.3f} {max(t.seconds):7.3f}"
            f" {t.peak_rss_kb / 1024:7.1f} {versus_floor:>7} {versus_parse:>7}"
        )


def print_growth(rows: list[Row], sizes: list[str], backends: list[str]) -> None:
    """Gate time by store size, per backend: how the cost grows."""
    by_name = {row.timing.name: row.timing for row in rows}
    print(f"\n{'gate (check) median s':22}" + "".join(f"{size:>9}" for size in sizes))
    for backend in backends:
        cells = [by_name.get(f"check {size} ({backend})") for size in sizes]
        print(f"{backend:22}" + "".join(f"{c.median:9.3f}" if c else f"{'-':>9}" for c in cells))
    parses = [by_name.get(f"baseline: orjson parse of every line {size}") for size in sizes]
    print(
        f"{'orjson parse':22}" + "".join(f"{c.median:9.3f}" if c else f"{'-':>9}" for c in parses)
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--sizes", default="1k,10k", help="comma list of 1k,10k,100k")
    parser.add_argument("--backends", default="jsonl,jsonl-scan,postgres")
    parser.add_argument("--repeat", type=int, default=5, help="rounds")
    parser.add_argument("--seed", type=int, default=1, help="of the rounds' shuffled order")
    parser.add_argument(
        "--database-url", default=os.environ.get("GATEKEEPER_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--quick", action="store_true", help="1k only, 3 repeats")
    parser.add_argument("--no-writers", action="store_true", help="skip the writers comparison")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "1k", 3
    args.sizes = [s for s in args.sizes.split(",") if s]
    args.backends = [b for b in args.backends.split(",") if b]
    if "postgres" in args.backends and not postgres_ready(args.database_url):
        args.backends.remove("postgres")
    rows = scenarios(args)
    print_table(rows)
    print_growth(rows, args.sizes, args.backends)
    if not args.no_writers:
        from bench.writers import compare_writers

        compare_writers()
    return 0


if __name__ == "__main__":
    sys.exit(main())
