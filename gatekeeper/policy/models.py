"""The policy as validated data: environments, gates and the policy-wide settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gatekeeper._frozen import frozen
from gatekeeper.followups import DEFAULT_SLA_DAYS
from gatekeeper.gates.base import GateConfig
from gatekeeper.models import FollowupPriority

if TYPE_CHECKING:  # six models, built only for a policy that has the sections (or asks for them)
    from gatekeeper.intelligence.settings import CorrelationSettings, RiskSettings

DEFAULT_MAX_WAIVER_DAYS = 14


class Environment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strict: bool = False
    description: str = ""


INTELLIGENCE_SECTIONS = ("risk", "correlation")


class PolicyFile(BaseModel):
    """The top level of one policy file; ``gates`` are validated per type afterwards.

    A file with a ``risk:`` or ``correlation:`` section is validated by
    :func:`policy_file_model`'s subclass, which adds the two sections as the
    last fields; a file without them validates the same with either.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    triage: dict[str, Any] | None = None  # validated by gatekeeper.ops.alerts.policy

    version: Literal[1]
    environments: dict[str, Environment] = Field(default_factory=dict)
    gates: dict[str, dict[str, Any]] = Field(default_factory=dict)
    max_waiver_days: int | None = Field(default=None, ge=1, le=365)
    followup_sla_days: dict[FollowupPriority, int] | None = None
    default_environment: Environment | None = None


def policy_file_model(data: Mapping[str, Any]) -> type[PolicyFile]:
    """The model for the policy file ``data``: with the intelligence sections if it has one."""
    if not any(name in data for name in INTELLIGENCE_SECTIONS):
        return PolicyFile
    from gatekeeper.policy.sections import PolicyFileWithSections

    return PolicyFileWithSections


@frozen
class Policy:
    """The effective policy: every file merged, defaults filled in.

    ``locations`` gives ``file:line`` of each gate (for messages); ``sources``
    the files read, in order. ``risk_section`` and ``correlation_section`` are
    the policy's own ``risk:`` and ``correlation:`` (``None`` when not set);
    :attr:`risk` and :attr:`correlation` are those or the documented defaults.
    """

    environments: Mapping[str, Environment]
    gates: Mapping[str, GateConfig]
    max_waiver_days: int = DEFAULT_MAX_WAIVER_DAYS
    followup_sla_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SLA_DAYS))
    risk_section: RiskSettings | None = None
    correlation_section: CorrelationSettings | None = None
    sources: tuple[Path, ...] = ()
    locations: Mapping[str, str] = field(default_factory=dict)
    default_environment: Environment | None = None

    @property
    def risk(self) -> RiskSettings:
        """The ``risk:`` section, or its defaults."""
        if self.risk_section is not None:
            return self.risk_section
        from gatekeeper.intelligence.settings import DEFAULT_RISK

        return DEFAULT_RISK

    @property
    def correlation(self) -> CorrelationSettings:
        """The ``correlation:`` section, or its defaults."""
        if self.correlation_section is not None:
            return self.correlation_section
        from gatekeeper.intelligence.settings import DEFAULT_CORRELATION

        return DEFAULT_CORRELATION

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
