"""``risk_threshold``: the service's risk score against a warn and a block threshold.

The score is :func:`gatekeeper.intelligence.risk.score_record` over the
service's record in the environment, with the policy's ``risk:`` section (or
the gate's own ``risk:``, which wins). Findings:

* ``risk_score`` at or above ``block_at`` (level block), or at or above
  ``warn_at`` (level warn: it never blocks on its own); the message carries
  the score, the band and the parts, largest first — what would clear it;
* ``risk_veto`` for every active incident whose severity is in
  ``veto_severities``: it blocks whatever the total.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from gatekeeper.gates.base import Finding, GateConfig, GateContext
from gatekeeper.intelligence.risk import ServiceRisk, score_record
from gatekeeper.intelligence.settings import DEFAULT_RISK, RiskSettings
from gatekeeper.models import Severity
from gatekeeper.timeutil import format_second


class RiskThresholdConfig(GateConfig):
    type: Literal["risk_threshold"] = "risk_threshold"
    warn_at: float = Field(default=50, ge=0, le=100)
    block_at: float = Field(default=80, ge=0, le=100)
    veto_severities: tuple[Severity, ...] = ()
    risk: RiskSettings | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RiskThresholdConfig:
        if self.warn_at > self.block_at:
            raise ValueError("warn_at must not be above block_at")
        return self

    @property
    def settings(self) -> RiskSettings:
        return self.risk if self.risk is not None else DEFAULT_RISK


class RiskThreshold:
    config_model = RiskThresholdConfig

    def lookback(self, config: RiskThresholdConfig) -> timedelta:
        return timedelta(days=config.settings.window_days)

    def evaluate(self, config: RiskThresholdConfig, context: GateContext) -> list[Finding]:
        record = context.store_record()
        risk = score_record(record, config.settings, now=context.now)
        vetoes = [
            Finding(
                kind="risk_veto",
                incident_id=i.id,
                severity=i.severity,
                owner=i.labels.get("owner"),
                message=(
                    f"{i.severity} incident {i.id} is {i.status} since "
                    f"{format_second(i.started_at)}: a {i.severity} vetoes the release "
                    f"whatever the risk score ({risk.score:g}): {i.title}"
                ),
            )
            for i in sorted(record.incidents, key=lambda i: (i.severity, i.started_at, i.id))
            if i.active and i.severity in config.veto_severities
        ]
        if risk.score >= config.block_at:
            return [score_finding(risk, config, "block"), *vetoes]
        if risk.score >= config.warn_at:
            return [score_finding(risk, config, "warn"), *vetoes]
        return vetoes


def score_finding(
    risk: ServiceRisk, config: RiskThresholdConfig, level: Literal["warn", "block"]
) -> Finding:
    """The score finding: the total, the threshold crossed and the parts, largest first."""
    threshold = (
        f"block_at {config.block_at:g}" if level == "block" else f"warn_at {config.warn_at:g}"
    )
    parts = ", ".join(
        f"{p.name} {p.points:g}/{p.cap:g} ({', '.join(p.evidence[:5])}"
        f"{', …' if len(p.evidence) > 5 else ''})"
        for p in risk.largest_parts(len(risk.parts))
    )
    return Finding(
        kind="risk_score",
        level=level,
        message=(
            f"risk score {risk.score:g}/100 ({risk.band}) for {risk.service} in {risk.env} "
            f"is at or above {threshold}; largest parts: {parts}"
        ),
    )


GATE_TYPE = RiskThreshold()
