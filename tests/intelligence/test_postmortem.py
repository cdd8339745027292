"""Postmortem drafts: golden Markdown, escaping through a real renderer, save, roles, the gate."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from gatekeeper.config import Settings
from gatekeeper.errors import Forbidden
from gatekeeper.incidents import IncidentService
from gatekeeper.intelligence.markdown import paragraph, text
from gatekeeper.intelligence.postmortem import draft_postmortem, run
from gatekeeper.intelligence.settings import DEFAULT_CORRELATION
from gatekeeper.rbac import DEFAULT_RBAC
from gatekeeper.store.base import IncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.tools import handle
from tests.conftest import CliRun, tree_digest
from tests.intelligence.factories import StoreBuilder, at

NOW = at("2026-03-02T12:00:00Z")
GOLDEN = Path(__file__).parent / "golden"
T = "inc_20260223_1000_target"
EARLIER = "inc_20260210_0800_earlie"
EVIL = "<img src=x onerror=alert(1)>"


def pm_store() -> StoreBuilder:
    b = StoreBuilder()
    earlier = b.incident(
        "2026-02-10T08:00:00Z",
        suffix="earlie",
        title="Checkout 5xx rate above 3%",
        resolve_after_s=2400,
    )
    b.followup(earlier, "fu_e1", title="Add a circuit breaker", owner="bob", due="2026-02-20")
    target = b.incident(
        "2026-02-23T10:00:00Z",
        suffix="target",
        title="Checkout 5xx rate above 5%",
        labels={"fingerprint": "fp-5xx", "team": "payments"},
        ack_after_s=125,
        mitigate_after_s=1800,
        resolve_after_s=3600,
    )
    b.event(target, 900, "note", "rolled back | canary *v2.3*")
    b.followup(
        target,
        "fu_t1",
        after_s=3000,
        title="Alert on 5xx ratio",
        owner="ana",
        due="2026-03-06",
        ticket="OPS-12",
    )
    b.followup(
        target,
        "fu_t2",
        after_s=3100,
        title="Load-test deploys",
        owner="carol",
        priority="P2",
        due="2026-03-13",
    )
    b.update_followup(target, "fu_t2", 3200, status="done")
    b.incident(
        "2026-02-23T10:20:00Z",
        suffix="relate",
        service="payments",
        title="Payments 5xx rate above 5%",
        labels={"fingerprint": "fp-5xx"},
        resolve_after_s=1200,
    )
    return b


def _with_summary(b: StoreBuilder, summary: str) -> StoreBuilder:
    b.incidents = [
        i.model_copy(update={"summary": summary}) if i.id == T else i for i in b.incidents
    ]
    return b


def _html(markdown: str) -> str:
    html: str = MarkdownIt("commonmark").enable("table").render(markdown)
    return html


def test_golden_markdown(tmp_path: Path) -> None:
    builder = _with_summary(pm_store(), "Checkout answered 5xx for 40 minutes after the deploy.")
    store = builder.build(tmp_path / "store")
    markdown = draft_postmortem(store, T, DEFAULT_CORRELATION, now=NOW).markdown
    golden = GOLDEN / "postmortem_inc_20260223_1000_target.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(markdown, encoding="utf-8")
    assert markdown == golden.read_text(encoding="utf-8")


def test_sections_and_values(backend_store: IncidentStore) -> None:
    pm_store().write_to(backend_store)
    data = draft_postmortem(backend_store, T, DEFAULT_CORRELATION, now=NOW).to_json()
    md = data["markdown"]
    headings = re.findall(r"^##+ (.+)$", md, flags=re.M)
    assert headings == [
        "Summary",
        "Impact",
        "Timeline",
        "Detection",
        "Resolution",
        "Root cause",
        "Correlated incidents",
        "Recurrence",
        "Action items",
        "Lessons learned",
        "What went well",
        "What went wrong",
        "Where we got lucky",
        "Supporting information",
    ]
    assert data["impact"]["duration_s"] == 3600 and data["impact"]["ongoing"] is False
    assert data["detection"] == {
        "acked_at": "2026-02-23T10:02:05Z",
        "acked_by": "helion",
        "time_to_ack_s": 125,
    }
    assert data["resolution"]["time_to_mitigate_s"] == 1800
    assert data["resolution"]["time_to_resolve_s"] == 3600
    # Every event, in time order, to the second.
    assert [e["ts"] for e in data["timeline"]] == [
        "2026-02-23T10:02:05Z",
        "2026-02-23T10:15:00Z",
        "2026-02-23T10:30:00Z",
        "2026-02-23T10:50:00Z",
        "2026-02-23T10:51:40Z",
        "2026-02-23T10:53:20Z",
        "2026-02-23T11:00:00Z",
    ]
    assert "| 2026-02-23 10:02:05 | ack | helion | acknowledged |" in md
    assert "| 2026-02-23 10:15:00 | note | helion | rolled back \\| canary \\*v2.3\\* |" in md
    # Correlated: the payments incident sharing the fingerprint; recurrence: the earlier one.
    assert [r["incident_id"] for r in data["correlated"]] == ["inc_20260223_1020_relate"]
    assert [i["incident_id"] for i in data["recurrence"]["incidents"]] == [EARLIER]
    assert [u["followup_id"] for u in data["recurrence"]["undone_followups"]] == ["fu_e1"]
    assert [
        (a["followup_id"], a["owner"], a["status"], a["ticket"]) for a in data["action_items"]
    ] == [("fu_t1", "ana", "open", "OPS-12"), ("fu_t2", "carol", "done", None)]
    assert "| Alert on 5xx ratio (fu\\_t1, P1) | ana | 2026-03-06 23:59:59 | open | OPS-12 |" in md


def test_an_active_incident_is_ongoing(tmp_path: Path) -> None:
    b = StoreBuilder()
    b.incident("2026-03-02T09:00:00Z", suffix="active")
    store = b.build(tmp_path / "store")
    data = draft_postmortem(store, "inc_20260302_0900_active", DEFAULT_CORRELATION, now=NOW)
    impact = data.to_json()["impact"]
    assert impact["ongoing"] is True and impact["duration_s"] == 3 * 3600
    assert "3h 00m so far (still active at 2026-03-02 12:00:00 UTC)" in data.markdown
    assert "- Time to acknowledge: never acknowledged" in data.markdown
    assert "No follow-ups are recorded yet" in data.markdown


def test_user_text_renders_as_text(tmp_path: Path) -> None:
    b = StoreBuilder()
    inc = b.incident(
        "2026-02-23T10:00:00Z",
        suffix="xssxss",
        title=EVIL,
        labels={"team": "a|b", "fingerprint": "<script>x</script>"},
        resolve_after_s=60,
    )
    b.event(inc, 30, "note", "see [this](javascript:alert(1)) and ![img](http://x/y.png)")
    b.followup(inc, "fu_x1", title="fix | it", owner="<b>eve</b>", ticket="T|1")
    b.incidents = [
        i.model_copy(update={"summary": "# not a heading\n\n1. not a list"}) for i in b.incidents
    ]
    store = b.build(tmp_path / "store")
    md = draft_postmortem(store, inc.id, DEFAULT_CORRELATION, now=NOW).markdown
    html = _html(md)
    for tag in ("<img", "<script", "<b>", "<a ", "<h1>not", "<ol"):
        assert tag not in html, tag
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<p># not a heading 1. not a list</p>" in html
    # Tables keep their columns: the pipes of user text are escaped.
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = row.count("<td>") + row.count("<th>")
        assert cells in (2, 4, 5), row
    assert "<td>fix | it (fu_x1, P1)</td>" in html
    assert "<td>&lt;b&gt;eve&lt;/b&gt;</td>" in html


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain words 5%", "plain words 5%"),
        ("a|b", "a\\|b"),
        ("*x* _y_ `z` ~w~", "\\*x\\* \\_y\\_ \\`z\\` \\~w\\~"),
        ("[t](u) ![i](j)", "\\[t\\](u) \\!\\[i\\](j)"),
        ("<b>&amp;</b>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines\t here", "two lines here"),
    ],
)
def test_inline_escaping(raw: str, escaped: str) -> None:
    assert text(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("# h", "\\# h"), ("- item", "\\- item"), ("12. x", "12\\. x"), ("3) y", "3\\) y")],
)
def test_paragraphs_start_no_block(raw: str, escaped: str) -> None:
    assert paragraph(raw) == escaped


def _cli(run_cli: CliRun, tmp_path: Path, *args: str) -> Any:
    return run_cli(
        "--store-dir", str(tmp_path / "store"), "--artifacts-dir", str(tmp_path / "artifacts"),
        "--policy", str(tmp_path / "policies"), "--now", "2026-03-02T12:00:00Z", *args,
    )  # fmt: skip


def _tool(store: IncidentStore, tmp_path: Path, agent: str | None, **params: Any) -> Any:
    request = {
        "tool": "incident_intelligence_tool",
        "action": "postmortem_draft",
        "agent_id": agent,
        "params": {"incident_id": T, **params},
    }
    settings = Settings(policy=tmp_path / "policies", artifacts_dir=tmp_path / "artifacts")
    return handle(request, store=store, settings=settings, now=NOW)


def test_cli_and_tool_give_the_same_json_and_text_is_the_markdown(
    run_cli: CliRun, tmp_path: Path
) -> None:
    store = pm_store().build(tmp_path / "store")
    cli = _cli(run_cli, tmp_path, "postmortem", T, "--format", "json")
    assert cli.exit_code == 0, cli.stderr
    answer = _tool(store, tmp_path, None)
    assert answer["ok"] and json.loads(cli.stdout) == answer["result"]
    text_out = _cli(run_cli, tmp_path, "postmortem", T)
    assert text_out.stdout == answer["result"]["markdown"]
    assert _cli(run_cli, tmp_path, "postmortem", "inc_20260223_1000_nosuch").exit_code == 1
    assert _cli(run_cli, tmp_path, "postmortem", "nope").exit_code == 1


GATE_POLICY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  postmortem_required: {type: postmortem_required, severities: [P0, P1], grace_days: 5}
"""


