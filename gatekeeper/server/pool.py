"""A small pool of open stores, one per concurrent request (up to ``size``).

A store object is not shared by two requests at once: a Postgres store holds one
connection (one transaction at a time), and the JSONL store keeps per-instance
read caches. Each uvicorn worker has its own pool; workers share only the
database (or, for JSONL, the files and their lock).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

from gatekeeper.config import Settings
from gatekeeper.store import IncidentStore, open_store


class StorePool:
    def __init__(self, settings: Settings, size: int) -> None:
        self._settings = settings
        self._size = max(1, size)
        self._free: queue.LifoQueue[IncidentStore] = queue.LifoQueue()
        self._opened = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def acquire(self) -> Iterator[IncidentStore]:
        """A store for the duration of one request; opened on first need."""
        store = self._take()
        try:
            yield store
        finally:
            self._free.put(store)

    def _take(self) -> IncidentStore:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            may_open = self._opened < self._size
            if may_open:
                self._opened += 1
        if not may_open:
            return self._free.get()
        try:
            return open_store(self._settings)
        except BaseException:
            with self._lock:
                self._opened -= 1
            raise

    def close(self) -> None:
        while True:
            try:
                store = self._free.get_nowait()
            except queue.Empty:
                return
            store.close()
