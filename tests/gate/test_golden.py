"""Every report format against golden files in tests/gate/golden/.

Regenerate after an intended change with::

    GATEKEEPER_REGEN_GOLDEN=1 .venv/bin/pytest tests/gate/test_golden.py

and review the diff. JUnit output is also validated against both XSDs.
"""

from __future__ import annotations

import dataclasses
import os
import re
import textwrap
import xml.etree.ElementTree as ET
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
import xmlschema

from gatekeeper.engine import CheckRequest, Report, run_check
from gatekeeper.errors import StoreUnavailable
from gatekeeper.reports import FORMATS, render
from gatekeeper.store.base import IncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.conftest import NOW
from tests.gate import factories
from tests.gate.conftest import SCHEMAS

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("GATEKEEPER_REGEN_GOLDEN") == "1"
EXTENSIONS = {"text": "txt", "json": "json", "junit": "xml", "markdown": "md", "github": "txt"}

POLICY = """\
version: 1
environments:
  dev: {strict: false}
  prod: {strict: true}
gates:
  followup_watch: {type: followup_watch}
  postmortem_required: {type: postmortem_required, grace_days: 5}
  release_freeze:
    type: freeze_window
    mode: warn
    timezone: Europe/Kyiv
    windows:
      - {name: spring-migration, from: "2026-03-01T00:00:00Z", to: "2026-03-03T00:00:00Z"}
  weekday_freeze:
    type: freeze_window
    mode: shadow
    windows: [{name: mondays, weekly: {days: [mon]}}]
"""

WAIVERS = """\
- {gate: postmortem_required, service: payments, env: prod, reason: "postmortem | in review",
   ticket: PAY-9, approved_by: sofiia, approved_at: "2026-02-28T00:00:00Z",
   expires_at: "2026-03-05T00:00:00Z"}
- {gate: followup_watch, service: checkout, env: prod, reason: old exception,
   ticket: OPS-7, approved_by: helion, approved_at: "2026-02-01T00:00:00Z",
   expires_at: "2026-02-10T00:00:00Z"}
"""

SCENARIOS: dict[str, dict[str, object]] = {
    "prod_block": {"env": "prod"},
    "dev_fail_on_warn": {"env": "dev", "fail_on_warn": True},
    "store_error": {"env": "prod", "store": "missing"},
    "override": {"env": "prod", "override_reason": "hotfix for INC-1", "agent": "sofiia"},
    # User text that must stay text in every human report, and times with microseconds.
    "hostile_text": {"env": "prod", "seed": "hostile", "now": NOW + timedelta(microseconds=654321)},
}
HOSTILE_TITLE = "<img src=x onerror=alert(1)> | `rm -rf /` *bold* _em_ [link](http://x) & ~del~"


def _seed(store_dir: Path) -> None:
    active = factories.incident(suffix="chk001", title="Checkout | 5xx above 5%")
    resolved = factories.incident(
        service="payments", status="resolved", suffix="pay001", title="Card auth timeouts",
        started_at=NOW - timedelta(days=12), owner=None,
    )  # fmt: skip
    dev = factories.incident(env="dev", suffix="dev001", title="Staging-like outage in dev")
    factories.write(
        store_dir,
        [active, resolved, dev],
        [
            factories.followup(active, followup_id="fu_chk00001", owner="bob", due="2026-02-25"),
            factories.followup(dev, followup_id="fu_dev00001", owner="carol", due="2026-02-27"),
        ],
    )


def _seed_hostile(store_dir: Path) -> None:
    active = factories.incident(
        suffix="evl001", title=HOSTILE_TITLE, owner="<b>eve</b>",
        started_at=NOW - timedelta(days=2, microseconds=-123456),
    )  # fmt: skip
    factories.write(
        store_dir,
        [active],
        [
            factories.followup(
                active, followup_id="fu_evl00001", owner="mallory|ops", due="2026-02-25",
                title="fix ``the`` <script>alert(1)</script> parser",
            )
        ],
    )  # fmt: skip


def _unavailable() -> IncidentStore:
    raise StoreUnavailable("connection refused", where="postgresql://db.internal/incidents")


