"""Start-up benchmark: what users run, interleaved with its baselines, ratios pair by pair.

    python -m bench.startup                 # 15 rounds
    python -m bench.startup --rounds 40     # what docs/performance.md was made from

The gate is installed the way users get it: a wheel built from this checkout,
installed into a fresh virtual environment (``bench/data/venv``, git-ignored)
with its bytecode compiled, and bytecode writing allowed for that environment
(``PYTHONDONTWRITEBYTECODE`` is cleared for every measured process). A source
tree is never measured.

Every round runs each scenario and each baseline once, in a shuffled order;
a scenario's ratio to a baseline is computed within each round and the median
of those ratios is reported, so a machine that slows down during the run moves
both sides of every ratio together. Baselines: ``python -c pass``, the import
floor (``import pydantic, yaml, click``), the floor plus one pydantic model,
and a peer: the same demo data judged by an equivalent Rego policy through
regopy (``bench/peers/``; the bench-only extra ``bench``).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / "bench" / "data" / "venv"
NOW = "2026-11-30T12:00:00Z"
DEMO = REPO / "examples" / "incidents"
MODEL = "import pydantic, yaml, click\nclass M(pydantic.BaseModel):\n    x: int\n"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.pop("PYTHONPATH", None)
    return env


def install(venv: Path = VENV, fresh: bool = True) -> Path:
    """Build the wheel and install it (with the ``bench`` extra) into a fresh venv."""
    python = venv / "bin" / "python"
    if fresh and venv.exists():
        shutil.rmtree(venv)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_env())
        with tempfile.TemporaryDirectory() as wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, str(REPO)],
                check=True,
                env=_env(),
            )
            (wheel,) = Path(wheels).glob("*.whl")
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            subprocess.run([*pip, f"{wheel}[bench]"], check=True, env=_env())
        # compile everything once (pip does too); later runs may write bytecode
        subprocess.run([str(python), "-m", "compileall", "-q", str(venv)], env=_env())
    return python


def scenarios(python: Path) -> dict[str, list[str]]:
    py = str(python)
    script = str(python.parent / "gatekeeper")
    store = ["--store-dir", str(DEMO), "--policy", str(REPO / "policies"), "--now", NOW]
    return {
        "python -c pass": [py, "-c", "pass"],
        "import floor (pydantic, yaml, click)": [py, "-c", "import pydantic, yaml, click"],
        "floor + one pydantic model": [py, "-c", MODEL],
        "peer: Rego via regopy": [
            py,
            "-m",
            "bench.peers.rego_check",
            str(DEMO),
            "checkout",
            "prod",
            NOW,
        ],  # fmt: skip
        "gatekeeper check (demo store, jsonl)": [
            script,
            *store,
            "check",
            "--env",
            "prod",
            "--service",
            "checkout",
        ],  # fmt: skip
        "gatekeeper --version": [script, "--version"],
    }


BASELINES = ("python -c pass", "import floor (pydantic, yaml, click)", "floor + one pydantic model")


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, cwd=REPO, env=_env())
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr.decode()}")
    return elapsed


def measure(cases: dict[str, list[str]], rounds: int, seed: int) -> list[dict[str, float]]:
    rng = random.Random(seed)
    for argv in cases.values():
        run_once(argv)  # warm the page cache (and write any missing bytecode)
    results = []
    for _ in range(rounds):
        order = list(cases)
        rng.shuffle(order)
        results.append({name: run_once(cases[name]) for name in order})
    return results


def table(results: list[dict[str, float]], names: list[str]) -> str:
    head = "| scenario | median ms | " + " | ".join(f"× {b}" for b in BASELINES) + " |"
    lines = [head, "|" + "---|" * (2 + len(BASELINES))]
    for name in names:
        median = statistics.median(r[name] for r in results) * 1000
        ratios = [statistics.median(r[name] / r[b] for r in results) for b in BASELINES]
        cells = " | ".join(
            "" if name == b else f"{x:.2f}" for b, x in zip(BASELINES, ratios, strict=True)
        )
        lines.append(f"| {name} | {median:.1f} | {cells} |")
    return "\n".join(lines)


def machine() -> str:
    cpus = os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.machine()}, {cpus} CPUs, Linux {platform.release()}, "
        f"Python {platform.python_version()}, load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench venv")
    args = parser.parse_args(argv)
    python = install(fresh=not args.reuse)
    cases = scenarios(python)
    results = measure(cases, args.rounds, args.seed)
    print(f"machine: {machine()}")
    print(f"command: python -m bench.startup --rounds {args.rounds} --seed {args.seed}\n")
    print(table(results, list(cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
