"""The CI step users wait for: the action's steps, cold and warm, as action.yml runs them.

    python -m bench.action              # 3 rounds
    python -m bench.action --rounds 5

The steps come from ``action.yml`` itself, so what is timed cannot drift from
what the action does: each ``run:`` goes through GitHub's
``bash --noprofile --norc -eo pipefail`` with the step's ``env:``, its
expressions resolved to this job's values (step outputs from
``$GITHUB_OUTPUT``, exports from ``$GITHUB_ENV``), and each ``if:`` is
evaluated. Of the ``uses:`` steps, ``actions/setup-python`` gives this
machine's Python (not timed: on a runner it comes from the tool cache), and
``actions/cache/restore`` and ``actions/cache/save`` copy the venv from and to
a local directory that stands in for the CI cache. An expression, a condition
or an action this file does not know stops the benchmark.

Per round, in shuffled order:

- **cold**: an empty cache and an empty pip cache: the key, a cache miss, the
  install, the save, the gate on the demo store;
- **warm**: the cache as a cold run saved it: the key, the restore, the
  install step's check of the restored venv, the gate;
- **baseline**: ``python -m venv`` and ``pip install click`` with an empty pip
  cache, a reference for this machine's speed measured in the same round.

Every job gets the same ``$RUNNER_TEMP`` path, emptied first, as runners give
each job. Installs use this machine's package indexes, so a runner that
downloads every wheel spends more on a cold run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
NOW = "2026-11-30T12:00:00Z"
ACTION_REF = "bench"
# GitHub's own invocation of a composite step's `run:` with `shell: bash`.
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
COMPARISON = re.compile(r"^([\w.-]+)\s*(==|!=)\s*'([^']*)'$")
INPUTS = {
    "env": "prod",
    "services": "checkout",
    "store-dir": str(REPO / "examples" / "incidents"),
    "policy": str(REPO / "policies"),
    "extra-args": f"--now {NOW}",
}
HIDDEN = ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL")


class Unknown(SystemExit):
    """action.yml uses something this benchmark cannot reproduce."""


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return data


def base_python() -> str:
    """The interpreter behind this one (a venv's base): what setup-python would give."""
    name = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return str(Path(sys.base_prefix) / "bin" / name)


def read_pairs(path: Path) -> dict[str, str]:
    """``name=value`` lines, as a step writes $GITHUB_OUTPUT and $GITHUB_ENV."""
    pairs: dict[str, str] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        name, sep, value = line.partition("=")
        if not sep:
            raise Unknown(f"bench.action reads only name=value lines, not {line!r}")
        pairs[name] = value
    return pairs


def base_env(scratch: Path) -> dict[str, str]:
    """This machine's environment as a runner's, without anything of this checkout's venv."""
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN}
    env = {k: v for k, v in env.items() if not k.startswith(("GATEKEEPER_", "INCIDENT_"))}
    ours = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != ours)
    env["PIP_CACHE_DIR"] = str(scratch / "pip-cache")
    return env


@dataclass
class Job:
    """One CI job running the action: its directories, step outputs and timings."""

    scratch: Path  # emptied before the job: RUNNER_TEMP, the workspace, pip's cache
    cache: Path  # the stand-in for the CI cache: one directory per key
    inputs: dict[str, str]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    exported: dict[str, str] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)

    @property
    def runner_temp(self) -> Path:
        return self.scratch / "runner-temp"

    @property
    def workspace(self) -> Path:
        return self.scratch / "workspace"

    def value(self, name: str) -> str:
        head, _, rest = name.partition(".")
        if head == "inputs" and rest in self.inputs:
            return self.inputs[rest]
        if head == "steps" and rest.count(".") == 2 and ".outputs." in rest:
            step, _, output = rest.partition(".outputs.")
            return self.outputs.get(step, {}).get(output, "")  # GitHub: unset is ""
        if name == "runner.temp":
            return str(self.runner_temp)
        if name == "github.action_ref":
            return ACTION_REF
        raise Unknown(f"bench.action does not know the expression {name!r} in action.yml")

    def resolve(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1)), text)

    def condition(self, text: str) -> bool:
        """The ``if:`` forms action.yml uses: comparisons joined by ``&&``."""
        results = []
        for part in text.split("&&"):
            match = COMPARISON.match(part.strip())
            if match is None:
                raise Unknown(f"bench.action does not know the condition {text!r}")
            left, op, literal = match.groups()
            results.append((self.value(left) == literal) == (op == "=="))
        return all(results)

    def env(self, step: Mapping[str, Any], output: Path) -> dict[str, str]:
        env = base_env(self.scratch) | self.exported
        env |= {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(REPO),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_ENV": str(self.scratch / "github-env"),
            "GITHUB_STEP_SUMMARY": str(self.scratch / "step-summary.md"),
            "RUNNER_TEMP": str(self.runner_temp),
            "RUNNER_OS": {"linux": "Linux", "darwin": "macOS"}.get(sys.platform, sys.platform),
            "RUNNER_ARCH": {"x86_64": "X64", "aarch64": "ARM64"}.get(os.uname().machine, "X64"),
        }
        return env | {k: self.resolve(str(v)) for k, v in (step.get("env") or {}).items()}

    def run(self, step: Mapping[str, Any], step_id: str) -> None:
        output = self.scratch / f"output-{step_id}"
        result = subprocess.run(
            [*GITHUB_BASH, self.resolve(step["run"])],
            env=self.env(step, output),
            cwd=self.workspace,
            capture_output=True,
            text=True,
            check=False,
        )
        ok = (0, 1) if step_id == "gate" else (0,)  # a block is a valid answer
        if result.returncode not in ok:
            raise SystemExit(f"step {step_id!r} failed ({result.returncode}):\n{result.stderr}")
        self.outputs[step_id] = read_pairs(output)
        self.exported = read_pairs(self.scratch / "github-env")


