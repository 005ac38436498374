"""The role and tenant matrix over HTTP, against the e2e target (the local stack, or a deployed
stack with --target=aws): the same engine and checks as the in-process matrix (route_matrix.py),
through the target's own gateway, authorizer and Cognito tokens, on two tenants the target's
admin hook made for this session.

Against the local stack the role cases are sampled (every route once, its roles taken in turn,
so every route and every role is checked); `--matrix=full` (or BLUEHILL_MATRIX=full) runs every
route with every role, and is the default against a deployed stack. The no-token and
other-tenant cases always run on every route."""

from __future__ import annotations

import os

import pytest
from chalicelib.core.http import RouteSpec
from route_matrix import (
    ALLOWED_CASES,
    BY_ID_ROUTES,
    NO_ID_ROUTES,
    PROTECTED,
    PUBLIC_ROUTES,
    REFUSED_CASES,
    Seed,
    check_allowed_role,
    check_no_token,
    check_other_tenant_by_id,
    check_other_tenant_sees_nothing,
    check_refused_role,
    one_role_per_route,
    route_id,
)

from bluehill_dev.harness_env import Api, TenantWorld
from bluehill_dev.targets import Target, chosen

pytestmark = pytest.mark.e2e

MATRIX_VARIABLE = "BLUEHILL_MATRIX"


def _full(config: pytest.Config) -> bool:
    matrix = config.getoption("--matrix") or os.environ.get(MATRIX_VARIABLE)
    if matrix:
        return bool(matrix == "full")
    return chosen(config.getoption("--target")) == "aws"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "refused_case" in metafunc.fixturenames:
        cases = REFUSED_CASES if _full(metafunc.config) else one_role_per_route(REFUSED_CASES)
        metafunc.parametrize("refused_case", cases, ids=[f"{route_id(s)}-{r}" for s, r in cases])
    if "allowed_case" in metafunc.fixturenames:
        cases = ALLOWED_CASES if _full(metafunc.config) else one_role_per_route(ALLOWED_CASES)
        metafunc.parametrize("allowed_case", cases, ids=[f"{route_id(s)}-{r}" for s, r in cases])


@pytest.fixture(scope="module")
def seed(acme: TenantWorld, target: Target) -> Seed:
    return Seed(acme, deliver_mail=target.receive_mail)


def test_the_target_serves_the_routes_this_checkout_declares(target: Target, anonymous: Api) -> None:
    """The matrix is generated from this checkout's route table: the target must be running it."""
    document = anonymous.get("/openapi.json")
    assert document.status == 200, document.body
    served = {(method.upper(), path) for path, methods in document.body["paths"].items() for method in methods}
    assert served == {(spec.method, spec.path) for spec in PROTECTED} | PUBLIC_ROUTES, target.url


@pytest.mark.parametrize("spec", PROTECTED, ids=route_id)
def test_a_request_without_a_token_is_refused(spec: RouteSpec, anonymous: Api, seed: Seed) -> None:
    check_no_token(spec, anonymous, seed)


def test_a_role_the_permission_table_refuses_gets_403(refused_case: tuple[RouteSpec, str], seed: Seed) -> None:
    check_refused_role(*refused_case, seed)


def test_a_role_the_permission_table_allows_gets_past_the_gate(allowed_case: tuple[RouteSpec, str],
                                                                seed: Seed) -> None:
    check_allowed_role(*allowed_case, seed)


@pytest.mark.parametrize("spec", BY_ID_ROUTES, ids=route_id)
def test_another_tenant_cannot_reach_a_record_by_its_id(spec: RouteSpec, seed: Seed, globex: TenantWorld) -> None:
    check_other_tenant_by_id(spec, seed, globex)


@pytest.mark.parametrize("spec", NO_ID_ROUTES, ids=route_id)
def test_another_tenant_never_sees_this_tenants_data(spec: RouteSpec, seed: Seed, globex: TenantWorld) -> None:
    check_other_tenant_sees_nothing(spec, seed, globex)

