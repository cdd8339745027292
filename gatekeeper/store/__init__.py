"""Incident store backends behind one contract (:class:`IncidentStore`).

Backends are imported lazily so the JSONL path never imports psycopg.
"""

from __future__ import annotations

from collections.abc import Callable

from gatekeeper.config import Settings
from gatekeeper.store.base import (
    CompactResult,
    GateRead,
    IncidentFilter,
    IncidentStore,
    Problem,
    ServiceRecord,
    WriteBatch,
)

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


def _open_jsonl(settings: Settings) -> IncidentStore:
    from gatekeeper.store.jsonl import JsonlIncidentStore

    return JsonlIncidentStore(settings.store_dir)


def _open_postgres(settings: Settings) -> IncidentStore:
    from gatekeeper.store.postgres import PostgresIncidentStore

    return PostgresIncidentStore.from_settings(settings)


def _open_auto(settings: Settings) -> IncidentStore:
    from gatekeeper.store.auto import AutoIncidentStore

    return AutoIncidentStore.from_settings(settings)


BACKENDS: dict[str, Callable[[Settings], IncidentStore]] = {
    "jsonl": _open_jsonl,
    "postgres": _open_postgres,
    "auto": _open_auto,
}


def open_store(settings: Settings) -> IncidentStore:
    """Open the backend that ``settings.backend`` names."""
    return BACKENDS[settings.backend](settings)
