"""Running the gates of a policy for some services in one environment.

The store is read once per run (:meth:`IncidentStore.gate_read`, one pass for
every service, as far back as the longest look-back of the selected gates) and
only when a selected gate reads it. Each gate then sees its service's record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from gatekeeper._frozen import frozen
from gatekeeper.engine.decision import ReadProblem, settle
from gatekeeper.engine.report import GateResult, Override, Report, StoreState, StrictSource
from gatekeeper.errors import ConfigError, GatekeeperError, StoreUnavailable
from gatekeeper.gates.base import Finding, GateConfig, GateContext
from gatekeeper.gates.registry import gate_type
from gatekeeper.models import NAME_RE
from gatekeeper.policy.models import Policy
from gatekeeper.policy.waivers import Waiver
from gatekeeper.store.base import GateRead, IncidentStore, Problem

StoreOpener = Callable[[], IncidentStore]


@frozen
class StoreFailure:
    """The gate's read failed; ``degraded`` when auto mode was on its fallback then."""

    error: StoreUnavailable
    degraded: bool = False


Records = GateRead | StoreFailure | None

# At most this many damaged records are named in a gate's reason (all are in the report).
NAMED_PROBLEMS = 5


@frozen
class CheckRequest:
    """What ``gatekeeper check`` was asked: where, for what, and how."""

    env: str
    services: tuple[str, ...]
    now: datetime
    gates: tuple[str, ...] = ()
    strict: bool | None = None
    fail_on_warn: bool = False
    override_reason: str | None = None
    agent: str | None = None
    backend: str = ""
    location: str = ""
    now_from_option: bool = False


@frozen
class _Planned:
    gate: str
    config: GateConfig
    service: str


def evaluate(
    policy: Policy,
    request: CheckRequest,
    open_store: StoreOpener,
    *,
    waivers: Sequence[Waiver] = (),
    override: Override | None = None,
) -> Report:
    """Run the selected gates for every requested service and build the report."""
    services = _checked_names(request)
    selected = selected_gates(policy, request.gates)
    strict, source = strictness(policy, request)
    plan = [
        _Planned(name, config, service)
        for service in services
        for name, config in selected.items()
        if config.applies_to(request.env, service)
    ]
    if strict:
        _require_coverage(services, plan, request)
    not_run = tuple(
        (name, service)
        for service in services
        for name, config in policy.gates.items()
        if name not in selected and config.applies_to(request.env, service)
    )
    records = read_records(open_store, plan, request)
    results = tuple(
        _run(item, request, strict, records, waivers, override is not None) for item in plan
    )
    return Report(
        env=request.env,
        env_listed=request.env in policy.environments,
        strict=strict,
        strict_source=source,
        services=services,
        evaluated_at=request.now,
        results=results,
        fail_on_warn=request.fail_on_warn,
        expired_waivers=_expired(waivers, request, services, selected),
        override=_override_summary(override, results),
        store=store_state(records, request),
        not_run=not_run,
    )


def selected_gates(policy: Policy, names: Sequence[str]) -> dict[str, GateConfig]:
    """The gates named with ``--gate`` (all without); :class:`ConfigError` for unknown names."""
    unknown = [n for n in names if n not in policy.gates]
    if unknown:
        known = ", ".join(policy.gates) or "none"
        raise ConfigError(f"unknown gate {unknown[0]!r}; the policy has: {known}", where="--gate")
    return {n: c for n, c in policy.gates.items() if not names or n in names}


def strictness(policy: Policy, request: CheckRequest) -> tuple[bool, StrictSource]:
    """The run's strictness and where it came from (option, policy or its default).

    An environment the policy does not list is a :class:`ConfigError` (a typo must
    not read as a lenient environment) unless the policy has ``default_environment``.
    """
    listed = request.env in policy.environments
    if not listed and policy.default_environment is None:
        known = ", ".join(sorted(policy.environments)) or "none"
        raise ConfigError(
            f"unknown environment {request.env!r}; the policy lists: {known} "
            "(or declare default_environment: {strict: ...})",
            where="--env",
        )
    if request.strict is not None:
        return request.strict, "option"
    return policy.is_strict(request.env), "policy" if listed else "default_environment"


def _require_coverage(
    services: Sequence[str], plan: Sequence[_Planned], request: CheckRequest
) -> None:
    """In a strict run every service needs a gate: nothing to say is not a pass."""
    covered = {p.service for p in plan}
    for service in services:
        if service not in covered:
            raise ConfigError(
                f"no gate applies to service {service!r} in strict env {request.env!r} "
                "(check the service name, or the gates' services/envs globs)",
                where="--service",
            )


def read_records(
    open_store: StoreOpener, plan: Sequence[_Planned], request: CheckRequest
) -> Records:
    """The store records the plan needs, in one pass; the error itself if unreadable."""
    lookbacks = [gate_type(p.config.type).lookback(p.config) for p in plan]
    needed = [lb for lb in lookbacks if lb is not None]
    if not needed:
        return None
    services = list(dict.fromkeys(p.service for p, lb in zip(plan, lookbacks, strict=True) if lb))
    store: IncidentStore | None = None
    try:
        store = open_store()
        return store.gate_read(request.env, services, request.now - max(needed))
    except StoreUnavailable as exc:
        return StoreFailure(exc, degraded=bool(getattr(store, "degraded", False)))