@cache
def _report(scenario: str, root: Path) -> Report:
    options = dict(SCENARIOS[scenario])
    base = root / scenario
    policy = base / "policies"
    policy.mkdir(parents=True)
    (policy / "gates.yml").write_text(POLICY)
    (policy / "waivers.yml").write_text(textwrap.dedent(WAIVERS))
    store_dir = base / "store"
    opener = _unavailable
    seed = _seed_hostile if options.pop("seed", None) == "hostile" else _seed
    if options.pop("store", None) != "missing":
        store_dir.mkdir()
        seed(store_dir)
        opener = lambda: JsonlIncidentStore(store_dir)  # noqa: E731
    request = CheckRequest(
        services=("checkout", "payments", "search"),
        now=options.pop("now", NOW),  # type: ignore[arg-type]
        backend="jsonl",
        location="ops/incidents",
        now_from_option=True,
        **options,  # type: ignore[arg-type]
    )
    report = run_check(policy, request, opener)
    results = tuple(dataclasses.replace(r, duration_ms=0.0) for r in report.results)
    store = report.store
    if store is not None and store.location == str(store_dir):  # stable across machines
        store = dataclasses.replace(store, location="ops/incidents")
    assert report.provenance is not None
    files = tuple(
        dataclasses.replace(f, path=str(Path(f.path).relative_to(base)))
        for f in report.provenance.policy_files
    )
    source = dataclasses.replace(report.provenance, policy_files=files, version="0.0.0")
    return dataclasses.replace(report, results=results, store=store, provenance=source)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("golden")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_golden(root: Path, scenario: str, fmt: str) -> None:
    output = render(_report(scenario, root), fmt)
    path = GOLDEN / f"{scenario}.{fmt}.{EXTENSIONS[fmt]}"
    if REGENERATE:
        path.write_text(output, encoding="utf-8")
    assert path.exists(), f"missing {path}; regenerate with GATEKEEPER_REGEN_GOLDEN=1"
    assert output == path.read_text(encoding="utf-8")


COLOR_SCENARIOS = ("prod_block", "dev_fail_on_warn", "store_error")


@pytest.mark.parametrize("scenario", COLOR_SCENARIOS)
def test_golden_text_in_colour(root: Path, scenario: str) -> None:
    """The text report as a terminal gets it: the same lines, decisions painted with ANSI."""
    output = render(_report(scenario, root), "text", color=True)
    path = GOLDEN / f"{scenario}.text-color.txt"
    if REGENERATE:
        path.write_text(output, encoding="utf-8")
    assert path.exists(), f"missing {path}; regenerate with GATEKEEPER_REGEN_GOLDEN=1"
    assert output == path.read_text(encoding="utf-8")
    plain = render(_report(scenario, root), "text")
    assert re.sub(r"\x1b\[[0-9;]*m", "", output) == plain  # colour adds nothing else
    assert "\x1b[" not in plain


@pytest.mark.parametrize("xsd", ["junit-jenkins-10.xsd", "junit-windyroad.xsd"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_junit_is_valid_against_both_schemas(root: Path, scenario: str, xsd: str) -> None:
    schema = xmlschema.XMLSchema(str(SCHEMAS / xsd))
    schema.validate(render(_report(scenario, root), "junit"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_junit_testcases_are_unique_and_named_by_env_and_service(root: Path, scenario: str) -> None:
    report = _report(scenario, root)
    tree = ET.fromstring(render(report, "junit"))
    suites = tree.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        f"gatekeeper.{report.env}.{s}" for s in ("checkout", "payments", "search")
    ]
    pairs = [(c.get("classname"), c.get("name")) for c in tree.iter("testcase")]
    assert len(pairs) == len(set(pairs)) == len(report.results)
    for suite in suites:
        assert {c.get("classname") for c in suite.iter("testcase")} == {suite.get("name")}


def test_junit_maps_decisions_to_elements(root: Path) -> None:
    def elements(scenario: str) -> dict[tuple[str, str], str]:
        tree = ET.fromstring(render(_report(scenario, root), "junit"))
        return {
            (c.get("classname", "").rsplit(".", 1)[1], c.get("name", "")): (
                f"{c[0].tag}:{c[0].get('type', '')}" if len(c) else "pass"
            )
            for c in tree.iter("testcase")
        }

    prod = elements("prod_block")
    assert prod[("checkout", "followup_watch")] == "failure:block"
    assert prod[("payments", "postmortem_required")] == "skipped:"  # waived: warn
    assert prod[("search", "followup_watch")] == "pass"
    assert prod[("search", "weekday_freeze")] == "pass"  # shadow never changes anything
    assert elements("dev_fail_on_warn")[("checkout", "followup_watch")] == "failure:warn"
    assert elements("store_error")[("checkout", "followup_watch")] == "error:error"


def test_block_failure_text_lists_every_finding(root: Path) -> None:
    tree = ET.fromstring(render(_report("prod_block", root), "junit"))
    (failure,) = [
        c.find("failure")
        for c in tree.iter("testcase")
        if c.get("name") == "followup_watch" and c.get("classname", "").endswith("checkout")
    ]
    assert failure is not None
    assert "inc_20260228_1200_chk001" in (failure.text or "")
    assert "fu_chk00001" in (failure.text or "")
    assert (failure.get("message") or "").startswith("block: 2 findings")
