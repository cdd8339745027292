"""The envelope agents send and the answer they get back (see docs/tool-api.md).

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

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError, InvalidInput
from gatekeeper.incidents import incident_service
from gatekeeper.inputs import load_json
from gatekeeper.models import describe_validation_error
from gatekeeper.rbac import Rbac
from gatekeeper.store import IncidentStore
from gatekeeper.store.readonly import read_only
from gatekeeper.tools import intelligence, jobs, oncall
from gatekeeper.tools.base import Action, Params, Tool, ToolContext, require_permission

logger = logging.getLogger("gatekeeper.tools")

TOOLS: Mapping[str, Tool] = {
    tool.name: tool for tool in (oncall.TOOL, intelligence.TOOL, jobs.TOOL)
}

Answer = dict[str, Any]
Request = Mapping[str, Any] | bytes | str


class Envelope(Params):
    """The request: which action of which tool, for which agent, with what params."""

    tool: str
    action: str
    agent_id: str | None = Field(default=None, min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)


def handle(
    request: Request,
    *,
    store: IncidentStore,
    settings: Settings,
    now: datetime,
    agent: str | None = None,
) -> Answer:
    """Validate ``request``, run its action as its ``agent_id`` and return the answer.

    ``agent`` (``gatekeeper tool --agent``) stands in for a missing ``agent_id``.
    An action declared ``writes`` (or whose params ask it to write, see
    :attr:`Action.writes_when`) runs only for an agent whose role may write,
    checked here before it runs.
    Never raises for a bad request or a failed action: the answer says what went wrong.
    """
    label = "request"
    try:
        envelope = parse_envelope(request)
        label = f"{envelope.tool}.{envelope.action}"
        action, params = resolve(envelope)
        acting = _acting_agent(envelope, agent)
        writes = action.writes_for(params)
        if not writes:
            store = read_only(store, label)
        service = incident_service(store, settings, agent=acting)
        if writes:
            _require_write(service.rbac, acting, label)
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


def _acting_agent(envelope: Envelope, agent: str | None) -> str | None:
    """The envelope's ``agent_id``; the caller's agent only when the envelope names none."""
    return envelope.agent_id if envelope.agent_id is not None else agent


def _require_write(rbac: Rbac, agent: str | None, label: str) -> None:
    require_permission(rbac, agent, "incident_write", label)


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
        return Envelope.model_validate(unflattened(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


ENVELOPE_FIELDS = frozenset({"tool", "action", "agent_id", "params"})
DEFAULT_TOOL = "oncall_tool"


def unflattened(data: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope in its full form.

    The runbook's agents also send flat envelopes — ``{"action": ..., "service":
    ..., "window_days": 30}`` — with the params at the top level and no ``tool``
    (it defaults to ``oncall_tool``). An envelope with a ``params`` object is
    taken as it is, so a stray top-level field there is still refused.
    """
    envelope = dict(data)
    if "params" not in envelope:
        params = {k: v for k, v in envelope.items() if k not in ENVELOPE_FIELDS}
        envelope = {k: v for k, v in envelope.items() if k in ENVELOPE_FIELDS}
        envelope["params"] = params
    envelope.setdefault("tool", DEFAULT_TOOL)
    return envelope


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
    return load_json(text, field="request")


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
