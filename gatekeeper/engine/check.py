"""``gatekeeper check`` as one library call: policy, waivers, override, gates, audit."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.engine.evaluate import CheckRequest, StoreOpener, evaluate
from gatekeeper.engine.override import authorize_override, record_override
from gatekeeper.engine.report import Report
from gatekeeper.policy.loader import load_policy
from gatekeeper.policy.waivers import load_waivers


def run_check(policy_path: Path, request: CheckRequest, open_store: StoreOpener) -> Report:
    """Load the policy at ``policy_path``, run the gates and record any override.

    ``open_store`` is called only if a gate reads the store or an override must
    be recorded, so a freeze-window-only run never touches it.
    """
    policy = load_policy(policy_path)
    waivers = load_waivers(policy_path, policy, request.now)
    override = None
    if request.override_reason is not None:
        override = authorize_override(policy_path, request.agent, request.override_reason)
    report = evaluate(policy, request, open_store, waivers=waivers, override=override)
    if report.override is not None and report.override.incidents:
        record_override(open_store(), report, request.now)
    return report
