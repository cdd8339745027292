"""Calling the tool interface in-process against a JSONL store in ``tmp_path``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.config import Settings
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.tools import handle
from tests.conftest import NOW

Call = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(store_dir: Path, tmp_path: Path) -> Settings:
    # A policy path without rbac.yml: the built-in roles apply.
    return Settings(store_dir=store_dir, artifacts_dir=store_dir, policy=tmp_path / "no-policy")


@pytest.fixture
def call(settings: Settings) -> Call:
    """``call(request, now=...)``: the answer, checked to survive a JSON round trip."""

    def run(request: Mapping[str, Any] | str | bytes, *, now: datetime = NOW) -> dict[str, Any]:
        store = JsonlIncidentStore(settings.store_dir)
        answer = handle(request, store=store, settings=settings, now=now)
        assert json.loads(json.dumps(answer)) == answer
        return answer

    return run


def envelope(action: str, agent: str | None = None, **params: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"tool": "oncall_tool", "action": action, "params": params}
    if agent is not None:
        request["agent_id"] = agent
    return request


def error(answer: dict[str, Any]) -> tuple[str, str]:
    assert answer["ok"] is False, answer
    return answer["error"]["code"], answer["error"]["message"]


from tests.store.conftest import migrated_pg_url, pg_schema, pg_server, pg_url  # noqa: E402, F401
