"""Request body limits: at most 4 MiB, declared or streamed, and JSON only."""

from __future__ import annotations

from starlette.requests import Request

from gatekeeper.server.errors import HttpError

MAX_BODY_BYTES = 4 * 1024 * 1024
# curl -d sends this type unless told otherwise; the runbook's examples rely on
# it, so such a body is read as JSON too (it must still be a JSON object).
JSON_TYPES = ("application/json", "application/x-www-form-urlencoded")


def check_media_type(request: Request) -> None:
    """415 unless the body is declared JSON (or not declared at all)."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media_type = declared.split(";", 1)[0].strip().lower()
    json_suffix = media_type.startswith("application/") and media_type.endswith("+json")
    if media_type in JSON_TYPES or json_suffix:
        return
    raise HttpError(
        "unsupported_media_type", f"Content-Type: {media_type!r} is not application/json"
    )


async def read_body(request: Request) -> bytes:
    """The whole body, refusing with 413 once it passes :data:`MAX_BODY_BYTES`."""
    check_media_type(request)
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise HttpError("invalid", "Content-Length: not a number") from None
        if length > MAX_BODY_BYTES:
            raise _too_large()
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> HttpError:
    return HttpError("too_large", f"request body over {MAX_BODY_BYTES} bytes (4 MiB)")
