"""Gate policies: loading and validating ``gates.yml`` and ``waivers.yml``.

The service layer reads the policy-wide settings from here, e.g.
``load_policy(path).followup_sla_days``.
"""

from __future__ import annotations

from gatekeeper.policy.loader import load_policy, policy_files
from gatekeeper.policy.models import Environment, Policy
from gatekeeper.policy.waivers import Waiver, load_waivers

__all__ = ["Environment", "Policy", "Waiver", "load_policy", "load_waivers", "policy_files"]
