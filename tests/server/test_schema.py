"""schemathesis against the served /openapi.json: bounded examples, every operation.

Checks: no 5xx, status codes and content types the document declares, responses
matching their schemas, and no request accepted without a (valid) API key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.server.conftest import Served, serve

EXAMPLES = 30
BAD_KEY = "gk_0123456789ab_" + "0" * 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]


@pytest.fixture(scope="module")
def schema_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = serve(tmp_path_factory.mktemp("schema"))
    yield running
    running.server.stop()


def operations(served: Served) -> list[schemathesis.APIOperation[Any, Any, Any, Any]]:
    api = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    found = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result  # a schema schemathesis cannot read fails here
        found.append(result.ok())
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_contract(schema_server: Served, mode: GenerationMode) -> None:
    headers = {"X-API-Key": schema_server.keys["sofiia"]}
    found = operations(schema_server)
    assert {op.label for op in found} >= {"POST /v1/tools/oncall_tool", "GET /v1/check"}
    for operation in found:
        if mode is GenerationMode.NEGATIVE and not (len(operation.body) or len(operation.query)):
            continue  # nothing to make invalid (GET /healthz)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)
            if case.operation.definition.raw.get("security") != []:
                for bad in ({}, {"X-API-Key": BAD_KEY}):
                    assert case.call(headers=bad).status_code == 401, case.as_curl_command()

        run()
