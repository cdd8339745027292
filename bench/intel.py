"""Intelligence benchmark: digest, recurrence, risk, correlate, postmortem on a generated store.

    python -m bench.intel                        # 10k, 5 rounds
    python -m bench.intel --sizes 10k,100k       # 100k is generated once under bench/data
    python -m bench.intel --store DIR --rounds 1 # any JSONL store (the smoke test does this)
    python -m bench.intel --sizes 10k,100k --backends jsonl,postgres
    python -m bench.intel --sizes 10k,100k --same-rate --backends postgres  # flat?

Every command is a cold process (``python -m gatekeeper --now … --store-dir …``,
or ``--backend postgres --database-url …`` on the same store loaded once into
its own schema, ``<schema-prefix>_<size>``, by :func:`bench.run.prepare`).
The baseline, measured in the same run, is a full orjson parse of the store's
``incidents.jsonl`` and ``events.jsonl`` (``python -c``): what reading every
record once costs. The runs are interleaved, round by round — the baseline,
then each command — so a machine that slows down mid-run moves both sides of a
ratio; the table gives each command's median, the baseline's median, and the
median of the per-round ratios (``×parse``). One untimed round warms the page
cache first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.run import (
    DEFAULT_URL,
    GATEKEEPER,
    NOW,
    PY,
    REPO,
    SIZES,
    postgres_ready,
    prepare,
    store_label,
)
from bench.run import run_process as run_bench_process

WEEK = "2026-W22"  # the last complete ISO week before bench.run.NOW (Monday 2026-06-01)
PARSE = (
    "import orjson, sys\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, 'rb') as f:\n"
    "        for line in f: orjson.loads(line)\n"
)
BASELINE = "baseline: orjson parse of incidents + events"


@dataclass
class Series:
    name: str
    seconds: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    peak_rss_kb: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None


def run_process(argv: list[str]) -> tuple[float, int]:
    """Run ``argv`` to completion; (seconds, peak RSS in KiB); any exit but 0 stops the run."""
    return run_bench_process(argv, ok=(0,))


def store_options(backend: str, store: Path, url: str, schema: str) -> list[str]:
    if backend == "postgres":
        from bench.pg import schema_url

        return ["--backend", "postgres", "--database-url", schema_url(url, schema)]
    return ["--store-dir", str(store)]


def newest_incident(options: list[str]) -> str:
    """The newest prod incident, as ``incident list`` answers it (untimed)."""
    argv = [*GATEKEEPER, "--now", NOW, *options]
    argv += ["incident", "list", "--env", "prod", "--limit", "1", "--format", "json"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=REPO)
    listed = json.loads(done.stdout)
    items = listed["incidents"] if isinstance(listed, dict) else listed
    if not items:
        raise SystemExit(f"no prod incident in {' '.join(options)} to correlate")
    return str(items[0]["id"])


def commands(options: list[str], incident_id: str) -> list[tuple[str, list[str]]]:
    base = [*GATEKEEPER, "--now", NOW, *options]
    return [
        ("digest weekly", [*base, "digest", "weekly", "--week", WEEK, "--format", "json"]),
        ("recurrence (30 days)", [*base, "recurrence", "--window-days", "30", "--format", "json"]),
        ("risk (every service and env)", [*base, "risk", "--format", "json"]),
        ("correlate (newest prod incident)", [*base, "correlate", incident_id, "--format", "json"]),
        ("postmortem (same incident)", [*base, "postmortem", incident_id, "--format", "json"]),
    ]


def measure(store: Path, rounds: int, backends: dict[str, list[str]]) -> list[Series]:
    """The baseline, then each command on each backend, round by round."""
    files = [str(store / name) for name in ("incidents.jsonl", "events.jsonl")]
    runs: list[tuple[str, list[str]]] = [(BASELINE, [PY, "-c", PARSE, *files])]
    for backend, options in backends.items():
        incident_id = newest_incident(options)
        suffix = f" ({backend})" if len(backends) > 1 else ""
        runs += [(name + suffix, argv) for name, argv in commands(options, incident_id)]
    series = {name: Series(name) for name, _ in runs}
    for _name, argv in runs:  # warm the page cache; not counted
        run_process(argv)
    for _ in range(rounds):
        baseline = 0.0
        for name, argv in runs:
            seconds, peak = run_process(argv)
            s = series[name]
            s.seconds.append(seconds)
            s.peak_rss_kb = max(s.peak_rss_kb, peak)
            if name == BASELINE:
                baseline = seconds
            else:
                s.ratios.append(seconds / baseline)
    return list(series.values())


def table(label: str, series: list[Series]) -> str:
    baseline = next(s for s in series if s.name == BASELINE)
    lines = [
        f"{label}: medians of {len(baseline.seconds)} cold runs, interleaved with the baseline",
        f"{'command':46} {'median s':>9} {'min s':>7} {'max s':>7} {'RSS MB':>7} {'×parse':>7}",
    ]
    for s in series:
        ratio = f"{s.ratio:7.2f}" if s.ratio is not None else f"{'':7}"
        lines.append(
            f"{s.name[:46]:46} {s.median:9.3f} {min(s.seconds):7.3f} {max(s.seconds):7.3f}"
            f" {s.peak_rss_kb / 1024:7.1f} {ratio}".rstrip()
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.intel", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--sizes", default="10k", help="comma list of 1k,10k,100k")
    parser.add_argument("--store", type=Path, help="measure this JSONL store instead")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--same-rate",
        action="store_true",
        help="one year of history per 10k incidents (flatness: same rate, longer history)",
    )
    parser.add_argument("--backends", default="jsonl", help="comma list of jsonl,postgres")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--schema-prefix", default="bench", help="Postgres schema <prefix>_<size> (default bench)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    backends = [b for b in args.backends.split(",") if b]
    if unknown := [b for b in backends if b not in ("jsonl", "postgres")]:
        raise SystemExit(f"unknown backend {unknown[0]!r}; expected jsonl or postgres")
    if "postgres" in backends and args.store is not None:
        raise SystemExit("--store measures a JSONL store; use --sizes for postgres")
    if "postgres" in backends and not postgres_ready(args.database_url):
        raise SystemExit("postgres is not reachable")
    url = args.database_url if "postgres" in backends else None
    if args.store is not None:
        targets = [(str(args.store), args.store)]
    else:
        sizes = [s for s in args.sizes.split(",") if s]
        unknown = [s for s in sizes if s not in SIZES]
        if unknown:
            raise SystemExit(f"unknown size {unknown[0]!r}; expected one of {', '.join(SIZES)}")
        targets = []
        for size in sizes:
            # --same-rate: the history grows with the store (10k a year, 100k ten years),
            # so every store has the same incidents per week and a window read is flat.
            span = round(365 * SIZES[size] / 10_000) if args.same_rate else 365
            directory = prepare(size, url, schema_prefix=args.schema_prefix, span_days=span)
            targets.append((store_label(size, span), directory))
    for label, store in targets:
        schema = f"{args.schema_prefix}_{label}"
        options = {b: store_options(b, store, args.database_url, schema) for b in backends}
        print(table(label, measure(store, args.rounds, options)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
