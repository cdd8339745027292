"""Output conventions users bring from conftest and CI tools.

Colour on a terminal only (``NO_COLOR``, ``--no-color``, pipes and files stay
plain), the totals line, ``-o`` for ``--format``, ``--quiet``, human timestamps
to the second, aligned text columns, Markdown that renders user text as text,
remediation in JUnit and GitHub annotations, and shell completion.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from gatekeeper.cli.check import use_color
from gatekeeper.engine.report import GateResult, Override, Report
from gatekeeper.reports import HUMAN_FORMATS, render
from gatekeeper.reports._common import totals_line
from gatekeeper.reports.markdown import code, escape
from tests.conftest import NOW
from tests.gate import factories
from tests.gate.conftest import REPO, CheckRun, PolicyWriter
from tests.gate.test_golden import HOSTILE_TITLE, _report

ANSI = re.compile(r"\x1b\[[0-9;]*m")
POLICY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  followup_watch: {type: followup_watch}
  a_much_longer_gate_name: {type: freeze_window, windows: [{name: never, from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z"}]}
"""  # noqa: E501


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conventions")


# --- colour -----------------------------------------------------------------


def _on_a_terminal(
    args: list[str], env: dict[str, str] | None = None, drop: tuple[str, ...] = ()
) -> tuple[int, str]:
    """Run the console entry point with stdout on a pseudo-terminal; (exit code, stdout)."""
    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", *drop)}
    environ |= {"TERM": "xterm-256color", **(env or {})}
    code = "import sys\nsys.argv[0] = 'gatekeeper'\nfrom gatekeeper._startup import run\nrun()\n"
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=slave,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env=environ,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(master)
    return process.returncode, b"".join(chunks).decode().replace("\r\n", "\n")


def _blocked_args(store_dir: Path) -> list[str]:
    factories.write(store_dir, [factories.incident()])
    return [
        "--policy", str(REPO / "policies"), "--store-dir", str(store_dir),
        "--now", "2026-11-28T12:00:00Z", "check", "--env", "prod", "--service", "checkout",
    ]  # fmt: skip


def test_a_terminal_gets_colour_and_a_bold_decision_line(store_dir: Path) -> None:
    code, out = _on_a_terminal(_blocked_args(store_dir))
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("\x1b[1mgatekeeper: \x1b[31mBLOCK\x1b[39m (exit 1)")
    assert first.endswith("\x1b[0m")
    assert "  \x1b[31mBLOCK\x1b[39m  followup_watch / checkout" in out
    assert "\x1b[33mWARN\x1b[39m " in out  # a Saturday: the shipped weekend freeze warns
    assert "\x1b[32mPASS\x1b[39m " in out


@pytest.mark.parametrize(
    ("extra", "env"),
    [
        (["--no-color"], {}),
        ([], {"NO_COLOR": "1"}),
        ([], {"NO_COLOR": "yes please"}),
        ([], {"TERM": "dumb"}),
        (["-o", "json"], {}),  # machine formats are never painted
        (["--format", "github"], {}),
    ],
)
def test_no_colour_on_a_terminal_when_asked_or_for_other_formats(
    store_dir: Path, extra: list[str], env: dict[str, str]
) -> None:
    code, out = _on_a_terminal([*_blocked_args(store_dir), *extra], env)
    assert code == 1
    assert out and "\x1b[" not in out


def test_an_empty_no_color_does_not_disable_colour(store_dir: Path) -> None:
    _, out = _on_a_terminal(_blocked_args(store_dir), {"NO_COLOR": ""})
    assert "\x1b[31mBLOCK" in out


