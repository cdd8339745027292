"""The policy as validated data: environments, gates and the policy-wide settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gatekeeper.followups import DEFAULT_SLA_DAYS
from gatekeeper.gates.base import GateConfig
from gatekeeper.intelligence.settings import (
    DEFAULT_CORRELATION,
    DEFAULT_RISK,
    CorrelationSettings,
    RiskSettings,
)
from gatekeeper.models import FollowupPriority

DEFAULT_MAX_WAIVER_DAYS = 14


class Environment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strict: bool = False
    description: str = ""


class PolicyFile(BaseModel):
    """The top level of one policy file; ``gates`` are validated per type afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    triage: dict[str, Any] | None = None  # validated by gatekeeper.ops.alerts.policy

    version: Literal[1]
    environments: dict[str, Environment] = Field(default_factory=dict)
    gates: dict[str, dict[str, Any]] = Field(default_factory=dict)
    max_waiver_days: int | None = Field(default=None, ge=1, le=365)
    followup_sla_days: dict[FollowupPriority, int] | None = None
    default_environment: Environment | None = None
    risk: RiskSettings | None = None
    correlation: CorrelationSettings | None = None


@dataclass(frozen=True)
class Policy:
    """The effective policy: every file merged, defaults filled in.

    ``locations`` gives ``file:line`` of each gate (for messages); ``sources``
    the files read, in order.
    """

    environments: Mapping[str, Environment]
    gates: Mapping[str, GateConfig]
    max_waiver_days: int = DEFAULT_MAX_WAIVER_DAYS
    followup_sla_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SLA_DAYS))
    risk: RiskSettings = DEFAULT_RISK
    correlation: CorrelationSettings = DEFAULT_CORRELATION
    sources: tuple[Path, ...] = ()
    locations: Mapping[str, str] = field(default_factory=dict)
    default_environment: Environment | None = None

    def is_strict(self, env: str) -> bool:
        """Whether ``env`` is strict; an unlisted one as ``default_environment`` says (else not)."""
        listed = self.environments.get(env, self.default_environment)
        return listed is not None and listed.strict

    def to_dict(self) -> dict[str, Any]:
        """The effective policy as plain data (``policy show``), defaults included."""
        return {
            "version": 1,
            "environments": {n: e.model_dump(mode="json") for n, e in self.environments.items()},
            "gates": {n: g.model_dump(mode="json", by_alias=True) for n, g in self.gates.items()},
            "max_waiver_days": self.max_waiver_days,
            "followup_sla_days": dict(self.followup_sla_days),
            "default_environment": None
            if self.default_environment is None
            else self.default_environment.model_dump(mode="json"),
            "risk": self.risk.model_dump(mode="json"),
            "correlation": self.correlation.model_dump(mode="json"),
            "sources": [str(p) for p in self.sources],
        }
