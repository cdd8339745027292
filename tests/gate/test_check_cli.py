"""`gatekeeper check` as a command: report files, the step summary, help, lazy imports."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gatekeeper.store.jsonl_index import INDEX
from tests.conftest import CliRun
from tests.gate import factories
from tests.gate.conftest import REPO, CheckRun, PolicyWriter

POLICY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  followup_watch: {type: followup_watch}
"""


def test_report_files_are_written_alongside_stdout(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, tmp_path: Path
) -> None:
    write_policy(POLICY)
    factories.write(store_dir, [factories.incident()])
    junit, report, summary = tmp_path / "g.xml", tmp_path / "g.json", tmp_path / "g.md"
    result = check(
        "--env", "prod", "--service", "checkout", "--format", "github",
        "--junit", str(junit), "--json", str(report), "--markdown", str(summary),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout.startswith("::error title=followup_watch::checkout: block")
    assert json.loads(report.read_text())["decision"] == "block"
    assert ET.fromstring(junit.read_text()).find("testsuite") is not None
    assert summary.read_text().startswith("## ⛔ gatekeeper: block (prod)")


def test_markdown_goes_to_the_step_summary_unless_a_file_is_given(
    check: CheckRun,
    write_policy: PolicyWriter,
    tmp_path: Path,
    store_dir: Path,
    run_cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_policy(POLICY)
    assert run_cli("--store-dir", str(store_dir), "store", "init").exit_code == 0
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert check("--env", "prod", "--service", "checkout").exit_code == 0
    assert summary.read_text().startswith("earlier step\n## ✅ gatekeeper: pass (prod)")
    before = summary.read_text()
    check("--env", "prod", "--service", "checkout", "--markdown", str(tmp_path / "own.md"))
    assert summary.read_text() == before


def test_unwritable_report_file_is_a_config_error(
    check: CheckRun, write_policy: PolicyWriter, tmp_path: Path
) -> None:
    write_policy(POLICY)
    result = check("--env", "prod", "--service", "x", "--json", str(tmp_path / "no" / "r.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith("gatekeeper: error: cannot write report")


def test_check_needs_env_and_service(run_cli: CliRun) -> None:
    result = run_cli("check", "--env", "prod")
    assert result.exit_code == 2
    assert "--service" in result.stderr


@pytest.mark.parametrize(
    "args", [["check"], ["policy"], ["policy", "validate"], ["policy", "show"]]
)
def test_every_command_has_an_example_in_its_help(run_cli: CliRun, args: list[str]) -> None:
    result = run_cli(*args, "--help")
    assert result.exit_code == 0
    assert "Example: gatekeeper " in result.stdout


@pytest.mark.parametrize(("fmt", "loaded"), [("text", False), ("junit", True)])
def test_only_the_requested_writer_is_imported(fmt: str, loaded: bool, store_dir: Path) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from gatekeeper.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['--policy', {str(REPO / 'policies')!r}, '--store-dir', {str(store_dir)!r},\n"
        f"          'check', '--env', 'prod', '--service', 'x', '--format', {fmt!r}])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('junit_xml', 'psycopg')\n"
        "             or m.startswith(('gatekeeper.reports.', 'gatekeeper.cli.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    modules = set(ast.literal_eval(result.stdout))
    assert not any(m.startswith("psycopg") for m in modules)
    assert ("junit_xml" in modules) is loaded
    assert f"gatekeeper.reports.{fmt}" in modules
    others = {"text", "json", "junit", "markdown", "github"} - {fmt}
    assert not {f"gatekeeper.reports.{o}" for o in others} & modules
    other_commands = {f"gatekeeper.cli.{c}" for c in ("incident", "store", "tool", "policy")}
    assert not other_commands & modules


# What the console script's `check` must never import: the other commands, the
# Postgres driver and the writers not asked for (above), the packaging
# metadata machinery pydantic's plugin discovery would pull in (~15-20 ms),
# and what only writes, maintenance, break-glass or the intelligence commands
# use: each of these modules defines pydantic models or dataclasses, which cost
# their build at every start (docs/performance.md, "Start-up as users run it").
OFF_THE_CHECK_PATH = (
    "importlib.metadata",
    "email",
    "zipfile",
    "csv",
    "psycopg",
    "junit_xml",
    "asyncio",
    "tempfile",  # atomic writes only (and with it shutil, bz2, lzma)
    "shutil",
    "traceback",  # GATEKEEPER_DEBUG only
    "gatekeeper.cli.incident",
    "gatekeeper.cli.store",
    "gatekeeper.cli.tool",
    "gatekeeper.cli.policy",
    "gatekeeper.cli.intel",
    "gatekeeper.incidents",
    "gatekeeper.intelligence",  # the risk: and correlation: models (a policy without them)
    "gatekeeper.policy.sections",
    "gatekeeper.rbac",  # roles are read for an override only
    "gatekeeper.engine.audit",
    "gatekeeper.artifacts",
    "gatekeeper.store.writes",
    "gatekeeper.store.patch",
    "gatekeeper.store.notes",
    "gatekeeper.store.overrides",
    "gatekeeper.store.jsonl_maintenance",
    "gatekeeper.store.postgres",
    "gatekeeper.ops",
    "gatekeeper.tools",
    "gatekeeper.server",
)
# `--version` and `--help` need neither the store nor the models.
OFF_THE_VERSION_PATH = ("pydantic", "yaml", "gatekeeper.store", "gatekeeper.models")


def _off(modules: set[str], off: tuple[str, ...]) -> set[str]:
    loaded = {m for m in modules if m.split(".")[0] in off or m in off}
    return loaded | {m for m in modules for name in off if m.startswith(name + ".")}


def _entry_point(args: list[str], extra: str = "") -> subprocess.CompletedProcess[str]:
    """Run the console script's entry point (gatekeeper._startup.run) in a fresh interpreter."""
    code = (
        "import sys\n"
        f"sys.argv = ['gatekeeper', *{args!r}]\n"
        f"{extra}"
        "from gatekeeper._startup import run\n"
        "run()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env
    )


# Without the sidecar index (a fresh checkout: it is git-ignored) the store is
# read by the scan, and the index modules and sqlite3 are not imported either.
OFF_THE_SCAN_PATH = ("sqlite3", "gatekeeper.store.jsonl_index", "gatekeeper.store.jsonl_indexed")


@pytest.mark.parametrize("indexed", [True, False], ids=["with the index", "fresh checkout"])
def test_the_entry_point_keeps_modules_off_the_check_path(store_dir: Path, indexed: bool) -> None:
    factories.write(store_dir, [factories.incident()])
    if not indexed:
        (store_dir / INDEX).unlink()
    spy = (
        "import atexit\n"
        "atexit.register(lambda: print('MODULES', sorted(sys.modules), file=sys.stderr))\n"
    )
    args = ["--policy", str(REPO / "policies"), "--store-dir", str(store_dir)]
    result = _entry_point([*args, "check", "--env", "prod", "--service", "checkout"], spy)
    assert result.returncode == 1, result.stderr  # the active P1 blocks: the gate did run
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    modules = set(ast.literal_eval(line.removeprefix("MODULES ")))
    assert "gatekeeper.engine.check" in modules  # the spy sees the real run
    assert not _off(modules, OFF_THE_CHECK_PATH)
    assert ("gatekeeper.store.jsonl_indexed" in modules) is indexed
    if not indexed:
        assert not _off(modules, OFF_THE_SCAN_PATH)


def test_the_entry_point_keeps_the_store_and_the_models_off_version() -> None:
    spy = (
        "import atexit\n"
        "atexit.register(lambda: print('MODULES', sorted(sys.modules), file=sys.stderr))\n"
    )
    result = _entry_point(["--version"], spy)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    modules = set(ast.literal_eval(line.removeprefix("MODULES ")))
    assert "gatekeeper.cli" in modules
    modules.discard("pydantic.plugin._loader")  # the stand-in loader (gatekeeper._startup)
    assert not _off(modules, OFF_THE_VERSION_PATH)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--env", "prod", "--service", "checkout"],  # block: exit 1
        ["check", "--env", "prod", "--service", "checkout", "--format", "json"],
        ["check", "--env", "prod"],  # usage: exit 2
        ["--version"],  # exit 0
        ["check", "--help"],
        ["policy", "validate"],
        ["no-such-command"],
    ],
)
def test_the_entry_point_exits_exactly_like_main(args: list[str], store_dir: Path) -> None:
    """os._exit after flushing: same exit code, same bytes on stdout and stderr as sys.exit."""
    factories.write(store_dir, [factories.incident()])
    full = [
        "--policy", str(REPO / "policies"), "--store-dir", str(store_dir),
        "--now", "2026-11-30T12:00:00Z", *args,
    ]  # fmt: skip
    fast = _entry_point(full)
    code = f"import sys\nfrom gatekeeper.cli import main\nsys.exit(main({full!r}))\n"
    slow = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    timing = re.compile(r'"duration_ms": [0-9.]+')  # the one part that differs run to run
    assert (fast.returncode, timing.sub("", fast.stdout), fast.stderr) == (
        slow.returncode,
        timing.sub("", slow.stdout),
        slow.stderr,
    )
    assert fast.stdout or fast.stderr


def test_the_entry_point_runs_atexit_handlers_and_flushes_buffered_output(tmp_path: Path) -> None:
    marker = tmp_path / "atexit.txt"
    extra = (
        "import atexit\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
        "sys.stdout.write('x' * 100000)\n"  # buffered: only a flush gets it out
    )
    result = _entry_point(["--version"], extra)
    assert result.returncode == 0
    assert result.stdout.startswith("x" * 100000)
    assert result.stdout.endswith("version 0.1.0\n")
    assert marker.read_text() == "ran"


def test_the_entry_point_reports_an_unflushable_stdout_like_python(tmp_path: Path) -> None:
    """A stdout that cannot be flushed at exit is exit 120, as CPython itself answers."""
    code = (
        "import sys\n"
        "sys.argv = ['gatekeeper', '--version']\n"
        "sys.stdout = open('/dev/full', 'w')\n"
        "from gatekeeper._startup import run\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    plain = subprocess.run(
        [sys.executable, "-c", code.replace("from gatekeeper._startup import run\nrun()\n",
                                             "from gatekeeper.cli import run\nrun()\n")],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == plain.returncode == 120


def test_plugins_stay_available_when_the_user_enables_them() -> None:
    """PYDANTIC_DISABLE_PLUGINS set by the user wins; the stand-in loader is only used when off."""
    code = (
        "import os, sys\n"
        "os.environ['PYDANTIC_DISABLE_PLUGINS'] = 'none-of-mine'\n"
        "sys.argv = ['gatekeeper', '--version']\n"
        "import atexit\n"
        "import pydantic\n"
        "class M(pydantic.BaseModel):\n"
        "    a: int\n"
        "atexit.register(lambda: print('importlib.metadata' in sys.modules))\n"
        "from gatekeeper._startup import run\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.splitlines()[-1] == "True"


def test_the_stand_in_plugin_loader_hands_other_names_to_the_real_one() -> None:
    code = (
        "import os, sys\n"
        "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
        "from gatekeeper import _startup\n"
        "_startup._skip_plugin_discovery()\n"
        "import pydantic\n"
        "class M(pydantic.BaseModel):\n"
        "    a: int\n"
        "assert 'importlib.metadata' not in sys.modules\n"
        "from pydantic.plugin import _loader\n"
        "print(list(_loader.get_plugins()), _loader.PYDANTIC_ENTRY_POINT_GROUP)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout == "[] pydantic\n", result.stderr
