"""How errors become HTTP answers: one status per error code, a JSON body always.

The body is the tool interface's failure answer,
``{"ok": false, "error": {"code": ..., "message": ...}}``, plus the request id,
so a caller can quote it and an operator can find the one log line about it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gatekeeper.errors import GatekeeperError

logger = logging.getLogger("gatekeeper.server")

STATUS: Mapping[str, int] = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "too_large": 413,
    "unsupported_media_type": 415,
    "internal": 500,
    "unavailable": 503,
}


class HttpError(GatekeeperError):
    """An error only the HTTP layer has (no key, body too large, wrong media type)."""

    def __init__(self, code: str, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.http_code = code
        self.detail = detail  # for the log line only, never the answer

    @property
    def status(self) -> int:
        return STATUS[self.http_code]


def status_of(code: str) -> int:
    """The HTTP status for an answer's error ``code`` (500 for one not listed)."""
    return STATUS.get(code, 500)


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}, "request_id": request_id}


def log_error(request_id: str, method: str, path: str, status: int, code: str, msg: str) -> None:
    """One log line per failed request (the message folded onto one line)."""
    logger.warning(
        "request_id=%s %s %s %d %s: %s",
        request_id,
        method,
        path,
        status,
        code,
        " ".join(msg.split()),
    )
