"""A cold ``check --backend postgres``: what it imports, and the round trips it saves.

The timings live in ``bench/`` (docs/performance.md, "Postgres start-up");
these tests pin the behaviour the savings must not change.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import psycopg
import pytest

from gatekeeper import _startup
from gatekeeper.store import WriteBatch
from gatekeeper.store.migrations import LATEST_VERSION, applied_versions, migrate, schema_version
from gatekeeper.store.pg_connection import PostgresTarget, connect, snapshot
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.conftest import REPO
from tests.store.factories import incident

# What the packaging metadata machinery would pull in (psycopg's version modules).
METADATA_MODULES = ("importlib.metadata", "email", "zipfile", "csv")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env
    )


def test_the_postgres_check_keeps_metadata_and_the_override_log_off_its_path(
    pg_store: PostgresIncidentStore, migrated_pg_url: str
) -> None:
    pg_store.write(WriteBatch(new_incidents=(incident(),)))
    args = [
        "--policy", str(REPO / "policies"), "--backend", "postgres",
        "--database-url", migrated_pg_url, "check", "--env", "prod", "--service", "checkout",
    ]  # fmt: skip
    code = (
        "import atexit, sys\n"
        f"sys.argv = ['gatekeeper', *{args!r}]\n"
        "atexit.register(lambda: print('MODULES', sorted(sys.modules), file=sys.stderr))\n"
        "from gatekeeper._startup import run\n"
        "run()\n"
    )
    result = _run(code)
    assert result.returncode == 1, result.stderr  # the active P1 blocks: the gate read Postgres
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    modules = set(ast.literal_eval(line.removeprefix("MODULES ")))
    assert {"psycopg", "psycopg_binary", "gatekeeper.store.postgres"} <= modules
    assert not {m for m in modules if m.split(".")[0] in METADATA_MODULES}
    assert "importlib.metadata" not in modules
    assert "gatekeeper.store.overrides" not in modules  # the break-glass log's model: verify only


def test_the_version_stand_ins_answer_what_importlib_metadata_does() -> None:
    code = (
        "import sys\n"
        "from gatekeeper import _startup\n"
        "_startup._skip_version_lookups()\n"
        "import psycopg, psycopg_binary, psycopg._cmodule\n"
        "import psycopg.version, psycopg_binary.version\n"
        "assert 'importlib.metadata' not in sys.modules\n"
        "got = [psycopg.__version__, psycopg.version.__version__, psycopg_binary.__version__,\n"
        "       psycopg_binary.version.__version__, psycopg._cmodule.__version__]\n"
        "from importlib import metadata\n"
        "want = [metadata.version('psycopg')] * 2 + [metadata.version('psycopg-binary')] * 3\n"
        "print(got == want, got)\n"
    )
    result = _run(code)
    assert result.stdout.startswith("True "), result.stdout + result.stderr


def test_the_stand_ins_are_only_made_when_psycopg_is_imported() -> None:
    code = (
        "import sys\n"
        "from gatekeeper import _startup\n"
        "_startup._skip_version_lookups()\n"
        "_startup._skip_version_lookups()\n"
        "finders = [f for f in sys.meta_path if isinstance(f, _startup._VersionFinder)]\n"
        "print(len(finders), [m for m in sys.modules if m.startswith('psycopg')])\n"
        "import psycopg.version\n"
        "print(psycopg.version.__spec__.loader.__class__.__name__)\n"
    )
    assert _run(code).stdout == "1 []\n_VersionLoader\n"
    already = (
        "import sys, psycopg\n"
        "from gatekeeper import _startup\n"
        "_startup._skip_version_lookups()\n"
        "print(any(isinstance(f, _startup._VersionFinder) for f in sys.meta_path))\n"
    )
    assert _run(already).stdout == "False\n"


def _dist_info(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n\nVersion: not a header\n",
        encoding="utf-8",
    )


def test_the_version_is_read_from_the_one_dist_info_beside_the_package(tmp_path: Path) -> None:
    package = tmp_path / "psycopg_binary" / "__init__.py"
    _dist_info(tmp_path, "psycopg_binary", "9.8.7")
    _dist_info(tmp_path, "psycopg", "1.0.0")  # another distribution's: not this one
    assert _startup.distribution_version("psycopg-binary", str(package)) == "9.8.7"


@pytest.mark.parametrize("layout", ["none", "two"])
def test_anything_but_one_dist_info_is_left_to_importlib_metadata(
    tmp_path: Path, layout: str
) -> None:
    package = tmp_path / "psycopg" / "__init__.py"
    if layout == "two":
        _dist_info(tmp_path, "psycopg", "1.0.0")
        _dist_info(tmp_path, "psycopg", "2.0.0")
    expected = metadata.version("psycopg")
    assert _startup.distribution_version("psycopg", str(package)) == expected
    assert _startup.distribution_version("psycopg", None) == expected


def test_the_schema_version_is_the_latest_applied_or_zero_without_a_ledger(pg_url: str) -> None:
    conn = connect(PostgresTarget.parse(pg_url))
    try:
        assert schema_version(conn) == 0  # no schema_migrations table: the one query's error
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        migrate(conn)
        assert schema_version(conn) == LATEST_VERSION == max(applied_versions(conn))
    finally:
        conn.close()


def test_the_gate_snapshot_is_repeatable_read_and_read_only_then_gone(
    pg_store: PostgresIncidentStore,
) -> None:
    conn = pg_store._conn
    with snapshot(conn):
        row = conn.execute(
            "SELECT current_setting('transaction_isolation') AS iso,"
            " current_setting('transaction_read_only') AS ro"
        ).fetchone()
        assert row == {"iso": "repeatable read", "ro": "on"}
    with pytest.raises(RuntimeError), snapshot(conn):
        raise RuntimeError("the read failed")
    assert (conn.isolation_level, conn.read_only) == (None, None)
    with conn.transaction():  # the writes' transactions: the server's defaults again
        row = conn.execute(
            "SELECT current_setting('transaction_isolation') AS iso,"
            " current_setting('transaction_read_only') AS ro"
        ).fetchone()
        assert row == {"iso": "read committed", "ro": "off"}
    pg_store.write(WriteBatch(new_incidents=(incident(),)))  # a write after a gate read
    assert schema_version(conn) == LATEST_VERSION


@pytest.mark.parametrize(("daemon", "fast"), [(True, True), (False, False)])
def test_only_a_live_non_daemon_thread_keeps_the_entry_point_off_its_fast_exit(
    daemon: bool, fast: bool
) -> None:
    """A Postgres deadline's timer is a daemon thread, which Python's own exit never joins.

    One cancelled a moment before the end may still be alive when the entry point
    exits; it must not send the process through the full interpreter teardown.
    """
    code = (
        "import atexit, os, sys, threading, time\n"
        "sys.argv = ['gatekeeper', '--version']\n"
        f"threading.Thread(target=time.sleep, args=(0.5,), daemon={daemon}).start()\n"
        "real_exit = os._exit\n"
        "def spy(code):\n"
        "    print('FAST', file=sys.stderr, flush=True)\n"
        "    real_exit(code)\n"
        "os._exit = spy\n"
        "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
        "from gatekeeper._startup import run\n"
        "run()\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("version 0.1.0\n")
    assert "atexit ran" in result.stderr
    assert ("FAST" in result.stderr) is fast


def test_the_stand_ins_define_every_name_the_real_modules_do() -> None:
    """A psycopg release whose version module defines more than ``__version__``
    (modules it imports aside) fails here, before a stand-in without that name
    reaches a pipeline."""
    names = (
        "import types, psycopg.version, psycopg_binary.version\n"
        "print(sorted(n for m in (psycopg.version, psycopg_binary.version)"
        " for n, v in vars(m).items() if not isinstance(v, types.ModuleType)"
        " and (not n.startswith('__') or n == '__version__')))\n"
    )
    real = _run(names)
    stand_in = _run("from gatekeeper import _startup\n_startup._skip_version_lookups()\n" + names)
    assert real.stdout == stand_in.stdout, real.stderr + stand_in.stderr
    assert real.stdout.strip() == str(["__version__", "__version__"])
