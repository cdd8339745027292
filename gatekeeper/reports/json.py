"""The machine-readable report. Its keys are a stable, documented interface.

Top level: ``version`` (1), ``decision`` (pass/warn/block/error), ``exit_code``,
``env``, ``env_listed``, ``strict``, ``strict_source`` (policy/option/default_environment),
``fail_on_warn``, ``evaluated_at``, ``services``, ``override``,
``expired_waivers``, ``results``. Each result: ``gate``, ``type``, ``service``,
``mode``, ``strict``, ``decision``, ``shadow_decision``, ``reason``,
``findings`` (``kind``, ``incident_id``, ``followup_id``, ``severity``,
``owner``, ``due``, ``message``), ``waiver``, ``override``, ``error``,
``duration_ms``. See docs/policies.md.
"""

from __future__ import annotations

import json
from typing import Any

from gatekeeper.engine.report import GateResult, Report, StoreState
from gatekeeper.gates.base import Finding
from gatekeeper.timeutil import format_timestamp

SCHEMA_VERSION = 1


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    """The document; a machine report is never coloured nor shortened (the options are unused)."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON data."""
    override = report.override
    return {
        "version": SCHEMA_VERSION,
        "decision": report.decision,
        "exit_code": report.exit_code,
        "env": report.env,
        "env_listed": report.env_listed,
        "strict": report.strict,
        "strict_source": report.strict_source,
        "fail_on_warn": report.fail_on_warn,
        "evaluated_at": format_timestamp(report.evaluated_at),
        "services": list(report.services),
        "override": None
        if override is None
        else {
            "reason": override.reason,
            "agent": override.agent,
            "gates": list(override.gates),
            "incidents": list(override.incidents),
            "no_strict": override.no_strict,
            "recorded": override.recorded,
        },
        "partial": report.partial,
        "not_run": [{"gate": g, "service": s} for g, s in report.not_run],
        "output_errors": list(report.output_errors),
        "expired_waivers": [w.to_dict() for w in report.expired_waivers],
        "store": store_to_dict(report.store),
        "provenance": provenance_to_dict(report),
        "results": [result_to_dict(r) for r in report.results],
    }


def provenance_to_dict(report: Report) -> dict[str, Any] | None:
    """Version, policy files with sha256, and the evaluation time with its source."""
    source = report.provenance
    if source is None:
        return None
    return {
        "gatekeeper_version": source.version,
        "policy_files": [{"path": f.path, "sha256": f.sha256} for f in source.policy_files],
        "now": format_timestamp(report.evaluated_at),
        "now_from_option": source.now_from_option,
    }


def store_to_dict(store: StoreState | None) -> dict[str, Any] | None:
    """The store that answered, or would have (``read: false``) had a gate read it."""
    if store is None:
        return None
    return {
        "read": store.read,
        "backend": store.backend,
        "location": store.location,
        "degraded": store.degraded,
        "degraded_reason": store.degraded_reason,
        "error": store.error,
        "skipped": [{"path": p.path, "line": p.line, "reason": p.reason} for p in store.skipped],
    }


def result_to_dict(result: GateResult) -> dict[str, Any]:
    waiver = None
    if result.waiver is not None:
        waiver = {**result.waiver.to_dict(), "applied": result.waiver_applied}
    return {
        "gate": result.gate,
        "type": result.type,
        "service": result.service,
        "mode": result.mode,
        "strict": result.strict,
        "decision": result.decision,
        "shadow_decision": result.shadow_decision,
        "reason": result.reason,
        "findings": [finding_to_dict(f) for f in result.findings],
        "waiver": waiver,
        "override": result.override,
        "error": result.error,
        "duration_ms": result.duration_ms,
    }


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "incident_id": finding.incident_id,
        "followup_id": finding.followup_id,
        "severity": finding.severity,
        "owner": finding.owner,
        "due": format_timestamp(finding.due) if finding.due is not None else None,
        "message": finding.message,
    }