def test_a_saved_draft_never_satisfies_postmortem_required(run_cli: CliRun, tmp_path: Path) -> None:
    pm_store().build(tmp_path / "store")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "gates.yml").write_text(GATE_POLICY, encoding="utf-8")
    saved = _cli(run_cli, tmp_path, "--agent", "helion", "postmortem", T, "--save")
    assert saved.exit_code == 0, saved.stderr
    assert f"attached postmortem_draft.md to {T}" in saved.stderr
    on_disk = (tmp_path / "artifacts" / T / "postmortem_draft.md").read_text(encoding="utf-8")
    assert on_disk == saved.stdout
    names = [a.name for a in JsonlIncidentStore(tmp_path / "store").artifacts(T)]
    assert names == ["postmortem_draft.md"]

    def gate() -> dict[str, Any]:
        result = _cli(
            run_cli, tmp_path, "check", "--env", "prod", "--service", "checkout",
            "--format", "json",
        )  # fmt: skip
        return {"exit": result.exit_code, **json.loads(result.stdout)}

    blocked = gate()
    findings = [f["incident_id"] for r in blocked["results"] for f in r["findings"]]
    assert blocked["exit"] == 1 and T in findings
    # The reviewed postmortem is what clears it.
    reviewed = tmp_path / "postmortem.md"
    reviewed.write_text(on_disk, encoding="utf-8")
    attached = _cli(
        run_cli, tmp_path, "--agent", "helion", "incident", "artifact", T, str(reviewed)
    )
    assert attached.exit_code == 0, attached.stderr
    cleared = gate()
    assert T not in [f["incident_id"] for r in cleared["results"] for f in r["findings"]]


