"""Settings: every one an environment variable and a global CLI option (see README.md, Settings).

The option wins over the variable, which wins over the default. Relative paths
resolve against the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from gatekeeper._frozen import frozen
from gatekeeper.errors import ConfigError, InvalidInput
from gatekeeper.timeutil import parse_timestamp, utcnow

# The store backends, by name: the one list that --backend, INCIDENT_BACKEND and
# gatekeeper.store.OPENERS derive from.
BACKENDS = ("jsonl", "postgres", "auto")

# variable name -> (settings field, default)
ENVIRONMENT: Mapping[str, tuple[str, str | None]] = {
    "INCIDENT_BACKEND": ("backend", "jsonl"),
    "DATABASE_URL": ("database_url", None),
    "INCIDENT_JSONL_DIR": ("store_dir", "ops/incidents"),
    "INCIDENT_ARTIFACTS_DIR": ("artifacts_dir", None),
    "INCIDENT_AUTO_RETRY_S": ("auto_retry_s", "300"),
    "GATEKEEPER_POLICY": ("policy", "policies"),
    "GATEKEEPER_AGENT": ("agent", None),
    "GATEKEEPER_KEYS_FILE": ("keys_file", "ops/api_keys.json"),
    "GATEKEEPER_NOW": ("now", None),
}


@frozen
class Settings:
    backend: str = "jsonl"
    database_url: str | None = None
    store_dir: Path = Path("ops/incidents")
    artifacts_dir: Path = Path("ops/incidents")
    auto_retry_s: float = 300.0
    policy: Path = Path("policies")
    agent: str | None = None
    keys_file: Path = Path("ops/api_keys.json")
    now: datetime | None = None

    def current_time(self) -> datetime:
        """``--now`` / ``GATEKEEPER_NOW`` when given, else the clock."""
        return self.now if self.now is not None else utcnow()


def load_settings(environ: Mapping[str, str] | None = None, **options: str | None) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) and CLI ``options``.

    ``options`` are keyed by settings field name; ``None`` means "not given".
    """
    env = os.environ if environ is None else environ
    raw: dict[str, str | None] = {}
    for variable, (name, default) in ENVIRONMENT.items():
        given = options.get(name)
        value = env.get(variable) or None
        raw[name] = given if given is not None else value if value is not None else default
    artifacts = raw["artifacts_dir"] or raw["store_dir"]
    backend = (raw["backend"] or "jsonl").lower()
    if backend not in BACKENDS:
        raise ConfigError(
            f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}",
            where="INCIDENT_BACKEND/--backend",
        )
    return Settings(
        backend=backend,
        database_url=raw["database_url"],
        store_dir=Path(str(raw["store_dir"])),
        artifacts_dir=Path(str(artifacts)),
        auto_retry_s=_seconds(raw["auto_retry_s"]),
        policy=Path(str(raw["policy"])),
        agent=raw["agent"],
        keys_file=Path(str(raw["keys_file"])),
        now=_now(raw["now"]),
    )


def _seconds(value: str | None) -> float:
    try:
        seconds = float(value or "300")
    except ValueError:
        raise ConfigError(
            f"not a number of seconds: {value!r}", where="INCIDENT_AUTO_RETRY_S"
        ) from None
    if seconds < 0:
        raise ConfigError("must not be negative", where="INCIDENT_AUTO_RETRY_S")
    return seconds


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value, field="--now")
    except InvalidInput as exc:
        raise ConfigError(exc.message, where="--now/GATEKEEPER_NOW") from None
