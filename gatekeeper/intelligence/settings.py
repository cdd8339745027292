"""The policy's ``risk:`` and ``correlation:`` sections, with their documented defaults.

Both are plain pydantic models (unknown keys refused) so the policy loader can
validate them with file:line errors, and the analyses can take them directly.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Points = Annotated[float, Field(ge=0, le=100)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RiskPart(_Section):
    """A part of the risk score: its points per item (by severity or priority) and its cap."""

    weights: dict[str, Points]
    cap: Points


def _part(cap: float, **weights: float) -> RiskPart:
    return RiskPart(weights=weights, cap=cap)


class RiskBands(_Section):
    """Lower bounds of each band; below ``elevated`` is ``low``."""

    elevated: Points = 25
    high: Points = 50
    critical: Points = 75

    @model_validator(mode="after")
    def _ordered(self) -> RiskBands:
        if not self.elevated <= self.high <= self.critical:
            raise ValueError("bands must satisfy elevated <= high <= critical")
        return self

    def band(self, score: float) -> str:
        if score >= self.critical:
            return "critical"
        if score >= self.high:
            return "high"
        return "elevated" if score >= self.elevated else "low"


class RiskSettings(_Section):
    """How the 0-100 risk score of a service in an environment is made.

    ``window_days`` bounds the incidents read (active ones count whatever
    their age); recent incidents lose half their weight every
    ``half_life_days``; an overdue follow-up counts ``far_past_sla_factor``
    times its weight once it is late by more than its priority's SLA.
    """

    window_days: int = Field(default=30, ge=1, le=3650)
    half_life_days: float = Field(default=7, gt=0, le=365)
    far_past_sla_factor: float = Field(default=2, ge=1, le=10)
    far_past_days: dict[str, int] = Field(
        default_factory=lambda: {"P0": 3, "P1": 7, "P2": 14, "P3": 30}
    )
    postmortem_grace_days: int = Field(default=5, ge=0, le=365)
    recurring_count: int = Field(default=3, ge=2, le=1000)
    active_incidents: RiskPart = _part(60, P0=40, P1=25, P2=10, P3=4, P4=1)
    recent_incidents: RiskPart = _part(20, P0=8, P1=5, P2=2, P3=1, P4=0)
    overdue_followups: RiskPart = _part(30, P0=10, P1=6, P2=3, P3=1)
    missing_postmortems: RiskPart = _part(20, P0=10, P1=10)
    recurrence_without_fix: RiskPart = _part(20, group=10)
    bands: RiskBands = RiskBands()


class CorrelationWeights(_Section):
    """Points of each part of a correlation score; they are scaled to sum to 1."""

    same_service: float = Field(default=0.25, ge=0)
    same_env: float = Field(default=0.10, ge=0)
    time_proximity: float = Field(default=0.25, ge=0)
    title_similarity: float = Field(default=0.20, ge=0)
    shared_labels: float = Field(default=0.10, ge=0)
    shared_fingerprint: float = Field(default=0.10, ge=0)


class CorrelationSettings(_Section):
    """How related incidents are found: the window read, the decay, the cut-off."""

    window_days: int = Field(default=7, ge=1, le=365)
    proximity_half_life_hours: float = Field(default=6, gt=0, le=24 * 365)
    min_score: float = Field(default=0.3, ge=0, le=1)
    limit: int = Field(default=10, ge=1, le=1000)
    weights: CorrelationWeights = CorrelationWeights()

    @model_validator(mode="after")
    def _some_weight(self) -> CorrelationSettings:
        if sum(self.weights.model_dump().values()) <= 0:
            raise ValueError("at least one correlation weight must be positive")
        return self


DEFAULT_RISK = RiskSettings()
DEFAULT_CORRELATION = CorrelationSettings()
