"""The JSONL fast paths give the same gate decision as each other on damaged stores.

Random stores from ``tests/store/test_fast_path.py`` (hand-appended foreign and
damaged lines, torn tails, stale indexes) are gated with the sidecar index (when
current) and with the byte prefilters alone: the decisions, and the damaged
lines named, must agree; and a damaged line that holds a requested service and
the environment never lets a strict run pass.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.engine.evaluate import CheckRequest, evaluate
from gatekeeper.policy.loader import load_policy
from gatekeeper.policy.models import Policy
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.jsonl_index import INDEX
from tests.store.factories import T0
from tests.store.test_fast_path import ENVS, SERVICES, _damaged_gate_lines, build_store

POLICY_TEXT = """\
version: 1
environments: {prod: {strict: true}, staging: {strict: true}}
gates:
  followup_watch: {type: followup_watch, severities: [P0, P1, P2, P3, P4]}
  postmortem_required: {type: postmortem_required, severities: [P0, P1, P2, P3, P4]}
"""


def _policy() -> Policy:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gates.yml"
        path.write_text(POLICY_TEXT)
        return load_policy(path)


POLICY = _policy()


def _decisions(directory: Path, policy: Policy) -> dict[tuple[str, str], object]:
    """Per env and service: the gate decisions, and the damaged lines the read named."""
    out: dict[tuple[str, str], object] = {}
    for env in ENVS:
        request = CheckRequest(env=env, services=tuple(SERVICES), now=T0 + timedelta(days=1))
        report = evaluate(
            policy, request, lambda: JsonlIncidentStore(directory, on_problem=lambda _p: None)
        )
        skipped = report.store.skipped if report.store is not None else ()
        for service in SERVICES:
            decisions = {r.gate: r.decision for r in report.results_for(service)}
            out[(env, service)] = decisions
        out[(env, "*")] = sorted((p.path, p.line) for p in skipped)
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_index_and_prefilter_decide_alike_and_relevant_damage_never_passes(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    directory = tmp_path_factory.mktemp("store")
    build_store(directory, cast(st.DrawFn, data.draw))
    as_is = _decisions(directory, POLICY)
    (directory / INDEX).unlink(missing_ok=True)
    assert _decisions(directory, POLICY) == as_is
    for env in ENVS:
        if _damaged_gate_lines(directory, env, SERVICES):
            for service in SERVICES:
                decisions = as_is[(env, service)]
                assert isinstance(decisions, dict)
                assert "pass" not in decisions.values(), (env, service, decisions)
