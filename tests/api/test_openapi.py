"""The OpenAPI 3.1 document: valid, complete (every route of the app), and true: schemathesis,
generating requests from it for every operation — valid ones (positive) and ones that break
the schema (negative) — checks every answer against the document (no 5xx; a status code the
operation declares; the declared media type; a body that fits the declared schema, Problem
Details for every refusal). It calls as several roles: the owner (positive and negative cases),
a member and a portal user (positive cases: what the document says they get, 403s and 404s
included).

Schemathesis has no Chalice transport, so a small adapter turns each generated Case into a
request through the same chalice test client every other API test uses, in a tenant of its own
(generated PATCHes may rename it or change its users), and the answer back into a schemathesis
Response. Positive cases use real path ids made by the route matrix's factories, so valid
bodies reach real records.

In `make test` the campaign is small and fixed (FUZZ_SEED, FUZZ_EXAMPLES: the same cases every
run); `make fuzz` runs it long and random (BLUEHILL_FUZZ_SEED=random, many examples) and prints
every operation and role whose answers broke the document."""

from __future__ import annotations

import json
import os
import random
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
import schemathesis
from foundation_helpers import PROBLEM_JSON, app_routes, declared_routes, header
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response as CheckedResponse
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_route_matrix import PATH_FACTORIES, Seed

from bluehill_dev.harness_env import Api, TenantWorld, build_tenant

POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# Fixed in CI so the same cases run every time; `make fuzz` sets both (a random seed, many examples).
FUZZ_SEED = (random.randrange(2**32) if os.environ.get("BLUEHILL_FUZZ_SEED") == "random"
             else int(os.environ.get("BLUEHILL_FUZZ_SEED", "20261204")))
FUZZ_EXAMPLES = int(os.environ.get("BLUEHILL_FUZZ_EXAMPLES", "6"))
# Who calls, and which cases: the owner reaches every operation, so it gets the broken requests
# too; the member and the portal user check what the document promises them.
ROLE_MODES = {"owner": (POSITIVE, NEGATIVE), "member": (POSITIVE,), "portal": (POSITIVE,)}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Negative cases need something to break: an operation without parameters or body has none.
CASES = [
    (spec.method, spec.path, role, mode)
    for spec in declared_routes()
    for role, modes in ROLE_MODES.items()
    for mode in modes
    if mode is POSITIVE or spec.body is not None or spec.query is not None or "{" in spec.path
]


@pytest.fixture(scope="module")
def document(http: Any) -> dict[str, Any]:
    served = Api(http, None).get("/openapi.json")
    assert served.status == 200, served.body
    return served.json


@pytest.fixture(scope="module")
def fuzz_world(aws: Any, http: Any) -> TenantWorld:
    return build_tenant(aws, http)


@pytest.fixture(scope="module")
def fuzzer(document: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_dict(document)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_covers_every_route_of_the_app(document: dict[str, Any], chalice_app: Any) -> None:
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    served = {(method, path) for path, methods in chalice_app.routes.items() for method in methods}
    assert documented == served == set(app_routes())


def test_every_protected_operation_requires_the_bearer_token(document: dict[str, Any]) -> None:
    public = {(spec.method, spec.path) for spec in declared_routes() if spec.public}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            secured = operation.get("security") == [{"bearer": []}]
            assert secured != ((method.upper(), path) in public), (method, path)


def test_request_bodies_and_responses_are_described_by_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                assert reference.rsplit("/", 1)[-1] in schemas, (method, path)
            assert any(status.startswith("2") for status in operation["responses"]), (method, path)


def test_the_docs_page_points_swagger_ui_at_the_document(anonymous: Api) -> None:
    page = anonymous.get("/docs")
    assert page.status == 200
    assert header(page, "content-type").startswith("text/html")
    assert "openapi.json" in page.body


def send(api: Api, case: Any) -> tuple[Any, CheckedResponse]:
    """The adapter: a schemathesis Case as a request through the chalice test client, and the
    answer as schemathesis reads one."""
    path = re.sub(r"{(\w+)}", lambda m: quote(str(case.path_parameters.get(m.group(1), "")), safe=""), case.path)
    if case.query:
        path += "?" + urlencode({k: _text(v) for k, v in case.query.items()}, doseq=True)
    headers = {name: _text(value) for name, value in (case.headers or {}).items() if name.lower() != "authorization"}
    raw = b""
    if case.body is not NOT_SET:
        headers["Content-Type"] = case.media_type or "application/json"
        raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    answer = api.request(case.method.upper(), path, headers=headers, raw=raw)
    # A JSON `null` answer (GET /timers/current with no timer) parses to None as an empty body does.
    json_null = answer.body is None and answer.status == 200 and "json" in header(answer, "content-type")
    content = (b"null" if json_null else b"" if answer.body is None else answer.body.encode()
               if isinstance(answer.body, str) else json.dumps(answer.body).encode())
    sent = requests.Request(case.method.upper(), f"http://bluehill.test{path}", headers=headers, data=raw).prepare()
    checked = CheckedResponse(answer.status, {name: [value] for name, value in answer.headers.items()}, content, sent,
                              elapsed=0.0, verify=True)
    return answer, checked


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_text(item) for item in value]
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict) else str(value)


@pytest.mark.parametrize(("method", "path", "role", "mode"), CASES,
                         ids=[f"{m} {p} {role} {mode.value}" for m, p, role, mode in CASES])
def test_generated_requests_get_the_answers_the_document_declares(fuzzer: Any, fuzz_world: TenantWorld, method: str,
                                                                  path: str, role: str, mode: GenerationMode) -> None:
    operation = fuzzer[path][method]
    api = fuzz_world.as_(role)
    seed = Seed(fuzz_world)  # fresh records per operation: an earlier DELETE must not starve a later POST
    names = [name for name in re.findall(r"{(\w+)}", path) if name in PATH_FACTORIES]
    known = {name: seed.shared(name)["id"] for name in names} if mode is POSITIVE else {}
    overrides = {"path_parameters": known} if known else {}
    strategy = operation.as_strategy(generation_mode=mode, **overrides)

    @hypothesis_seed(FUZZ_SEED)
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=strategy, data=st.data())
    def run(case: Any, data: Any) -> None:
        answer, checked = send(api, case)
        try:
            case.validate_response(checked, checks=CHECKS)
        except (AssertionError, FailureGroup) as broken:  # say how to replay the campaign that found it
            raise AssertionError(f"{method} {path} as {role} ({mode.value}; BLUEHILL_FUZZ_SEED={FUZZ_SEED} "
                                 f"BLUEHILL_FUZZ_EXAMPLES={FUZZ_EXAMPLES}): {broken}") from broken
        if answer.status >= 400:
            assert header(answer, "content-type").startswith(PROBLEM_JSON), (answer.status, answer.headers)

    run()
