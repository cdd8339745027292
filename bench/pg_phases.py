"""The Postgres part of one ``gatekeeper check``, split into phases timed in one process.

    python -P bench/pg_phases.py DATABASE_URL [ENV SERVICE NOW [OUT]]

``python -m bench.startup --database-url URL`` runs this with the bench venv's
Python in every round (``-P``: neither the source tree nor ``bench/`` is on
``sys.path``, so the installed wheel is what is imported). It prints one JSON
object of milliseconds (and appends it as a line to ``OUT`` if given), in the
order a cold ``check --backend postgres`` goes:

- ``floor_import``: ``import pydantic, yaml, click`` (the import floor's own imports);
- ``cli_import``: ``gatekeeper.cli`` after it, with the entry point's start-up
  settings (GC threshold, no pydantic plugin discovery): what JSONL pays too;
- ``psycopg_import``: ``import psycopg`` after both (as the store imports it);
- ``store_import``: ``gatekeeper.store.postgres`` after that;
- ``connect``: the connection and session set-up (``pg_connection.connect``);
- ``schema_check``: the schema version check ``PostgresIncidentStore.open`` makes;
- ``gate_read``: the one gate read (incidents, follow-ups, artifacts of the
  service in the last 90 days, in one read-only snapshot);
- ``close``: closing the connection.

Only ``time`` and ``sys`` are imported before the clock starts.
"""

import sys
import time

_t = [time.perf_counter()]


DEFAULTS = ("prod", "checkout", "2026-11-30T12:00:00Z")
LOOKBACK_DAYS = 90  # the gate read's window (the check takes its gates' longest look-back)


def _lap() -> float:
    _t.append(time.perf_counter())
    return (_t[-1] - _t[-2]) * 1000


def main() -> None:
    url, env, service, now, out = (sys.argv[1:] + [*DEFAULTS, ""][len(sys.argv) - 2 :])[:5]
    ms: dict[str, float] = {}
    _lap()
    import click  # noqa: F401
    import pydantic  # noqa: F401
    import yaml  # noqa: F401

    ms["floor_import"] = _lap()
    import gc
    import os

    from gatekeeper import _startup

    gc.set_threshold(_startup._GC_THRESHOLD, *gc.get_threshold()[1:])
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    for step in ("_skip_plugin_discovery", "_skip_version_lookups"):  # as _startup.run()
        getattr(_startup, step, lambda: None)()  # (an older install may lack one)
    import gatekeeper.cli  # noqa: F401

    ms["cli_import"] = _lap()
    import psycopg  # noqa: F401

    ms["psycopg_import"] = _lap()
    from gatekeeper.store import pg_connection
    from gatekeeper.store.postgres import PostgresIncidentStore
    from gatekeeper.timeutil import days, parse_timestamp

    since = parse_timestamp(now) - days(LOOKBACK_DAYS)
    ms["store_import"] = _lap()
    target = pg_connection.PostgresTarget.parse(url)
    conn = pg_connection.connect(target)
    ms["connect"] = _lap()
    store = PostgresIncidentStore(target, conn)
    store._check_schema()
    ms["schema_check"] = _lap()
    read = store.gate_read(env, [service], since)
    ms["gate_read"] = _lap()
    store.close()
    ms["close"] = _lap()
    if not read.records or read.skipped:
        raise SystemExit(f"unexpected gate read: {read}")
    import json

    print(json.dumps(ms))
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(ms) + "\n")


if __name__ == "__main__":
    main()
