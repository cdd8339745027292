"""The CI step users wait for: the action's install plus its gate, cold and warm.

    python -m bench.action              # 3 rounds of each
    python -m bench.action --rounds 5

A local directory stands in for the CI cache (``bench/data/action-cache``):

- **cold**: a fresh virtual environment and an empty pip cache, then
  ``pip install`` of the checkout (with ``constraints.txt`` when the checkout
  has one) and the gate on the demo store;
- **warm (pip cache)**: the same with the pip cache kept from a cold run;
- **warm (cached venv)**: the environment restored from the cache directory
  (a copy, as a cache action restores it), then the gate.

Installs come from this machine's package index, so a cold run here is a lower
bound of a cold run on a CI runner that downloads every wheel.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "bench" / "data" / "action-cache"
NOW = "2026-11-30T12:00:00Z"


def _env(pip_cache: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV")
    }
    env["PIP_CACHE_DIR"] = str(pip_cache)
    return env


def _install(venv: Path, pip_cache: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_env(pip_cache))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    pip += ["--disable-pip-version-check"]
    constraints = REPO / "constraints.txt"
    if constraints.exists():
        pip += ["-c", str(constraints)]
    subprocess.run([*pip, str(REPO)], check=True, env=_env(pip_cache), capture_output=True)


def _gate(venv: Path, pip_cache: Path) -> None:
    argv = [str(venv / "bin" / "gatekeeper"), "--store-dir", str(REPO / "examples" / "incidents")]
    argv += ["--policy", str(REPO / "policies"), "--now", NOW]
    argv += ["check", "--env", "prod", "--service", "checkout", "--format", "github"]
    code = subprocess.run(argv, capture_output=True, env=_env(pip_cache), cwd=REPO).returncode
    if code not in (0, 1):
        raise SystemExit(f"the gate failed with exit {code}")


def cold(work: Path) -> float:
    cache = work / "pip-cache-cold"
    shutil.rmtree(cache, ignore_errors=True)
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    start = time.perf_counter()
    _install(venv, cache)
    _gate(venv, cache)
    return time.perf_counter() - start


def warm_pip(work: Path, cache: Path) -> float:
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    start = time.perf_counter()
    _install(venv, cache)
    _gate(venv, cache)
    return time.perf_counter() - start


def warm_venv(work: Path, cached: Path, cache: Path) -> float:
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    start = time.perf_counter()
    shutil.copytree(cached, venv, symlinks=True)
    _gate(venv, cache)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.action", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    pip_cache, cached = CACHE / "pip", CACHE / "venv"
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        work = Path(tmp)
        if not cached.exists():  # fill the stand-in cache once
            _install(cached, pip_cache)
        times: dict[str, list[float]] = {
            "cold": [],
            "warm (pip cache)": [],
            "warm (cached venv)": [],
        }
        for _ in range(args.rounds):
            times["cold"].append(cold(work))
            times["warm (pip cache)"].append(warm_pip(work, pip_cache))
            times["warm (cached venv)"].append(warm_venv(work, cached, pip_cache))
    print(f"command: python -m bench.action --rounds {args.rounds}\n")
    print("| run | median s | min s | max s |\n|---|---|---|---|")
    for name, samples in times.items():
        median, low, high = statistics.median(samples), min(samples), max(samples)
        print(f"| {name} | {median:.2f} | {low:.2f} | {high:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
