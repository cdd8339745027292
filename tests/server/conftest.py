"""Live-server fixtures: a JSONL store, a keys file with a key per role, a running server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatekeeper.server.keys import KeyStore
from tests.conftest import NOW
from tests.server.live import REPO, LiveServer

AGENTS = ("sofiia", "helion", "monitor", "aistalk", "stranger")
NOW_TEXT = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Served:
    server: LiveServer
    keys: dict[str, str]  # agent -> gk_ token
    keys_file: Path
    store_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def call(
        self, tool: str, body: Any, *, agent: str | None = "sofiia", **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if agent is not None:
            headers["X-API-Key"] = self.keys[agent]
        return httpx.post(
            f"{self.url}/v1/tools/{tool}", json=body, headers=headers, timeout=30, **kwargs
        )


def make_keys(keys_file: Path) -> dict[str, str]:
    store = KeyStore(keys_file)
    return {agent: store.add(agent, now=NOW).token for agent in AGENTS}


def serve(tmp: Path, *extra_args: str, workers: int = 1, env: dict[str, str] | None = None,
          store_dir: Path | None = None) -> Served:  # fmt: skip
    store_dir = store_dir or tmp / "store"
    store_dir.mkdir(exist_ok=True)
    keys_file = tmp / "keys" / "api_keys.json"
    keys = make_keys(keys_file)
    args = ["--store-dir", str(store_dir), "--policy", str(REPO / "policies")]
    args += ["--keys-file", str(keys_file), "--now", NOW_TEXT, *extra_args]
    # As `gatekeeper serve` run from the repository root: the shipped job registry.
    env = {"GATEKEEPER_REGISTRY": str(REPO / "ops" / "task_registry.yml"), **(env or {})}
    server = LiveServer(args, workers=workers, env=env, log=tmp / "server.log", cwd=tmp)
    server.start()
    return Served(server, keys, keys_file, store_dir)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One live server over a fresh JSONL store for a whole test module."""
    running = serve(tmp_path_factory.mktemp("served"))
    yield running
    running.server.stop()
