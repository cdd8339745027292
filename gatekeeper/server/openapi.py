"""``/openapi.json``: the HTTP contract, generated from the tool registry.

Each tool's request body is one envelope per action whose ``params`` schema is
the JSON Schema of the very pydantic model ``gatekeeper tool`` validates with,
so the CLI and HTTP share one contract; a tool added to the registry appears
here without a change to this module.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic.json_schema import models_json_schema

from gatekeeper import __version__
from gatekeeper.server.errors import STATUS
from gatekeeper.tools import TOOLS, Action, Params

REF = "#/components/schemas/"
ERRORS = {
    400: "invalid request (the message names the field)",
    401: "no, unknown, revoked or expired API key",
    403: "the key's agent may not do this, or the body's agent_id is not the key's agent",
    404: "unknown tool, incident or follow-up",
    409: "conflict with the stored record",
    413: "body over 4 MiB",
    415: "body not application/json",
    503: "incident store unavailable",
}


def _params_schemas() -> tuple[dict[tuple[str, str], str], dict[str, Any]]:
    """For each (tool, action) the name of its params schema, and every schema."""
    models: list[tuple[type[Params], Literal["validation"]]] = []
    for tool in TOOLS.values():
        models.extend((action.params, "validation") for action in tool.actions.values())
    refs, top = models_json_schema(models, ref_template=REF + "{model}")
    names: dict[tuple[str, str], str] = {}
    for tool in TOOLS.values():
        for action in tool.actions.values():
            names[(tool.name, action.name)] = refs[(action.params, "validation")]["$ref"]
    return names, dict(top.get("$defs", {}))


def _envelope(tool: str, action: str, params_ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"{tool}.{action}",
        "additionalProperties": False,
        "required": ["action"],
        "properties": {
            "tool": {"type": "string", "enum": [tool]},
            "action": {"type": "string", "enum": [action]},
            "agent_id": {
                "type": "string",
                "minLength": 1,
                "description": "must be the API key's agent when given",
            },
            "params": {"$ref": params_ref},
        },
    }


def _error_responses(codes: tuple[int, ...]) -> dict[str, Any]:
    return {
        str(code): {
            "description": ERRORS[code],
            "content": {"application/json": {"schema": {"$ref": REF + "ErrorAnswer"}}},
        }
        for code in codes
    }


def _writes(action: Action[Any]) -> str:
    if action.writes:
        return " (writes)"
    return " (writes when its params ask)" if action.writes_when is not None else ""


def _tool_path(tool_name: str, names: dict[tuple[str, str], str]) -> dict[str, Any]:
    tool = TOOLS[tool_name]
    variants = [_envelope(tool.name, a, names[(tool.name, a)]) for a in sorted(tool.actions)]
    lines = [f"- `{a.name}`{_writes(a)}: {a.summary}" for a in
             sorted(tool.actions.values(), key=lambda a: a.name)]  # fmt: skip
    return {
        "post": {
            "operationId": tool.name,
            "summary": tool.description,
            "description": "Actions:\n" + "\n".join(lines),
            "security": [{"ApiKey": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"oneOf": variants}}},
            },
            "responses": {
                "200": {
                    "description": "the action's result",
                    "content": {"application/json": {"schema": {"$ref": REF + "OkAnswer"}}},
                },
                **_error_responses((400, 401, 403, 404, 409, 413, 415, 503)),
            },
        }
    }


CHECK_PARAMETERS = [
    {"name": "env", "in": "query", "required": True, "schema": {"type": "string"}},
    {
        "name": "service",
        "in": "query",
        "required": True,
        "schema": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "style": "form",
        "explode": True,
    },
    {
        "name": "gate",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
]

COMMON_SCHEMAS: dict[str, Any] = {
    "OkAnswer": {
        "type": "object",
        "required": ["ok", "result"],
        "properties": {"ok": {"type": "boolean", "enum": [True]}, "result": {}},
    },
    "ErrorAnswer": {
        "type": "object",
        "required": ["ok", "error", "request_id"],
        "properties": {
            "ok": {"type": "boolean", "enum": [False]},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": sorted(STATUS)},
                    "message": {"type": "string"},
                },
            },
            "request_id": {"type": "string"},
        },
    },
    "CheckReport": {
        "type": "object",
        "description": "the JSON report of `gatekeeper check --format json`",
        "required": ["decision", "exit_code", "env", "strict", "evaluated_at", "results"],
        "properties": {
            "decision": {"type": "string", "enum": ["pass", "warn", "block", "error"]},
            "exit_code": {"type": "integer"},
            "env": {"type": "string"},
            "strict": {"type": "boolean"},
            "evaluated_at": {"type": "string"},
            "results": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "backend", "degraded", "pending_replay", "version"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
            "backend": {"type": "string"},
            "degraded": {"type": "boolean"},
            "pending_replay": {"type": "integer"},
            "version": {"type": "string"},
        },
    },
}


def _fixed_paths() -> dict[str, Any]:
    def ok(schema: str, description: str) -> dict[str, Any]:
        content = {"application/json": {"schema": {"$ref": REF + schema}}}
        return {"description": description, "content": content}

    return {
        "/v1/check": {
            "get": {
                "operationId": "check",
                "summary": "The release gate: HTTP 200 with the report whatever the decision",
                "security": [{"ApiKey": []}],
                "parameters": CHECK_PARAMETERS,
                "responses": {
                    "200": ok("CheckReport", "the report; see its decision"),
                    **_error_responses((400, 401)),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness and store health; no key needed",
                "security": [],
                "responses": {
                    "200": ok("Health", "the store answers (status ok or degraded)"),
                    "503": ok("Health", "the store is unreachable"),
                },
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document ``GET /openapi.json`` serves."""
    names, schemas = _params_schemas()
    paths = {f"/v1/tools/{name}": _tool_path(name, names) for name in sorted(TOOLS)}
    paths.update(_fixed_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "gatekeeper", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {**schemas, **COMMON_SCHEMAS},
        },
    }
