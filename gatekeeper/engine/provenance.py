"""Where a gate decision came from, so a release can be audited afterwards.

Every report carries the gatekeeper version, the policy files that decided
(with their sha256), the evaluation time and whether it came from ``--now``;
the store that answered is :class:`~gatekeeper.engine.report.StoreState`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gatekeeper import __version__
from gatekeeper.engine.report import PolicySource, Provenance
from gatekeeper.errors import ConfigError
from gatekeeper.policy.models import Policy
from gatekeeper.policy.paths import rbac_file
from gatekeeper.policy.waivers import waivers_file


def provenance(policy_path: Path, policy: Policy, *, now_from_option: bool) -> Provenance:
    """The version, the gate, waiver and role files read (with sha256), the time's source."""
    files = list(policy.sources)
    waivers = waivers_file(policy_path)
    roles = rbac_file(policy_path)
    files += [f for f in (waivers, roles) if f is not None and f not in files]
    return Provenance(
        version=__version__,
        policy_files=tuple(PolicySource(str(f), _sha256(f)) for f in files),
        now_from_option=now_from_option,
    )


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigError(f"cannot read policy file: {exc.strerror}", where=str(path)) from exc


def store_location(backend: str, store_dir: Path, database_url: str | None) -> str:
    """The store a run would read, safe to print: a directory, or a URL without password."""
    if backend == "jsonl" or not database_url:
        return str(store_dir)
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url if "://" in database_url else "postgres (key=value DSN)"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))