def test_report_files_are_never_coloured_even_from_a_terminal(
    store_dir: Path, tmp_path: Path
) -> None:
    files = {fmt: tmp_path / f"report.{fmt}" for fmt in ("junit", "json")}
    options = [arg for fmt, path in files.items() for arg in (f"--{fmt}", str(path))]
    summary = tmp_path / "summary.md"
    code, out = _on_a_terminal(
        [*_blocked_args(store_dir), *options], {"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert code == 1 and "\x1b[31mBLOCK" in out  # stdout is the terminal
    for path in [*files.values(), summary]:
        assert path.read_text() and "\x1b" not in path.read_text()


def test_piped_stdout_is_plain(store_dir: Path) -> None:
    code = "import sys\nsys.argv[0] = 'gatekeeper'\nfrom gatekeeper._startup import run\nrun()\n"
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    result = subprocess.run(
        [sys.executable, "-c", code, *_blocked_args(store_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environ,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("gatekeeper: BLOCK (exit 1)")
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize(
    ("no_color", "environ", "tty", "expected"),
    [
        (False, {}, True, True),
        (False, {}, False, False),
        (True, {}, True, False),
        (False, {"NO_COLOR": "1"}, True, False),
        (False, {"NO_COLOR": ""}, True, True),
        (False, {"TERM": "dumb"}, True, False),
    ],
)
def test_use_color(no_color: bool, environ: dict[str, str], tty: bool, expected: bool) -> None:
    assert use_color(no_color, environ, tty) is expected


def test_colour_changes_nothing_but_the_codes(root: Path) -> None:
    report = _report("store_error", root)
    painted = render(report, "text", color=True)
    assert "\x1b[31mERROR\x1b[39m" in painted
    assert ANSI.sub("", painted) == render(report, "text")
    for fmt in ("json", "junit", "markdown", "github"):  # only the text report is painted
        assert "\x1b" not in render(report, fmt, color=True)


# --- aligned columns ---------------------------------------------------------


@pytest.mark.parametrize("color", [False, True])
def test_text_columns_line_up(root: Path, color: bool) -> None:
    report = _report("prod_block", root)
    lines = ANSI.sub("", render(report, "text", color=color)).splitlines()
    rows = [line for line in lines if re.match(r"  (PASS|WARN|BLOCK|ERROR) ", line)]
    assert len(rows) == len(report.results)
    pairs = list(zip(rows, report.results, strict=True))
    labels = {row.index(f"{r.gate} / {r.service}") for row, r in pairs}
    reasons = {row.rindex(r.reason) for row, r in pairs}
    assert labels == {9}
    assert len(reasons) == 1
    (start,) = reasons
    assert all(row[start - 2 : start] == "  " for row in rows)  # never glued to the label


# --- totals ------------------------------------------------------------------


def _result(gate: str, service: str, decision: str) -> GateResult:
    return GateResult(
        gate=gate, type="followup_watch", service=service, mode="default", strict=True,
        decision=decision, reason="r",  # type: ignore[arg-type]
    )  # fmt: skip


def _synthetic(results: list[GateResult], services: tuple[str, ...], **kw: object) -> Report:
    return Report(
        env="prod", env_listed=True, strict=True, strict_source="policy", services=services,
        evaluated_at=NOW, results=tuple(results), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_totals_count_every_gate_service_result() -> None:
    results = [
        _result("a", "x", "block"), _result("b", "x", "pass"), _result("c", "x", "pass"),
        _result("a", "y", "pass"), _result("b", "y", "pass"), _result("c", "y", "pass"),
    ]  # fmt: skip
    report = _synthetic(results, ("x", "y"))
    assert totals_line(report) == "3 gates × 2 services: 1 block, 0 warn, 5 pass"


def test_totals_name_errors_gates_not_run_and_pairs_left_out() -> None:
    results = [_result("a", "x", "error"), _result("a", "y", "warn"), _result("b", "x", "pass")]
    report = _synthetic(results, ("x", "y"), not_run=(("c", "x"),))
    # 3 gates × 2 services is 6 pairs; the gates' globs leave 4 (3 evaluated, 1 not run)
    assert totals_line(report) == (
        "3 gates × 2 services (4 apply): 0 block, 1 error, 1 warn, 1 pass, 1 not run"
    )


def test_totals_use_the_singular_and_cover_an_empty_run() -> None:
    assert totals_line(_synthetic([_result("a", "x", "pass")], ("x",))) == (
        "1 gate × 1 service: 0 block, 0 warn, 1 pass"
    )
    assert totals_line(_synthetic([], ("x",))) == "0 gates × 1 service: 0 block, 0 warn, 0 pass"


@pytest.mark.parametrize("fmt", HUMAN_FORMATS)
def test_every_human_format_carries_the_totals(root: Path, fmt: str) -> None:
    assert "4 gates × 3 services: 1 block, 4 warn, 7 pass" in render(
        _report("prod_block", root), fmt
    )


# --- -o and --quiet -----------------------------------------------------------


def test_dash_o_is_format(check: CheckRun, write_policy: PolicyWriter, store_dir: Path) -> None:
    write_policy(POLICY)
    factories.write(store_dir, [factories.incident()])
    short = check("--env", "prod", "--service", "checkout", "-o", "json")
    long = check("--env", "prod", "--service", "checkout", "--format", "json")
    timing = re.compile(r'"duration_ms": [0-9.e-]+')
    assert short.exit_code == long.exit_code == 1
    assert timing.sub("", short.stdout) == timing.sub("", long.stdout)
    assert json.loads(short.stdout)["decision"] == "block"


def test_help_shows_the_short_options(run_cli: object) -> None:
    result = run_cli("check", "--help")  # type: ignore[operator]
    assert "-o, --format" in result.stdout
    assert "-q, --quiet" in result.stdout
    assert "--no-color" in result.stdout


@pytest.mark.parametrize("flag", ["--quiet", "-q"])
@pytest.mark.parametrize("fmt", HUMAN_FORMATS)
def test_quiet_prints_the_decision_line_only(
    check: CheckRun,
    write_policy: PolicyWriter,
    store_dir: Path,
    tmp_path: Path,
    fmt: str,
    flag: str,
) -> None:
    write_policy(POLICY)
    factories.write(store_dir, [factories.incident()])
    full = check("--env", "prod", "--service", "checkout", "-o", fmt)
    report_file = tmp_path / "r.json"
    quiet = check(
        "--env", "prod", "--service", "checkout", "-o", fmt, flag, "--json", str(report_file)
    )
    assert quiet.exit_code == full.exit_code == 1
    (line,) = quiet.stdout.splitlines()
    expected = {
        "text": full.stdout.splitlines()[0],
        "markdown": "## ⛔ gatekeeper: block (prod)",
        "github": full.stdout.splitlines()[-1],
    }[fmt]
    assert line == expected
    assert json.loads(report_file.read_text())["results"]  # files stay complete


@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_quiet_is_refused_for_machine_formats(
    check: CheckRun, write_policy: PolicyWriter, fmt: str
) -> None:
    write_policy(POLICY)
    result = check("--env", "prod", "--service", "checkout", "-o", fmt, "--quiet")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("gatekeeper: error: --quiet prints the decision line")
    with pytest.raises(ValueError, match="always complete"):
        render(_synthetic([], ("x",)), fmt, quiet=True)


# --- timestamps ---------------------------------------------------------------


def test_human_formats_show_times_to_the_second(root: Path) -> None:
    report = _report("hostile_text", root)
    assert report.evaluated_at.microsecond == 654321
    for fmt in HUMAN_FORMATS:
        output = render(report, fmt)
        if fmt != "github":  # annotations carry no evaluation time
            assert "2026-03-02T12:00:00Z" in output  # evaluated_at, truncated
        assert "since 2026-02-28T12:00:00Z" in output  # an incident started at .123456
        assert not re.search(r"\d\d:\d\d:\d\d\.\d+", output), fmt
    assert json.loads(render(report, "json"))["evaluated_at"] == "2026-03-02T12:00:00.654321Z"


# --- Markdown renders user text as text ------------------------------------------


class _Html(HTMLParser):
    """The tags and the table rows (cells as text) of rendered Markdown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html(markdown: str) -> str:
    # GitHub renders tables and passes (sanitised) raw HTML through: so does this.
    html: str = MarkdownIt("gfm-like", {"html": True, "linkify": False}).render(markdown)
    return html


def _rendered(markdown: str) -> _Html:
    parser = _Html()
    parser.feed(_html(markdown))
    return parser


HOSTILE = "<img src=x onerror=alert(1)> | `tick` ``two`` *b* _i_ [l](http://x) ~s~ & &lt; \\ end"


def test_user_text_in_a_table_cell_stays_one_cell_of_plain_text() -> None:
    result = replace(_result("followup_watch", "checkout", "block"), reason=HOSTILE)
    report = _synthetic(
        [result], ("checkout",),
        override=Override(reason=HOSTILE, agent="ag`ent", gates=("followup_watch",)),
    )  # fmt: skip
    page = _rendered(render(report, "markdown"))
    assert not {"img", "a", "em", "del", "s"} & set(page.tags)
    assert page.tags.count("code") == 2  # the service and the agent: our own code spans
    body = [row for row in page.rows if row and row[0] == "followup_watch"]
    assert body == [["followup_watch", "checkout", "⛔ block", "0", HOSTILE]]


def test_the_hostile_golden_renders_titles_and_owners_as_text(root: Path) -> None:
    markdown = render(_report("hostile_text", root), "markdown")
    page = _rendered(markdown)
    assert not {"img", "script", "b", "a", "em", "del", "s"} & set(page.tags)
    text = re.sub(r"<[^>]+>", "", _html(markdown))
    unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert HOSTILE_TITLE.replace("&", "&amp;") in unescaped
    assert "(owner <b>eve</b>)" in unescaped
    assert all(len(row) == 5 for row in page.rows)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<img src=x>", "&lt;img src=x&gt;"),
        ("R&D", "R&amp;D"),
        ("`x`", "\\`x\\`"),
        ("inc_2026_abc _em_ snake_case_", "inc_2026_abc \\_em\\_ snake_case\\_"),
        ("two\nlines\r\nhere", "two lines here"),
    ],
)
def test_escape(text: str, escaped: str) -> None:
    assert escape(text) == escaped


@pytest.mark.parametrize(
    ("text", "span"),
    [("checkout", "`checkout`"), ("a`b", "``a`b``"), ("`x", "`` `x ``"), ("a``b", "```a``b```")],
)
def test_code_spans_outfence_the_backticks_inside(text: str, span: str) -> None:
    assert code(text) == span
    page = _rendered(f"x {span} y")
    assert "code" in page.tags


# --- remediation in JUnit and GitHub ----------------------------------------------


def test_junit_failure_text_says_what_would_clear_it(root: Path) -> None:
    tree = ET.fromstring(render(_report("prod_block", root), "junit"))
    texts = {
        (c.get("classname", "").rsplit(".", 1)[1], c.get("name")): (c[0].text or "")
        for c in tree.iter("testcase")
        if len(c)
    }
    block = texts[("checkout", "followup_watch")]
    assert "\nwhat would clear it:\n" in block
    assert "- close follow-up fu_chk00001 on inc_20260228_1200_chk001, owner bob" in block
    assert "- or waive followup_watch for checkout" in block
    assert '--override "REASON"' in block
    waived = texts[("payments", "postmortem_required")]  # a warn (skipped) says it too
    assert "- attach a postmortem (postmortem.md) to inc_20260218_1200_pay001" in waived
    assert "waive" not in waived.split("what would clear it:")[1]


def test_junit_error_text_says_what_would_clear_it(root: Path) -> None:
    tree = ET.fromstring(render(_report("store_error", root), "junit"))
    error = next(tree.iter("error"))
    assert "what would clear it:\n- followup_watch: make the incident store readable" in (
        error.text or ""
    )


def test_github_annotations_say_what_would_clear_it(root: Path) -> None:
    lines = render(_report("prod_block", root), "github").splitlines()
    (block,) = [line for line in lines if line.startswith("::error title=followup_watch::")]
    message = block.split("::", 2)[2].replace("%0A", "\n").replace("%25", "%")
    assert message.startswith("checkout: block - ")
    steps = message.split("\nwhat would clear it:\n", 1)[1].splitlines()
    assert steps[0] == "- resolve P1 incident inc_20260228_1200_chk001 (still active)"
    assert steps[-1].startswith("- break glass: gatekeeper --agent AGENT check --env prod")


# --- shell completion --------------------------------------------------------------


def _complete(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys\nsys.argv[0] = 'gatekeeper'\nfrom gatekeeper._startup import run\nrun()\n"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **environ},
    )


def test_the_readme_completion_command_prints_a_bash_script() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_GATEKEEPER_COMPLETE=bash_source gatekeeper)"' in readme
    result = _complete({"_GATEKEEPER_COMPLETE": "bash_source"})
    assert result.returncode == 0, result.stderr
    assert "_gatekeeper_completion()" in result.stdout
    assert "complete -o nosort -F _gatekeeper_completion gatekeeper" in result.stdout


@pytest.mark.parametrize(
    ("shell", "marker"), [("zsh", "#compdef gatekeeper"), ("fish", "complete")]
)
def test_zsh_and_fish_scripts_too(shell: str, marker: str) -> None:
    result = _complete({"_GATEKEEPER_COMPLETE": f"{shell}_source"})
    assert result.returncode == 0 and marker in result.stdout


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [("gatekeeper ch", "1", "plain,check"), ("gatekeeper check --fo", "2", "plain,--format")],
)
def test_the_script_completes_lazy_commands_and_their_options(
    words: str, cword: str, expected: str
) -> None:
    result = _complete(
        {"_GATEKEEPER_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    )
    assert expected in result.stdout.splitlines()
