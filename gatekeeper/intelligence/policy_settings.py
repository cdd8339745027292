"""The ``risk:`` and ``correlation:`` sections of the policy at a path, or the defaults.

Like the follow-up SLA, the intelligence commands work without a policy: a
path that does not exist means the built-in defaults; a policy that exists but
is invalid is a configuration error as everywhere else.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.intelligence.settings import (
    DEFAULT_CORRELATION,
    DEFAULT_RISK,
    CorrelationSettings,
    RiskSettings,
)


def risk_settings(policy_path: Path) -> RiskSettings:
    if not policy_path.exists():
        return DEFAULT_RISK
    from gatekeeper.policy import load_policy

    return load_policy(policy_path).risk


def correlation_settings(policy_path: Path) -> CorrelationSettings:
    if not policy_path.exists():
        return DEFAULT_CORRELATION
    from gatekeeper.policy import load_policy

    return load_policy(policy_path).correlation
