"""``registry_sync``: the job registry and the cron file agree.

Options ``registry`` and ``cron`` (paths, relative to the working directory;
defaults ``ops/task_registry.yml`` and ``ops/cron/jobs.cron``). Each difference
``jobs check-sync`` would list is one finding; an unreadable or invalid file
makes the gate unable to decide (fail closed in strict environments). It never
reads the incident store.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from gatekeeper.errors import ConfigError, EvaluationError
from gatekeeper.gates.base import Finding, GateConfig, GateContext


class RegistrySyncConfig(GateConfig):
    type: Literal["registry_sync"] = "registry_sync"
    registry: str = "ops/task_registry.yml"
    cron: str = "ops/cron/jobs.cron"


class RegistrySync:
    config_model = RegistrySyncConfig

    def lookback(self, config: RegistrySyncConfig) -> timedelta | None:
        return None

    def evaluate(self, config: RegistrySyncConfig, context: GateContext) -> list[Finding]:
        from gatekeeper.ops.cron import parse_cron_file
        from gatekeeper.ops.registry import load_registry
        from gatekeeper.ops.sync import check_sync

        try:
            registry = load_registry(Path(config.registry))
            cron = Path(config.cron)
            drifts = check_sync(registry, cron, parse_cron_file(cron))
        except ConfigError as exc:
            raise EvaluationError(f"cannot compare the registry and the cron file: {exc}") from exc
        return [Finding(kind=f"registry_{d.kind}", message=d.message) for d in drifts]


GATE_TYPE = RegistrySync()
