"""Gate policies: loading and validating ``gates.yml``, ``waivers.yml`` and ``rbac.yml``.

The service layer reads the policy-wide settings from here, e.g.
``load_policy(path).followup_sla_days``. The names are imported on first use, so
that reading ``rbac.yml`` (every incident command) does not pay for the gate
types the policy loader imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekeeper.policy.loader import load_policy, policy_files
    from gatekeeper.policy.models import Environment, Policy
    from gatekeeper.policy.validate import validate_path
    from gatekeeper.policy.waivers import Waiver, load_waivers

_HOMES = {
    "Environment": "gatekeeper.policy.models",
    "Policy": "gatekeeper.policy.models",
    "Waiver": "gatekeeper.policy.waivers",
    "load_policy": "gatekeeper.policy.loader",
    "load_waivers": "gatekeeper.policy.waivers",
    "policy_files": "gatekeeper.policy.loader",
    "validate_path": "gatekeeper.policy.validate",
}

__all__ = [
    "Environment",
    "Policy",
    "Waiver",
    "load_policy",
    "load_waivers",
    "policy_files",
    "validate_path",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
