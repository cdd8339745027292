"""Incident store backends behind one contract (:class:`IncidentStore`).

Backends are imported lazily so the JSONL path never imports psycopg, and
:class:`WriteBatch` and :class:`CompactResult` (:mod:`gatekeeper.store.writes`)
on first use, so a read never defines them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gatekeeper.config import BACKENDS, Settings
from gatekeeper.store.base import (
    GateRead,
    IncidentFilter,
    IncidentStore,
    Problem,
    ServiceRecord,
)

if TYPE_CHECKING:
    from gatekeeper.store.writes import CompactResult, WriteBatch

__all__ = [
    "CompactResult",
    "GateRead",
    "IncidentFilter",
    "IncidentStore",
    "Problem",
    "ServiceRecord",
    "WriteBatch",
    "open_store",
]

_WRITES = frozenset({"CompactResult", "WriteBatch"})


def __getattr__(name: str) -> Any:
    if name in _WRITES:
        from gatekeeper.store import writes

        return getattr(writes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _open_jsonl(settings: Settings) -> IncidentStore:
    from gatekeeper.store.jsonl import JsonlIncidentStore

    return JsonlIncidentStore(settings.store_dir)


def _open_postgres(settings: Settings) -> IncidentStore:
    from gatekeeper.store.postgres import PostgresIncidentStore

    return PostgresIncidentStore.from_settings(settings)


def _open_auto(settings: Settings) -> IncidentStore:
    from gatekeeper.store.auto import AutoIncidentStore

    return AutoIncidentStore.from_settings(settings)


# How to open each backend that gatekeeper.config.BACKENDS names (the one list of names,
# which --backend and INCIDENT_BACKEND accept); strict: a name without an opener fails here.
OPENERS: dict[str, Callable[[Settings], IncidentStore]] = dict(
    zip(BACKENDS, (_open_jsonl, _open_postgres, _open_auto), strict=True)
)


def open_store(settings: Settings) -> IncidentStore:
    """Open the backend that ``settings.backend`` names.

    ``DATABASE_URL`` set while the backend is jsonl is one warning on stderr: a
    pipeline that set the URL but not the backend would read the files only.
    """
    if settings.backend == "jsonl" and settings.database_url:
        import sys

        print(
            "warning: DATABASE_URL is set but the backend is jsonl; the database is not read "
            "(set INCIDENT_BACKEND or --backend to postgres or auto to use it)",
            file=sys.stderr,
            flush=True,
        )
    return OPENERS[settings.backend](settings)