@pytest.mark.parametrize("agent", [None, "monitor", "aistalk"])
def test_saving_needs_a_writer(run_cli: CliRun, tmp_path: Path, agent: str | None) -> None:
    store = pm_store().build(tmp_path / "store")
    before = tree_digest(tmp_path / "store")
    who = ["--agent", agent] if agent else []
    refused = _cli(run_cli, tmp_path, *who, "postmortem", T, "--save")
    assert refused.exit_code == 1 and "incident_write" in refused.stderr
    answer = _tool(store, tmp_path, agent, save=True)
    assert answer["ok"] is False and answer["error"]["code"] == "forbidden"
    service = IncidentService(store, DEFAULT_RBAC, tmp_path / "artifacts", agent=agent)
    with pytest.raises(Forbidden):
        run(service, T, DEFAULT_CORRELATION, now=NOW, save=True)
    assert tree_digest(tmp_path / "store") == before
    assert not (tmp_path / "artifacts").exists()


def test_tool_save_attaches_the_draft(tmp_path: Path) -> None:
    store = pm_store().build(tmp_path / "store")
    answer = _tool(store, tmp_path, "sofiia", save=True)
    assert answer["ok"], answer
    saved = answer["result"]["saved"]
    assert saved["name"] == "postmortem_draft.md" and saved["created_by"] == "sofiia"
    path = tmp_path / "artifacts" / T / "postmortem_draft.md"
    assert path.read_text(encoding="utf-8") == answer["result"]["markdown"]


