"""The result of a gate run: one :class:`GateResult` per gate × service, and the verdict."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from gatekeeper._frozen import frozen
from gatekeeper.gates.base import Finding
from gatekeeper.policy.waivers import Waiver
from gatekeeper.store.base import Problem

Decision = Literal["pass", "warn", "block", "error"]
StrictSource = Literal["policy", "option", "default_environment"]

# The overall decision is the most severe result. A block outranks an error: a
# gate that could not be read does not make a known block any less certain.
DECISION_RANK: dict[str, int] = {"pass": 0, "warn": 1, "error": 2, "block": 3}


def most_severe(decisions: Iterable[Decision]) -> Decision:
    """The most severe of ``decisions`` by :data:`DECISION_RANK`; pass when there are none."""
    worst: Decision = "pass"
    for decision in decisions:
        if DECISION_RANK[decision] > DECISION_RANK[worst]:
            worst = decision
    return worst


EXIT_PASS = 0
EXIT_BLOCK = 1
EXIT_CONFIG = 2
EXIT_ERROR = 3
EXIT_CODES: dict[str, int] = {
    "pass": EXIT_PASS,
    "warn": EXIT_PASS,
    "block": EXIT_BLOCK,
    "error": EXIT_ERROR,
}


@frozen
class GateResult:
    """One gate for one service.

    ``decision`` is what counts; ``shadow_decision`` is what a ``mode: shadow``
    gate would have decided. ``waiver`` is the active waiver matching this gate,
    service and environment (``waiver_applied`` when it turned block into warn);
    ``override`` is true when break-glass turned this block into warn.
    """

    gate: str
    type: str
    service: str
    mode: str
    strict: bool
    decision: Decision
    reason: str
    findings: tuple[Finding, ...] = ()
    shadow_decision: Decision | None = None
    waiver: Waiver | None = None
    waiver_applied: bool = False
    override: bool = False
    error: str | None = None
    duration_ms: float = 0.0


@frozen
class Override:
    """A break-glass override for one run: who, why, what it changed, where it is recorded.

    ``no_strict`` marks a run softened by ``--no-strict`` on a strict environment;
    ``gates`` are those it softened, ``incidents`` the incidents behind their findings.
    """

    reason: str
    agent: str
    gates: tuple[str, ...] = ()
    incidents: tuple[str, ...] = ()
    no_strict: bool = False
    recorded: str | None = None


@frozen
class StoreState:
    """Which store answered the gate's read, and how far it can be trusted.

    ``error`` is set when the store could not be read at all; ``degraded`` when
    auto mode answered from its JSONL fallback; ``skipped`` lists the damaged
    records the read could not rule out; ``read`` is false when no gate read it
    (backend and location are then those the run was configured with).
    """

    backend: str
    location: str
    degraded: bool = False
    degraded_reason: str | None = None
    skipped: tuple[Problem, ...] = ()
    error: str | None = None
    read: bool = True


@frozen
class PolicySource:
    """A policy file the run read, with the sha256 of its bytes."""

    path: str
    sha256: str


@frozen
class Provenance:
    """What decided: the gatekeeper version, the policy files, where ``now`` came from."""

    version: str
    policy_files: tuple[PolicySource, ...] = ()
    now_from_option: bool = False


@frozen
class Report:
    """Everything a run found and decided; reports render it, never recompute it."""

    env: str
    env_listed: bool
    strict: bool
    strict_source: StrictSource
    services: tuple[str, ...]
    evaluated_at: datetime
    results: tuple[GateResult, ...]
    fail_on_warn: bool = False
    expired_waivers: tuple[Waiver, ...] = ()
    override: Override | None = None
    store: StoreState | None = None
    provenance: Provenance | None = None
    not_run: tuple[tuple[str, str], ...] = ()
    output_errors: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """A strict run of a ``--gate`` subset: gates that apply were not run."""
        return self.strict and bool(self.not_run)

    @property
    def decision(self) -> Decision:
        """The most severe result (block > error > warn > pass); pass when nothing ran."""
        return most_severe(r.decision for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 pass (or warn), 1 block (or warn with ``fail_on_warn``), 3 error.

        A report file that could not be written makes a 0 into 2, and never
        lowers a block's 1 or an error's 3.
        """
        decision = self.decision
        warn_fails = decision == "warn" and self.fail_on_warn
        code = EXIT_BLOCK if warn_fails else EXIT_CODES[decision]
        return EXIT_CONFIG if code == EXIT_PASS and self.output_errors else code

    def results_for(self, service: str) -> list[GateResult]:
        return [r for r in self.results if r.service == service]
