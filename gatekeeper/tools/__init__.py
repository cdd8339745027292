"""Tools agents call with a JSON envelope (see docs/tool-api.md): ``oncall_tool``,
``incident_intelligence_tool`` and ``jobs``.

Public names: :func:`handle` answers one envelope; :data:`TOOLS` maps tool names
to their :class:`Tool` (add a tool by building one in its own module and listing
it in ``envelope.TOOLS``); :func:`failure` turns an expected error into an answer.
"""

from __future__ import annotations

from gatekeeper.tools.base import Action, Params, Tool, ToolContext
from gatekeeper.tools.envelope import TOOLS, Answer, Envelope, failure, handle, parse_envelope

__all__ = [
    "TOOLS",
    "Action",
    "Answer",
    "Envelope",
    "Params",
    "Tool",
    "ToolContext",
    "failure",
    "handle",
    "parse_envelope",
]