def setup_python(job: Job, with_: Mapping[str, str]) -> dict[str, str]:
    version = ".".join(map(str, sys.version_info[:3]))
    return {"python-path": base_python(), "python-version": version}


def restore(job: Job, with_: Mapping[str, str]) -> dict[str, str]:
    key, path = job.resolve(with_["key"]), Path(job.resolve(with_["path"]))
    if not (job.cache / key).is_dir():
        return {"cache-primary-key": key}  # a miss leaves cache-hit unset
    shutil.copytree(job.cache / key, path, symlinks=True)
    return {"cache-hit": "true", "cache-primary-key": key, "cache-matched-key": key}


def save(job: Job, with_: Mapping[str, str]) -> dict[str, str]:
    key, path = job.resolve(with_["key"]), Path(job.resolve(with_["path"]))
    if not (job.cache / key).exists():  # entries are immutable, as in the CI cache
        shutil.copytree(path, job.cache / key, symlinks=True)
    return {}


USES: dict[str, Callable[[Job, Mapping[str, str]], dict[str, str]]] = {
    "actions/setup-python": setup_python,
    "actions/cache/restore": restore,
    "actions/cache/save": save,
}
UNTIMED = ("actions/setup-python",)


def check(job: Job, step: Mapping[str, Any]) -> None:
    """Resolve every expression and condition of ``step``: Unknown if one is not known."""
    if "uses" in step and str(step["uses"]).split("@")[0] not in USES:
        raise Unknown(f"bench.action cannot stand in for {step['uses']!r}")
    for text in [step.get("run", ""), *(step.get("env") or {}).values()]:
        job.resolve(str(text))
    for text in (step.get("with") or {}).values():
        job.resolve(str(text))
    if "if" in step:
        job.condition(str(step["if"]))


def new_job(scratch: Path, cache: Path) -> tuple[Job, list[dict[str, Any]]]:
    """A job with the action's inputs (its defaults, the demo's values) and its steps."""
    data = action()
    defaults = {name: str(spec.get("default", "")) for name, spec in data["inputs"].items()}
    job = Job(scratch=scratch, cache=cache, inputs=defaults | INPUTS)
    steps: list[dict[str, Any]] = data["runs"]["steps"]
    for step in steps:  # before anything runs, so a skipped step is checked too
        check(job, step)
    return job, steps


def run_job(scratch: Path, cache: Path) -> Job:
    """Every step of action.yml in order, in a fresh job; the job with its step times."""
    shutil.rmtree(scratch, ignore_errors=True)
    job, steps = new_job(scratch, cache)
    job.runner_temp.mkdir(parents=True)
    job.workspace.mkdir()
    for number, step in enumerate(steps):
        step_id = str(step.get("id", f"step{number}"))
        if "if" in step and not job.condition(str(step["if"])):
            continue
        start = time.perf_counter()
        if "uses" in step:
            uses = USES[str(step["uses"]).split("@")[0]]
            job.outputs[step_id] = uses(job, step.get("with") or {})
        else:
            job.run(step, step_id)
        if not str(step.get("uses", "")).startswith(UNTIMED):
            job.times[str(step["name"])] = time.perf_counter() - start
    decision = job.outputs.get("gate", {}).get("decision")
    if decision not in ("pass", "warn", "block"):  # a gate that could not decide timed nothing
        raise SystemExit(f"the action's gate decided {decision!r}")
    return job


def baseline(scratch: Path) -> float:
    """``python -m venv`` and ``pip install click``, cold: this machine's speed, now."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    env = base_env(scratch)
    start = time.perf_counter()
    venv = scratch / "venv"
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True, env=env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    pip += ["--disable-pip-version-check", "click"]
    subprocess.run(pip, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def _stats(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} | {min(samples):.2f} | {max(samples):.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.action", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    totals: dict[str, list[float]] = {"cold": [], "warm": [], "baseline": []}
    steps: dict[str, dict[str, list[float]]] = {"cold": {}, "warm": {}}
    with tempfile.TemporaryDirectory(prefix="bench-action-") as tmp:
        root = Path(tmp)
        filled = root / "cache-filled"
        run_job(root / "job", filled)  # the cache a cold run leaves, once, untimed
        for _ in range(args.rounds):
            order = list(totals)
            random.shuffle(order)
            for name in order:
                if name == "baseline":
                    totals[name].append(baseline(root / "job"))
                    continue
                cache = filled if name == "warm" else root / "cache-empty"
                shutil.rmtree(root / "cache-empty", ignore_errors=True)
                job = run_job(root / "job", cache)
                totals[name].append(sum(job.times.values()))
                for step, seconds in job.times.items():
                    steps[name].setdefault(step, []).append(seconds)
    print(f"command: python -m bench.action --rounds {args.rounds}")
    print(f"Python {sys.version.split()[0]} at {base_python()}\n")
    print("| run | median s | min s | max s | × baseline (median of rounds) |")
    print("|---|---|---|---|---|")
    base = totals["baseline"]
    for name, samples in totals.items():
        ratios = [s / b for s, b in zip(samples, base, strict=True)]
        print(f"| {name} | {_stats(samples)} | {statistics.median(ratios):.2f} |")
    for name, by_step in steps.items():
        print(f"\n{name}, by step:\n\n| step | median s | min s | max s |\n|---|---|---|---|")
        for step, samples in by_step.items():
            print(f"| {step} | {_stats(samples)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
