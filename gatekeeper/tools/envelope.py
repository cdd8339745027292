"""The envelope agents send and the answer they get back (SPEC §6).

Request::

    {"tool": "oncall_tool", "action": "incident_get", "agent_id": "helion",
     "params": {"incident_id": "inc_20260223_1000_abc123"}}

Answer: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": {"code": ..., "message": ...}}``. Every expected failure
maps to the ``code`` of its :class:`~gatekeeper.errors.GatekeeperError`; anything
else is ``internal`` with a generic message, so no traceback or internal detail
ever reaches the caller.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError, InvalidInput
from gatekeeper.incidents import incident_service
from gatekeeper.models import describe_validation_error
from gatekeeper.store import IncidentStore
from gatekeeper.tools import intelligence, oncall
from gatekeeper.tools.base import Action, Params, Tool, ToolContext

logger = logging.getLogger("gatekeeper.tools")

TOOLS: Mapping[str, Tool] = {tool.name: tool for tool in (oncall.TOOL, intelligence.TOOL)}

Answer = dict[str, Any]
Request = Mapping[str, Any] | bytes | str


class Envelope(Params):
    """The request: which action of which tool, for which agent, with what params."""

    tool: str
    action: str
    agent_id: str | None = Field(default=None, min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)


def handle(request: Request, *, store: IncidentStore, settings: Settings, now: datetime) -> Answer:
    """Validate ``request``, run its action as its ``agent_id`` and return the answer.

    Never raises for a bad request or a failed action: the answer says what went wrong.
    """
    label = "request"
    try:
        envelope = parse_envelope(request)
        label = f"{envelope.tool}.{envelope.action}"
        action, params = resolve(envelope)
        service = incident_service(store, settings, agent=envelope.agent_id)
        context = ToolContext(store=store, incidents=service, settings=settings, now=now)
        result = action.run(context, params)
    except GatekeeperError as exc:
        return failure(exc)
    except Exception as exc:
        # Callers get a generic message; operators get one log line (and, at
        # DEBUG, the traceback) so nothing internal leaks into answers.
        logger.error("internal error in %s: %s", label, type(exc).__name__)
        logger.debug("traceback for %s", label, exc_info=True)
        return {"ok": False, "error": {"code": "internal", "message": f"internal error in {label}"}}
    return {"ok": True, "result": result}


def failure(exc: GatekeeperError) -> Answer:
    """The answer for an expected error: its code and its one-line message."""
    return {"ok": False, "error": {"code": exc.code, "message": str(exc)}}


def parse_envelope(request: Request) -> Envelope:
    """Decode (if bytes or text) and validate the envelope; :class:`InvalidInput` if bad."""
    data: Any = request
    if isinstance(request, bytes | str):
        data = _decode(request)
    if not isinstance(data, Mapping):
        raise InvalidInput(f"request: expected a JSON object, got {_json_type(data)}")
    try:
        return Envelope.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def resolve(envelope: Envelope) -> tuple[Action[Any], Params]:
    """The action the envelope names and its validated params."""
    tool = TOOLS.get(envelope.tool)
    if tool is None:
        known = ", ".join(sorted(TOOLS))
        raise InvalidInput(f"tool: unknown tool {envelope.tool!r} (expected one of: {known})")
    action = tool.actions.get(envelope.action)
    if action is None:
        known = ", ".join(sorted(tool.actions))
        raise InvalidInput(
            f"action: unknown action {envelope.action!r} of {tool.name} (expected one of: {known})"
        )
    try:
        return action, action.params.model_validate(envelope.params)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, prefix="params.")) from None


def _decode(raw: bytes | str) -> Any:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"request: not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise InvalidInput("request: empty; expected a JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"request: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
