"""Load a generated JSONL store into PostgreSQL, one schema per size, once.

    python -m bench.pg postgresql://postgres@127.0.0.1:5432/test bench/data/10k bench_10k
    python -m bench.pg --ping postgresql://postgres@127.0.0.1:5432/test

The records go through the project's own path: the JSONL store reads them
(validated), the schema is migrated with :func:`migrate_database`, and
:meth:`PostgresIncidentStore.write` inserts them in batches. A schema already
holding the same counts as the JSONL store is left alone, so benchmark runs
after the first do not reload.

psycopg and gatekeeper are imported inside the functions that use them:
``bench.run`` imports :func:`schema_url` and must stay small, because a child
process's peak RSS (what the benchmarks report) starts from its parent's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

if TYPE_CHECKING:
    from gatekeeper.store.jsonl import JsonlIncidentStore
    from gatekeeper.store.postgres import PostgresIncidentStore

BATCH = 5000
T = TypeVar("T")


def schema_url(url: str, schema: str) -> str:
    """``url`` with its search_path set to ``schema`` (libpq ``options``)."""
    option = quote(f"-csearch_path={schema}", safe="")
    if "://" not in url:  # a key=value DSN
        return f"{url} options={option.replace('%3D', '=')}"
    return f"{url}{'&' if '?' in url else '?'}options={option}"


def jsonl_counts(directory: Path) -> dict[str, int]:
    """The JSONL store's counts as ``store info`` gives them (lines of events and artifacts).

    Generated stores have no damaged or repeated lines, so these are what a
    faithful load holds, without parsing a million events.
    """
    from gatekeeper.store.jsonl import JsonlIncidentStore

    info = JsonlIncidentStore(directory).info()
    return {key: int(info[key]) for key in ("incidents", "events", "artifacts")}


def _batches(items: Iterable[T]) -> Iterator[tuple[T, ...]]:
    iterator = iter(items)
    while batch := tuple(islice(iterator, BATCH)):
        yield batch


def _reset_schema(database_url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as conn:
        name = sql.Identifier(schema)
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))


def _load(source: JsonlIncidentStore, target: PostgresIncidentStore) -> None:
    from gatekeeper.store import WriteBatch

    for incidents in _batches(source.iter_incidents()):
        target.write(WriteBatch(new_incidents=incidents))
    for events in _batches(source.iter_events()):
        target.write(WriteBatch(events=events))
    for artifacts in _batches(source.iter_artifacts()):
        target.write(WriteBatch(artifacts=artifacts))


def _loaded_counts(url: str) -> dict[str, int] | None:
    """The schema's counts, or ``None`` if it is missing or not migrated."""
    from gatekeeper.errors import StoreUnavailable
    from gatekeeper.store.postgres import PostgresIncidentStore

    try:
        store = PostgresIncidentStore.open(url)
    except StoreUnavailable:  # missing or not migrated: (re)load it
        return None
    try:
        info = store.info()
    finally:
        store.close()
    return {key: int(info[key]) for key in ("incidents", "events", "artifacts")}


def ensure_loaded(jsonl_dir: Path, database_url: str, schema: str) -> bool:
    """Make ``schema`` hold exactly the JSONL store's records; ``True`` if it (re)loaded."""
    from gatekeeper.store.jsonl import JsonlIncidentStore
    from gatekeeper.store.migrations import migrate_database
    from gatekeeper.store.postgres import PostgresIncidentStore

    url = schema_url(database_url, schema)
    expected = jsonl_counts(jsonl_dir)
    if _loaded_counts(url) == expected:
        return False
    print(f"loading {jsonl_dir} into schema {schema} …", file=sys.stderr)
    _reset_schema(database_url, schema)
    migrate_database(url)
    target = PostgresIncidentStore.open(url)
    try:
        _load(JsonlIncidentStore(jsonl_dir), target)
        target.compact()  # VACUUM ANALYZE: the planner sees the real sizes
    finally:
        target.close()
    return True


def reachable(database_url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(database_url, connect_timeout=3).close()
    except psycopg.Error as exc:
        print(f"postgres unreachable: {exc}".strip(), file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pg", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--ping", action="store_true", help="only check the server answers")
    parser.add_argument("database_url")
    parser.add_argument("jsonl_dir", type=Path, nargs="?")
    parser.add_argument("schema", nargs="?", default="bench")
    args = parser.parse_args(argv)
    if args.ping or args.jsonl_dir is None:
        return 0 if reachable(args.database_url) else 1
    ensure_loaded(args.jsonl_dir, args.database_url, args.schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