def test_deterministic_for_a_store_and_now(tmp_path: Path) -> None:
    store = pm_store().build(tmp_path / "store")
    first = draft_postmortem(store, T, DEFAULT_CORRELATION, now=NOW).to_json()
    assert draft_postmortem(store, T, DEFAULT_CORRELATION, now=NOW).to_json() == first
    assert first["generated_at"] == "2026-03-02T12:00:00Z"
    assert "at 2026-03-02T12:00:00Z" in first["markdown"]


def test_saving_the_same_draft_again_adds_nothing_and_a_new_one_replaces_it(
    tmp_path: Path,
) -> None:
    store = pm_store().build(tmp_path / "store")
    service = IncidentService(store, DEFAULT_RBAC, tmp_path / "artifacts", agent="helion")
    path = tmp_path / "artifacts" / T / "postmortem_draft.md"

    def artifact_events() -> int:
        return sum(1 for e in store.events(T) if e.type == "artifact")

    first = run(service, T, DEFAULT_CORRELATION, now=NOW, save=True)
    assert first["saved"]["unchanged"] is False and artifact_events() == 1
    again = run(service, T, DEFAULT_CORRELATION, now=NOW, save=True)
    assert again["saved"]["unchanged"] is True and artifact_events() == 1
    assert again["saved"]["sha256"] == first["saved"]["sha256"]

    # A file edited (or removed) by hand is not "the same draft": it is written again.
    path.write_text("edited\n", encoding="utf-8")
    edited = run(service, T, DEFAULT_CORRELATION, now=NOW, save=True)
    assert edited["saved"]["unchanged"] is False and artifact_events() == 2
    assert path.read_text(encoding="utf-8") == edited["markdown"]

    # Later, the draft differs (its generation time does): it replaces the old one.
    later = run(service, T, DEFAULT_CORRELATION, now=at("2026-03-03T12:00:00Z"), save=True)
    assert later["saved"]["unchanged"] is False and artifact_events() == 3
    assert path.read_text(encoding="utf-8") == later["markdown"]
    assert [a.name for a in store.artifacts(T)].count("postmortem_draft.md") >= 1
