"""``gatekeeper check`` as one library call: policy, waivers, override, gates, audit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gatekeeper.engine.evaluate import CheckRequest, StoreOpener, evaluate
from gatekeeper.engine.override import authorize_override
from gatekeeper.engine.provenance import provenance
from gatekeeper.engine.report import Override, Report
from gatekeeper.errors import EvaluationError, GatekeeperError
from gatekeeper.policy.loader import load_policy
from gatekeeper.policy.models import Policy
from gatekeeper.policy.waivers import load_waivers


def run_check(policy_path: Path, request: CheckRequest, open_store: StoreOpener) -> Report:
    """Load the policy at ``policy_path``, run the gates and record any break-glass.

    ``open_store`` is called only if a gate reads the store or an override must
    be recorded, so a freeze-window-only run never touches it. A refused
    override (or ``--no-strict`` on a strict env without one) is a
    :class:`ConfigError` raised before any gate runs.
    """
    policy = load_policy(policy_path)
    waivers = load_waivers(policy_path, policy, request.now)
    override = break_glass(policy_path, policy, request)
    report = evaluate(policy, request, open_store, waivers=waivers, override=override)
    source = provenance(policy_path, policy, now_from_option=request.now_from_option)
    report = replace(report, provenance=source)
    if report.override is not None:
        from gatekeeper.engine.audit import record_break_glass  # a write: only for break-glass

        try:
            recorded = record_break_glass(open_store(), report, request.now)
        except GatekeeperError as exc:
            # An unrecorded break-glass never lets a release through.
            if report.exit_code == 0:
                raise EvaluationError(f"break-glass could not be recorded: {exc}") from exc
            recorded = f"NOT recorded: {exc}"
        report = replace(report, override=replace(report.override, recorded=recorded))
    return report


def break_glass(policy_path: Path, policy: Policy, request: CheckRequest) -> Override | None:
    """The authorised override of this run, if it asks for one (or softens a strict env)."""
    softens = (
        request.strict is False
        and (request.env in policy.environments or policy.default_environment is not None)
        and policy.is_strict(request.env)
    )
    if request.override_reason is None and not softens:
        return None
    return authorize_override(
        policy_path,
        request.agent,
        request.override_reason,
        no_strict_env=request.env if softens else None,
    )
