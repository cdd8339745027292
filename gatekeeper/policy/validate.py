"""``policy validate``: check every kind of policy file, or one file by its kind.

A directory (or a gate file) is checked as ``--policy`` would read it: the gate
files, the ``triage:`` section, ``waivers.yml`` and ``rbac.yml`` beside them. A
single ``rbac.yml`` is checked as roles and a single ``waivers.yml`` as waivers
(against the gates of the policy in its directory); any other file as gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gatekeeper.errors import ConfigError
from gatekeeper.policy.loader import load_policy
from gatekeeper.policy.paths import RBAC_FILES, rbac_file
from gatekeeper.policy.waivers import WAIVER_FILES, read_waivers, waivers_file
from gatekeeper.rbac import read_rbac


@dataclass(frozen=True)
class Validated:
    """What a valid path holds: its kind, the counts of what it defines, the files read."""

    kind: str
    counts: tuple[tuple[str, int], ...]
    files: tuple[Path, ...]


def file_kind(path: Path) -> str:
    """The kind of the policy file ``path``, by its name."""
    if path.name in RBAC_FILES:
        return "roles"
    if path.name in WAIVER_FILES:
        return "waivers"
    return "policy"


def validate_path(path: Path, now: datetime) -> Validated:
    """Check ``path`` (a directory or one file); :class:`ConfigError` at the first problem."""
    if path.is_file() and file_kind(path) == "roles":
        rbac = read_rbac(path)
        return Validated("roles", (("role", len(rbac.roles)), ("agent", len(rbac.agents))), (path,))
    if path.is_file() and file_kind(path) == "waivers":
        policy = load_policy(path.parent)
        waivers = read_waivers(path, policy, now)
        return Validated("waivers", (("waiver", len(waivers)),), (path,))
    if not path.exists():
        raise ConfigError("policy not found", where=str(path))
    policy = load_policy(path)
    files = list(policy.sources)
    waivers_path = waivers_file(path)
    waivers = () if waivers_path is None else read_waivers(waivers_path, policy, now)
    roles_path = rbac_file(path)
    roles = None if roles_path is None else read_rbac(roles_path)
    files += [f for f in (waivers_path, roles_path) if f is not None]
    counts = [
        ("gate", len(policy.gates)),
        ("environment", len(policy.environments)),
        ("waiver", len(waivers)),
    ]
    if roles is not None:
        counts.append(("role", len(roles.roles)))
    return Validated("policy", tuple(counts), tuple(files))
