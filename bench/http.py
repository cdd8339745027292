"""HTTP load: ``gatekeeper serve`` driven from this (second) process on loopback.

    python -m bench.http --quick                      # 1k, JSONL, 1 worker, 200 requests
    python -m bench.http                              # 1k, JSONL and Postgres, 1 and 2 workers
    python -m bench.http --requests 2000 --seconds 30 # more samples per scenario

For each backend and worker count it starts a real server on a free loopback
port, then sends ``incident_get``, ``incident_list`` and ``GET /v1/check`` from
``--concurrency`` client threads, each scenario bounded by ``--requests`` and
``--seconds``. It prints throughput (requests/s) and p50/p99 latency, next to
the baseline measured in the same run: the wall time of one cold
``gatekeeper check`` process on the same store (what a pipeline pays per
decision without the server). ``per-decision ratio`` is that time divided by
the HTTP check's cost per decision (1 / throughput); ``latency ratio`` divides
it by the p50 latency of the HTTP check sent one request at a time (what a
single deploy step waits for).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.run import DEFAULT_URL, GATEKEEPER, NOW, REPO, SERVICE, prepare

CHECK_ARGS = ["check", "--env", "prod", "--service", SERVICE, "--format", "json"]


@dataclass
class Load:
    scenario: str
    latencies: list[float]
    elapsed: float
    errors: int

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


class Server:
    """``gatekeeper serve`` in its own process group, stopped on exit."""

    def __init__(self, store_args: list[str], keys_file: Path, workers: int) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        argv = [*GATEKEEPER, *store_args, "--policy", str(REPO / "policies")]
        argv += ["--keys-file", str(keys_file), "--now", NOW]
        argv += ["serve", "--port", str(self.port), "--workers", str(workers)]
        self.process = subprocess.Popen(
            argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}: {argv}")
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("server did not start within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def make_key(keys_file: Path) -> str:
    done = subprocess.run(
        [*GATEKEEPER, "--keys-file", str(keys_file), "--now", NOW, "keys", "add", "sofiia"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


Request = Callable[[httpx.Client, int], httpx.Response]


def drive(name: str, request: Request, args: argparse.Namespace) -> Load:
    """Send up to ``args.requests`` requests from ``args.concurrency`` threads."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(args.requests))
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def worker() -> None:
        nonlocal errors
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < stop_at:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                start = time.perf_counter()
                response = request(client, n)
                took = time.perf_counter() - start
                with lock:
                    if response.status_code == 200:
                        latencies.append(took)
                    else:
                        errors += 1

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Load(name, latencies, time.perf_counter() - start, errors)


def scenarios(server: Server, key: str) -> list[tuple[str, Request]]:
    headers = {"X-API-Key": key}
    tool_url = f"{server.url}/v1/tools/oncall_tool"
    listed = httpx.post(
        tool_url,
        json={"action": "incident_list", "params": {"limit": 50}},
        headers=headers,
        timeout=60,
    ).json()
    ids = [incident["id"] for incident in listed["result"]["incidents"]]
    ids = ids or ["inc_20260101_0000_none00"]

    def get(client: httpx.Client, n: int) -> httpx.Response:
        body = {"action": "incident_get", "params": {"incident_id": ids[n % len(ids)]}}
        return client.post(tool_url, json=body, headers=headers)

    def list_open(client: httpx.Client, n: int) -> httpx.Response:
        body = {"action": "incident_list", "params": {"status": "open", "limit": 20}}
        return client.post(tool_url, json=body, headers=headers)

    def check(client: httpx.Client, n: int) -> httpx.Response:
        query = {"env": "prod", "service": SERVICE}
        return client.get(f"{server.url}/v1/check", params=query, headers=headers)

    return [("incident_get", get), ("incident_list", list_open), ("/v1/check", check)]


def store_args(backend: str, directory: Path, url: str, size: str) -> list[str]:
    if backend == "postgres":
        from bench.pg import schema_url

        return ["--backend", "postgres", "--database-url", schema_url(url, f"bench_{size}")]
    return ["--store-dir", str(directory)]


def process_seconds(argv: list[str], repeat: int) -> float:
    """Median wall time of ``argv`` as a fresh process (after one warm-up run)."""
    samples = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=REPO, capture_output=True)
        samples.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):  # 1: the gate blocks, a valid answer
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[:300]}")
    return statistics.median(samples[1:])


def check_ratios(process_s: float, load: Load, request: Request, args: argparse.Namespace) -> str:
    """The HTTP check against one ``gatekeeper check`` process: per decision and serially."""
    per_decision = process_s * load.throughput
    serial_args = {**vars(args), "concurrency": 1, "requests": min(args.requests, 100)}
    serial = drive("/v1/check", request, argparse.Namespace(**serial_args))
    p50 = statistics.median(serial.latencies)
    return (
        f"  serial p50 {p50 * 1000:.1f} ms  per-decision ratio {per_decision:5.1f}x"
        f"  latency ratio {process_s / p50:5.1f}x"
    )


def run_backend(backend: str, directory: Path, args: argparse.Namespace) -> list[str]:
    options = store_args(backend, directory, args.database_url, args.size)
    process_s = process_seconds([*GATEKEEPER, *options, "--now", NOW, *CHECK_ARGS], 5)
    lines = [f"{backend}: one `gatekeeper check` process: {process_s * 1000:.0f} ms (median of 5)"]
    with tempfile.TemporaryDirectory() as tmp:
        keys_file = Path(tmp) / "keys.json"
        key = make_key(keys_file)
        for workers in args.workers:
            server = Server(options, keys_file, workers)
            try:
                for name, request in scenarios(server, key):
                    drive(name, request, argparse.Namespace(**{**vars(args), "requests": 20}))
                    load = drive(name, request, args)
                    line = (
                        f"  {backend:8} workers={workers} {name:14} "
                        f"{len(load.latencies):5d} ok {load.errors:3d} err  "
                        f"{load.throughput:8.1f} req/s  p50 {load.percentile(0.5) * 1000:6.1f} ms  "
                        f"p99 {load.percentile(0.99) * 1000:6.1f} ms"
                    )
                    if name == "/v1/check" and load.latencies:
                        line += check_ratios(process_s, load, request, args)
                    lines.append(line)
            finally:
                server.stop()
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--size", default="1k", help="store size (1k, 10k, 100k)")
    parser.add_argument("--store-dir", type=Path, help="use this JSONL store instead")
    parser.add_argument("--backends", default="jsonl,postgres")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--requests", type=int, default=1000, help="per scenario (a bound)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per scenario (a bound)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--quick", action="store_true", help="1k, JSONL, 1 worker, 200 requests")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    backends = args.backends.split(",")
    if args.quick:
        backends, args.workers, args.requests = ["jsonl"], "1", min(args.requests, 200)
    args.workers = [int(n) for n in str(args.workers).split(",")]
    if args.store_dir is not None:
        directory, backends = args.store_dir, ["jsonl"]
    else:
        directory = prepare(args.size, args.database_url if "postgres" in backends else None)
    print(f"store {args.size}, {args.concurrency} client threads, at most {args.requests} requests"
          f" or {args.seconds:.0f} s per scenario; python {sys.version.split()[0]}")  # fmt: skip
    for backend in backends:
        for line in run_backend(backend, directory, args):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
