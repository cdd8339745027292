"""constraints.txt (what the action installs) is the runtime set the tests ran with."""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.gate.conftest import REPO
from tests.pipeline.constraints import DISTRIBUTION, render, runtime_pins


def test_constraints_pin_exactly_the_tested_runtime_set() -> None:
    current = (REPO / "constraints.txt").read_text()
    assert current == render(runtime_pins()), (
        "constraints.txt is stale: python -m tests.pipeline.constraints > constraints.txt"
    )


def test_every_direct_runtime_dependency_is_pinned() -> None:
    pins = runtime_pins()
    direct = [Requirement(text) for text in metadata.requires(DISTRIBUTION) or []]
    runtime = {canonicalize_name(r.name) for r in direct if r.marker is None}
    assert runtime and runtime <= set(pins)
    assert canonicalize_name(DISTRIBUTION) not in pins
    # extras (server, dev) are not what the action installs
    assert "pytest" not in pins and "starlette" not in pins
