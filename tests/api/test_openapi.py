"""The OpenAPI 3.1 document: valid, complete (every route of the app), and true enough that
schemathesis, generating requests from it for every operation — valid ones (positive) and
ones that break the schema (negative) — never gets a 5xx, and every refusal it gets is
Problem Details.

Schemathesis has no Chalice transport, so a small adapter turns each generated Case into a
request through the same chalice test client every other API test uses, as the owner of a
tenant of its own (generated PATCHes may rename it or change its users). Positive cases use
real path ids made by the route matrix's factories, so valid bodies reach real records."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from foundation_helpers import PROBLEM_JSON, app_routes, declared_routes, header
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from test_route_matrix import PATH_FACTORIES, Seed

from bluehill_dev.harness_env import Api, TenantWorld, build_tenant

EXAMPLES_PER_OPERATION = 15
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# Negative cases need something to break: an operation without parameters or body has none.
CASES = [
    (spec.method, spec.path, mode)
    for spec in declared_routes()
    for mode in (POSITIVE, NEGATIVE)
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


def send(api: Api, case: Any) -> Any:
    """The adapter: a schemathesis Case as a request through the chalice test client."""
    path = re.sub(r"{(\w+)}", lambda m: quote(str(case.path_parameters.get(m.group(1), "")), safe=""), case.path)
    if case.query:
        path += "?" + urlencode({k: _text(v) for k, v in case.query.items()}, doseq=True)
    headers = {name: _text(value) for name, value in (case.headers or {}).items() if name.lower() != "authorization"}
    raw = b""
    if case.body is not NOT_SET:
        headers["Content-Type"] = case.media_type or "application/json"
        raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    return api.request(case.method.upper(), path, headers=headers, raw=raw)


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_text(item) for item in value]
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict) else str(value)


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode}" for m, p, mode in CASES])
def test_generated_requests_never_get_a_server_error(fuzzer: Any, fuzz_world: TenantWorld, method: str, path: str,
                                                     mode: GenerationMode) -> None:
    operation = fuzzer[path][method]
    api = fuzz_world.as_("owner")
    seed = Seed(fuzz_world)  # fresh records per operation: an earlier DELETE must not starve a later POST
    names = [name for name in re.findall(r"{(\w+)}", path) if name in PATH_FACTORIES]
    known = {name: seed.shared(name)["id"] for name in names} if mode is POSITIVE else {}
    overrides = {"path_parameters": known} if known else {}
    strategy = operation.as_strategy(generation_mode=mode, **overrides)

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=strategy, data=st.data())
    def run(case: Any, data: Any) -> None:
        answer = send(api, case)
        assert answer.status < 500, (answer.status, answer.body)
        if answer.status >= 400:
            assert header(answer, "content-type").startswith(PROBLEM_JSON), (answer.status, answer.headers)

    run()
