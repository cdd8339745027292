"""The Starlette application behind ``gatekeeper serve``.

Routes (see ``docs/api.md``)::

    POST /v1/tools/{tool}   a tool envelope, answered as ``gatekeeper tool`` answers it
    GET  /v1/check          the JSON report of ``gatekeeper check`` (HTTP 200 whatever it says)
    GET  /healthz           status, backend, degraded, writes awaiting replay, version
    GET  /openapi.json      the contract, generated from the tools' params models

Every response carries ``X-Request-Id``; every error is one JSON body and one
log line with that id, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatekeeper.config import Settings, load_settings
from gatekeeper.errors import GatekeeperError
from gatekeeper.server import routes
from gatekeeper.server.errors import STATUS, HttpError, error_body, log_error
from gatekeeper.server.keys import KeyStore
from gatekeeper.server.pool import StorePool

logger = logging.getLogger("gatekeeper.server")  # shared with errors.log_error

Endpoint = Callable[[Request], Awaitable[Response]]


def error_response(
    request: Request, code: str, message: str, detail: str | None = None
) -> JSONResponse:
    request_id = str(request.scope.get("gatekeeper.request_id", "-"))
    status = STATUS.get(code, 500)
    log_error(request_id, request.method, request.url.path, status, code, detail or message)
    return JSONResponse(error_body(code, message, request_id), status_code=status)


def guarded(endpoint: Endpoint) -> Endpoint:
    """Turn every error an endpoint raises into its JSON answer (and one log line)."""

    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except HttpError as exc:
            return error_response(request, exc.http_code, exc.message, exc.detail)
        except GatekeeperError as exc:
            return error_response(request, exc.code, str(exc))
        except Exception as exc:
            logger.debug("traceback", exc_info=True)
            return error_response(
                request,
                "internal",
                f"internal error ({type(exc).__name__}); see the server log",
                f"{type(exc).__name__}: {exc}",
            )

    return run


class RequestIdMiddleware:
    """Give each request an id, answer it in ``X-Request-Id``, and never leak a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope["gatekeeper.request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append("X-Request-Id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log_error(request_id, scope.get("method", "-"), scope.get("path", "-"), 500,
                      "internal", type(exc).__name__)  # fmt: skip
            if started:
                raise
            body = error_body("internal", "internal error; see the server log", request_id)
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        response = error_response(
            request, "method_not_allowed", f"method {request.method} not allowed"
        )
        allow = getattr(exc, "headers", None) or {}
        if "Allow" in allow:
            response.headers["Allow"] = allow["Allow"]
        return response
    if status == 404:
        return error_response(request, "not_found", f"no route {request.url.path}")
    return error_response(request, "invalid", str(getattr(exc, "detail", "bad request")))


def _lifespan(pool: StorePool) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        pool.close()

    return lifespan


def create_app(settings: Settings, *, pool_size: int = 4) -> Starlette:
    """The application, serving the store and keys file that ``settings`` name."""
    state = routes.ServerState(
        settings=settings, keys=KeyStore(settings.keys_file), pool=StorePool(settings, pool_size)
    )

    def bind(handler: Callable[[routes.ServerState, Request], Awaitable[Response]]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await handler(state, request)

        return guarded(endpoint)

    app = Starlette(
        routes=[
            Route("/v1/tools/{tool}", bind(routes.tool), methods=["POST"]),
            Route("/v1/check", bind(routes.check), methods=["GET"]),
            Route("/healthz", bind(routes.healthz), methods=["GET"]),
            Route("/openapi.json", bind(routes.openapi), methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_exception},
        lifespan=_lifespan(state.pool),
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def app_from_environment() -> Starlette:
    """The application for uvicorn workers: settings from the environment ``serve`` set."""
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    settings = load_settings()
    _warn_about_keys_file(settings.keys_file)
    return create_app(settings)


def _warn_about_keys_file(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        logger.warning("no keys file at %s: every request needing a key gets 401 "
                       "(make one with: gatekeeper keys add AGENT)", path)  # fmt: skip
        return
    except OSError:
        return
    if stat.S_IMODE(mode) & 0o077:
        logger.warning("keys file %s is readable by others (mode %o); chmod 600 it",
                       path, stat.S_IMODE(mode))  # fmt: skip
