"""JUnit XML: one ``<testsuite>`` per service, one ``<testcase>`` per gate.

Suites are named ``gatekeeper.<env>.<service>``; each testcase has that as its
``classname`` and the gate as ``name``, so (classname, name) is unique and
stable across runs. block → ``<failure type="block">`` listing every finding;
warn → ``<skipped message="warn: ...">`` (not red on dashboards), or
``<failure type="warn">`` under ``--fail-on-warn``; error → ``<error>``; pass →
an empty testcase. The text of a failure, error or skip ends with what would
clear that result (the follow-ups to close, the waiver, the override command).

The testcases are built with ``junit_xml``; the document is then shaped to be
valid against both the Jenkins (surefire) and the Windy Road (Ant) schemas,
which are stricter than what ``junit_xml`` writes: no ``disabled`` attribute,
``skipped`` without ``type``, every testcase with a ``time``, every suite with
``properties``/``system-out``/``system-err`` in that order, ``id``/``package`` on
suites and a zone-less ``timestamp``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from junit_xml import TestCase, TestSuite

from gatekeeper.engine.report import GateResult, Report
from gatekeeper.reports._common import finding_line, result_actions
from gatekeeper.timeutil import format_timestamp

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    """The document; a machine report is never coloured nor shortened (the options are unused)."""
    root = ET.Element("testsuites")
    for index, service in enumerate(report.services):
        root.append(_suite(report, service, index))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def suite_name(report: Report, service: str) -> str:
    return f"gatekeeper.{report.env}.{service}"


def _suite(report: Report, service: str, index: int) -> ET.Element:
    name = suite_name(report, service)
    cases = [_case(result, report, name) for result in report.results_for(service)]
    for gate, _ in (pair for pair in report.not_run if pair[1] == service):
        case = TestCase(gate, classname=name, elapsed_sec=0.0)
        case.add_skipped_info(message="not run: --gate selected a subset of the gates")
        cases.append(case)
    suite = TestSuite(
        name,
        cases,
        hostname="localhost",
        id=str(index),
        package=name,
        timestamp=report.evaluated_at.strftime("%Y-%m-%dT%H:%M:%S"),
        properties=properties(report),
    )
    element: ET.Element = suite.build_xml_doc()
    element.attrib.pop("disabled", None)
    element.set("time", _seconds(sum(r.duration_ms for r in report.results_for(service))))
    if element.find("properties") is None:
        element.insert(0, ET.Element("properties"))
    for case in element.iter("testcase"):
        case.set("time", case.get("time", _seconds(0)))
    for skipped in element.iter("skipped"):
        skipped.attrib.pop("type", None)
    ET.SubElement(element, "system-out")
    ET.SubElement(element, "system-err")
    return element


def properties(report: Report) -> dict[str, str]:
    """The suite's properties: the run's settings and its provenance."""
    props = {
        "env": report.env,
        "strict": str(report.strict).lower(),
        "partial": str(report.partial).lower(),
    }
    source = report.provenance
    if source is not None:
        props["gatekeeper.version"] = source.version
        for index, file in enumerate(source.policy_files):
            props[f"policy.{index}.path"] = file.path
            props[f"policy.{index}.sha256"] = file.sha256
        props["now_from_option"] = str(source.now_from_option).lower()
    props["now"] = format_timestamp(report.evaluated_at)
    store = report.store
    if store is not None:
        props["store.read"] = str(store.read).lower()
        props["store.backend"] = store.backend
        props["store.location"] = store.location
        props["store.degraded"] = str(store.degraded).lower()
        props["store.skipped"] = str(len(store.skipped))
        for index, problem in enumerate(store.skipped):
            props[f"store.skipped.{index}"] = f"{problem.path}:{problem.line} ({problem.reason})"
    return props


def _case(result: GateResult, report: Report, classname: str) -> TestCase:
    case = TestCase(
        result.gate, classname=classname, elapsed_sec=round(result.duration_ms / 1000, 6)
    )
    text = _clean(_details(result, report))
    message = _clean(f"{result.decision}: {result.reason}")
    if result.decision == "block":
        case.add_failure_info(message=message, output=text, failure_type="block")
    elif result.decision == "error":
        case.add_error_info(message=message, output=text, error_type="error")
    elif result.decision == "warn" and report.fail_on_warn:
        case.add_failure_info(message=message, output=text, failure_type="warn")
    elif result.decision == "warn":
        case.add_skipped_info(message=message, output=text)
    return case


def _details(result: GateResult, report: Report) -> str:
    lines = [f"{result.gate} ({result.type}) for {result.service}: {result.reason}"]
    lines += [finding_line(f) for f in result.findings]
    if result.waiver is not None and result.waiver_applied:
        lines.append(f"waiver {result.waiver.ticket}: {result.waiver.reason}")
    if result.override and report.override is not None:
        lines.append(f"override by {report.override.agent}: {report.override.reason}")
    actions = result_actions(result, report)
    if actions:
        lines.append("what would clear it:")
        lines.extend(f"- {action}" for action in actions)
    return "\n".join(lines)


def _seconds(milliseconds: float) -> str:
    return f"{milliseconds / 1000:.3f}"


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)
