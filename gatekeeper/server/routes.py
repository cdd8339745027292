"""The endpoints: each authenticates, reads and checks its input, then runs the
same library call the CLI runs (in a worker thread, with a store from the pool)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gatekeeper import __version__
from gatekeeper.config import Settings
from gatekeeper.engine.check import run_check
from gatekeeper.engine.evaluate import CheckRequest
from gatekeeper.engine.provenance import store_location
from gatekeeper.errors import ConfigError, GatekeeperError, InvalidInput
from gatekeeper.inputs import load_json
from gatekeeper.reports import render
from gatekeeper.server.errors import HttpError, log_error
from gatekeeper.server.keys import ApiKey, KeyStore
from gatekeeper.server.limits import read_body
from gatekeeper.server.openapi import openapi_document
from gatekeeper.server.pool import StorePool
from gatekeeper.store import IncidentFilter, IncidentStore
from gatekeeper.tools import TOOLS, handle

ENVELOPE_FIELDS = ("tool", "action", "agent_id", "params")
CHECK_QUERY = ("env", "service", "gate")


@dataclass
class ServerState:
    settings: Settings
    keys: KeyStore
    pool: StorePool
    _openapi: bytes | None = field(default=None, repr=False)


def authenticate(state: ServerState, request: Request) -> ApiKey:
    """The key in ``X-API-Key``, or 401."""
    token = request.headers.get("x-api-key")
    if not token:
        raise HttpError("unauthorized", "missing X-API-Key header")
    try:
        key = state.keys.authenticate(token, state.settings.current_time())
    except ConfigError as exc:
        # The server's own configuration, not the caller's request: a 500 that
        # says nothing about the file, with the detail in the log line.
        raise HttpError(
            "internal", "internal error: API keys unavailable; see the server log", detail=str(exc)
        ) from exc
    if key is None:
        raise HttpError("unauthorized", "unknown, revoked or expired API key")
    return key


def normalize_envelope(data: Any, tool: str, key: ApiKey) -> dict[str, Any]:
    """The envelope for ``tool`` acting as ``key``'s agent.

    ``tool`` may be omitted (it is in the path) and must match when given; an
    ``agent_id`` other than the key's agent is refused. An envelope without a
    ``params`` object takes its other top-level fields as the params, which is
    how the runbook's ``curl -d '{"action": ..., "window_days": 7}'`` calls read.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("request: expected a JSON object")
    envelope = dict(data)
    given_tool = envelope.get("tool", tool)
    if given_tool != tool:
        raise InvalidInput(f"tool: {given_tool!r} does not match the path's tool {tool!r}")
    agent = envelope.get("agent_id")
    if agent is not None and not isinstance(agent, str):
        raise InvalidInput("agent_id: expected a string")
    if agent is not None and agent != key.agent:
        raise HttpError(
            "forbidden",
            f"agent_id: {agent!r} differs from the API key's agent {key.agent!r}",
        )
    if "params" not in envelope:
        params = {k: v for k, v in envelope.items() if k not in ENVELOPE_FIELDS}
        envelope = {k: v for k, v in envelope.items() if k in ENVELOPE_FIELDS}
        envelope["params"] = params
    envelope["tool"] = tool
    envelope["agent_id"] = key.agent
    return envelope


async def tool(state: ServerState, request: Request) -> Response:
    key = authenticate(state, request)
    name = request.path_params["tool"]
    if name not in TOOLS:
        known = ", ".join(sorted(TOOLS))
        raise HttpError("not_found", f"tool: unknown tool {name!r} (expected one of: {known})")
    body = await read_body(request)
    envelope = normalize_envelope(_decode(body), name, key)

    def run() -> dict[str, Any]:
        with state.pool.acquire() as store:
            now = state.settings.current_time()
            return handle(envelope, store=store, settings=state.settings, now=now)

    answer = await run_in_threadpool(run)
    if answer["ok"]:
        return JSONResponse(answer)
    # The same failure answer `gatekeeper tool` prints, with its HTTP status.
    raise HttpError(answer["error"]["code"], answer["error"]["message"])


def _decode(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"request: not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise InvalidInput("request: empty body; expected a JSON object")
    return load_json(text, field="request")


async def check(state: ServerState, request: Request) -> Response:
    key = authenticate(state, request)
    query = request.query_params
    for name in query:
        if name not in CHECK_QUERY:
            raise InvalidInput(f"{name}: unknown query parameter (expected env, service, gate)")
    envs = query.getlist("env")
    if len(envs) != 1 or not envs[0]:
        raise InvalidInput("env: exactly one env query parameter is needed")
    services = tuple(query.getlist("service"))
    if not services:
        raise InvalidInput("service: at least one service query parameter is needed")

    settings = state.settings

    def run() -> str:
        with _lazy_store(state.pool) as opener:
            request_ = CheckRequest(
                env=envs[0],
                services=services,
                now=settings.current_time(),
                gates=tuple(query.getlist("gate")),
                agent=key.agent,
                # The report names its store even when no gate read it, as the CLI's does.
                backend=settings.backend,
                location=store_location(
                    settings.backend, settings.store_dir, settings.database_url
                ),
                now_from_option=settings.now is not None,
            )
            return render(run_check(state.settings.policy, request_, opener), "json")

    report = await run_in_threadpool(run)
    return Response(report, media_type="application/json")


class _Opener:
    def __init__(self, stack: contextlib.ExitStack, pool: StorePool) -> None:
        self._stack, self._pool = stack, pool
        self._store: IncidentStore | None = None

    def __call__(self) -> IncidentStore:
        if self._store is None:
            self._store = self._stack.enter_context(self._pool.acquire())
        return self._store


@contextlib.contextmanager
def _lazy_store(pool: StorePool) -> Iterator[_Opener]:
    # The gate opens the store only when a gate reads it (a freeze window does not).
    with contextlib.ExitStack() as stack:
        yield _Opener(stack, pool)


async def healthz(state: ServerState, request: Request) -> Response:
    def probe() -> dict[str, Any]:
        data: dict[str, Any] = {"status": "ok", "version": __version__}
        data["backend"] = state.settings.backend
        data["degraded"] = False
        data["pending_replay"] = 0
        try:
            with state.pool.acquire() as store:
                store.list_incidents(IncidentFilter(limit=1))
                if state.settings.backend == "auto":
                    info = store.info()
                    data["active"] = info.get("active")
                    data["degraded"] = bool(info.get("degraded"))
                    data["pending_replay"] = int(info.get("pending_replay") or 0)
        except GatekeeperError as exc:
            data["status"] = "unavailable"
            data["error"] = str(exc)
            return data
        if data["degraded"]:
            data["status"] = "degraded"
        return data

    data = await run_in_threadpool(probe)
    if data["status"] != "unavailable":
        return JSONResponse(data)
    request_id = str(request.scope.get("gatekeeper.request_id", "-"))
    log_error(request_id, request.method, request.url.path, 503, "unavailable", data["error"])
    return JSONResponse(data, status_code=503)


async def openapi(state: ServerState, request: Request) -> Response:
    if state._openapi is None:
        state._openapi = json.dumps(openapi_document(), indent=2).encode("utf-8")
    return Response(state._openapi, media_type="application/json")