def store_state(records: Records, request: CheckRequest) -> StoreState:
    """What the report says about the store (the configured one when no gate read it)."""
    if records is None:
        return StoreState(request.backend, request.location, read=False)
    if isinstance(records, StoreFailure):
        return StoreState(
            request.backend, request.location, degraded=records.degraded, error=str(records.error)
        )
    return StoreState(
        backend=records.backend,
        location=records.location,
        degraded=records.degraded,
        degraded_reason=records.degraded_reason,
        skipped=records.skipped,
    )


def read_problem(read: GateRead) -> ReadProblem | None:
    """Why the gate cannot trust ``read``: degraded (``on_error``) or damaged (``on_corrupt``)."""
    if read.degraded:
        why = f" ({read.degraded_reason})" if read.degraded_reason else ""
        return ReadProblem(
            f"auto mode is serving from its JSONL fallback at {read.location}{why}, which may "
            "not hold what only PostgreSQL holds"
        )
    if read.skipped:
        return ReadProblem(damage_message(read.skipped), rule="on_corrupt")
    return None


def damage_message(skipped: Sequence[Problem]) -> str:
    """``2 damaged records skipped: a:3 (…), b:7 (…); …`` with the remedy."""
    named = ", ".join(f"{p.path}:{p.line} ({p.reason})" for p in skipped[:NAMED_PROBLEMS])
    more = f" and {len(skipped) - NAMED_PROBLEMS} more" if len(skipped) > NAMED_PROBLEMS else ""
    plural = "s" if len(skipped) != 1 else ""
    return (
        f"{len(skipped)} damaged record{plural} skipped: {named}{more}; "
        "`gatekeeper store verify` lists them, `gatekeeper store compact` rewrites the store"
    )


def _run(
    item: _Planned,
    request: CheckRequest,
    strict: bool,
    records: Records,
    waivers: Sequence[Waiver],
    override: bool,
) -> GateResult:
    started = time.perf_counter()
    findings, problem = _findings(item, request, records)
    waiver = next(
        (
            w
            for w in waivers
            if w.matches(item.gate, item.service, request.env) and w.is_active(request.now)
        ),
        None,
    )
    settled = settle(
        item.config,
        findings,
        env=request.env,
        strict=strict,
        problem=problem,
        waiver=waiver,
        override=override,
    )
    return GateResult(
        gate=item.gate,
        type=item.config.type,
        service=item.service,
        mode=item.config.mode,
        strict=strict,
        decision=settled.decision,
        reason=settled.reason,
        findings=tuple(findings),
        shadow_decision=settled.shadow_decision,
        waiver=waiver,
        waiver_applied=settled.waiver_applied,
        override=settled.override_applied,
        error=problem.message if problem is not None else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


def _findings(
    item: _Planned, request: CheckRequest, records: Records
) -> tuple[list[Finding], ReadProblem | None]:
    gate = gate_type(item.config.type)
    reads_store = gate.lookback(item.config) is not None
    if reads_store and isinstance(records, StoreFailure):
        return [], ReadProblem(str(records.error))
    problem = None
    record = None
    if reads_store and isinstance(records, GateRead):
        record = records.records.get(item.service)
        problem = read_problem(records)
    context = GateContext(env=request.env, service=item.service, now=request.now, record=record)
    try:
        return gate.evaluate(item.config, context), problem
    except GatekeeperError as exc:  # a gate that cannot decide is handled like a dead store
        return [], ReadProblem(str(exc))


def _checked_names(request: CheckRequest) -> tuple[str, ...]:
    for option, name in (("--env", request.env), *(("--service", s) for s in request.services)):
        if not NAME_RE.fullmatch(name):
            raise ConfigError(f"{name!r} must match {NAME_RE.pattern}", where=option)
    if not request.services:
        raise ConfigError("at least one service is needed", where="--service")
    return tuple(dict.fromkeys(request.services))


def _expired(
    waivers: Sequence[Waiver],
    request: CheckRequest,
    services: Sequence[str],
    selected: dict[str, GateConfig],
) -> tuple[Waiver, ...]:
    return tuple(
        w
        for w in waivers
        if w.is_expired(request.now)
        and w.env == request.env
        and w.service in services
        and w.gate in selected
    )


def _override_summary(override: Override | None, results: Sequence[GateResult]) -> Override | None:
    """What break-glass softened: overridden blocks, and with ``--no-strict`` every finding."""
    if override is None:
        return None
    softened = [
        r
        for r in results
        if r.override or (override.no_strict and r.findings and r.mode != "shadow")
    ]
    incidents = {f.incident_id: None for r in softened for f in r.findings if f.incident_id}
    return replace(
        override,
        gates=tuple(dict.fromkeys(r.gate for r in softened)),
        incidents=tuple(incidents),
    )
