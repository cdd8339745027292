"""The action's pinned runtime set: ``python -m tests.pipeline.constraints > constraints.txt``.

Walks the runtime requirements of the installed distribution (no extras) through the
metadata of what is installed here — the set the test run used — and prints them
pinned, one ``name==version`` per line, after the header constraints.txt keeps.
"""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DISTRIBUTION = "release-gatekeeper"
HEADER = """\
# The runtime dependencies the action installs, pinned to the set the tests ran with.
# tests/pipeline/test_constraints.py fails when this file and the tested set differ;
# regenerate it with: python -m tests.pipeline.constraints > constraints.txt
"""


def _applies(requirement: Requirement, extra: str) -> bool:
    if requirement.marker is None:
        return True
    return requirement.marker.evaluate({"extra": extra})  # over the running environment


def runtime_pins(distribution: str = DISTRIBUTION) -> dict[str, str]:
    """Every distribution the runtime needs, transitively, with its installed version."""
    root = canonicalize_name(distribution)
    seen: dict[str, str] = {}
    pending = [Requirement(distribution)]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        dist = metadata.distribution(name)
        seen[name] = dist.version
        for text in dist.requires or []:
            needed = Requirement(text)
            if any(_applies(needed, extra) for extra in ("", *requirement.extras)):
                pending.append(needed)
    return {name: version for name, version in sorted(seen.items()) if name != root}


def render(pins: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in pins.items())


if __name__ == "__main__":
    print(render(runtime_pins()), end="")
