"""A view of a store that refuses every write: what an action declared as a read gets.

The tool interface hands it to actions registered with ``writes=False``, so an
action that is mis-declared cannot write without the permission check that
write actions pass first.
"""

from __future__ import annotations

from typing import Any, cast

from gatekeeper.errors import Forbidden
from gatekeeper.store.base import IncidentStore
from gatekeeper.store.writes import WriteBatch

_WRITES = frozenset({"write", "compact", "delete_incidents", "reindex"})


class _ReadOnly:
    def __init__(self, store: IncidentStore, label: str) -> None:
        self._store = store
        self._label = label
        self.backend = store.backend

    def write(self, batch: WriteBatch, *, upsert: bool = False) -> None:
        self._refuse()

    def _refuse(self) -> None:
        raise Forbidden(f"{self._label} is declared as a read and may not write")

    def __getattr__(self, name: str) -> Any:
        if name in _WRITES:
            self._refuse()
        return getattr(self._store, name)


def read_only(store: IncidentStore, label: str) -> IncidentStore:
    """``store`` for reading only: every write raises :class:`Forbidden`."""
    return cast(IncidentStore, _ReadOnly(store, label))
