"""Where the ops data lives: beside the JSONL store, or in the PostgreSQL database.

The run log, the risk history and the backlog follow the incident store: files
in the store directory on jsonl; tables (migration 4) on postgres, and on auto
while Postgres is reachable. In auto mode with Postgres away they fall back to
the store directory, as the incidents do. The alert inbox does not: it is
chosen by :func:`gatekeeper.ops.alerts.inbox.open_inbox`, which fails closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gatekeeper.config import Settings
from gatekeeper.store import IncidentStore

if TYPE_CHECKING:
    from gatekeeper.store.pg_connection import Connection


@dataclass(frozen=True)
class OpsPlace:
    kind: Literal["jsonl", "postgres"]
    directory: Path
    url: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "jsonl":
            return str(self.directory)
        from gatekeeper.store.pg_connection import PostgresTarget

        return PostgresTarget.parse(self.url).label

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """An autocommit connection to the database (postgres places only)."""
        from gatekeeper.store.pg_connection import PostgresTarget, connect

        conn = connect(PostgresTarget.parse(self.url))
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def translated(self, what: str, conn: Connection) -> Iterator[None]:
        from gatekeeper.store.pg_connection import PostgresTarget, translate

        with translate(PostgresTarget.parse(self.url), what, conn):
            yield


def ops_place(settings: Settings, store: IncidentStore | None = None) -> OpsPlace:
    """The place for ``settings``; ``store`` (auto mode) says whether Postgres is away."""
    if settings.backend == "jsonl":
        return OpsPlace("jsonl", settings.store_dir)
    if settings.backend == "auto" and store is not None and getattr(store, "degraded", False):
        return OpsPlace("jsonl", settings.store_dir)
    return OpsPlace("postgres", settings.store_dir, settings.database_url)
