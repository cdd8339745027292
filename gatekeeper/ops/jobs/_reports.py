"""What the intelligence-backed jobs share: the policy's risk settings, JSON bytes."""

from __future__ import annotations

import json
from typing import Any

from gatekeeper.config import Settings
from gatekeeper.intelligence.policy_settings import risk_settings
from gatekeeper.intelligence.risk import RiskReport, compute_risk
from gatekeeper.ops.runner import JobContext


def risk_report(ctx: JobContext) -> RiskReport:
    """Every service and env's risk at ``--now``, with the policy's ``risk:`` settings."""
    return compute_risk(ctx.open_store(), policy_risk(ctx.settings), now=ctx.now)


def policy_risk(settings: Settings) -> Any:
    return risk_settings(settings.policy)


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
