"""The role and tenant matrix in process, every route and every role (the engine, its factories and
how to extend it for a new room: route_matrix.py). The same checks run over HTTP against the
local stack or a deployed one in tests/e2e/test_route_matrix_over_http.py."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from chalicelib.core.http import RouteSpec
from chalicelib.core.permissions import roles_allowed
from chalicelib.core.scope import tenant_scope
from chalicelib.core.settings import table_name
from chalicelib.core.tenant_guard import TenantIsolationViolation
from chalicelib.customers.models import Customer
from foundation_helpers import app_routes
from route_matrix import (
    ALLOWED_CASES,
    BY_ID_ROUTES,
    NO_ID_ROUTES,
    PATH_FACTORIES,
    PROTECTED,
    PUBLIC_ROUTES,
    REFUSED_CASES,
    ROLES,
    SPECS,
    Seed,
    case_id,
    check_allowed_role,
    check_no_token,
    check_other_tenant_by_id,
    check_other_tenant_sees_nothing,
    check_refused_role,
    path_params,
    route_id,
)

from bluehill_dev.harness_env import Api, TenantWorld


@pytest.fixture(scope="module")
def seed(acme: TenantWorld) -> Seed:
    return Seed(acme)



def test_every_route_is_declared_through_route(chalice_app: Any) -> None:
    declared = {(spec.method, spec.path) for spec in SPECS}
    served = {(method, path) for path, methods in chalice_app.routes.items() for method in methods}
    assert served - declared == set(), "routes registered without core.http.route() escape the permission table"


def test_the_matrix_covers_every_route_of_the_app(chalice_app: Any) -> None:
    served = {(method, path) for path, methods in chalice_app.routes.items() for method in methods}
    checked = {(spec.method, spec.path) for spec in PROTECTED} | PUBLIC_ROUTES
    assert served == checked
    assert set(app_routes()) == served


def test_only_the_known_public_routes_are_public() -> None:
    assert {(spec.method, spec.path) for spec in SPECS if spec.public} == PUBLIC_ROUTES


def test_every_protected_route_names_a_permission_the_table_knows() -> None:
    for spec in PROTECTED:
        assert spec.permission, route_id(spec)
        assert roles_allowed(spec.permission) <= set(ROLES), route_id(spec)


def test_every_path_parameter_has_a_factory() -> None:
    missing = {f"{param} ({route_id(spec)})" for spec in PROTECTED for param in path_params(spec)
               if param not in PATH_FACTORIES}
    assert not missing, f"add factories to PATH_FACTORIES for: {sorted(missing)}"


@pytest.mark.parametrize("spec", [s for s in SPECS if s.body is not None], ids=route_id)
def test_every_body_model_declares_a_valid_example(spec: RouteSpec) -> None:
    assert spec.body is not None
    examples = spec.body.model_json_schema().get("examples")
    assert examples, f"{spec.body.__name__} needs json_schema_extra={{'examples': [...]}}"
    spec.body.model_validate(examples[0])


def test_the_tenant_guard_watches_every_dynamodb_call_these_tests_make(seed: Seed, globex: TenantWorld) -> None:
    customer_id = seed.shared("customer_id")["id"]
    with tenant_scope(globex.tenant_id), pytest.raises(TenantIsolationViolation):
        Customer.get(Customer.pk(seed.world.tenant_id, customer_id), Customer.SORT)
    with tenant_scope(globex.tenant_id), pytest.raises(TenantIsolationViolation):
        boto3.client("dynamodb").scan(TableName=table_name())


# ---------- (a) no token ----------


@pytest.mark.parametrize("spec", PROTECTED, ids=route_id)
def test_a_request_without_a_token_is_refused(spec: RouteSpec, anonymous: Api, seed: Seed) -> None:
    check_no_token(spec, anonymous, seed)


# ---------- (b) roles the table refuses ----------


@pytest.mark.parametrize(("spec", "role"), REFUSED_CASES, ids=case_id)
def test_a_role_the_permission_table_refuses_gets_403(spec: RouteSpec, role: str, seed: Seed) -> None:
    check_refused_role(spec, role, seed)


# ---------- (c) roles the table allows ----------


@pytest.mark.parametrize(("spec", "role"), ALLOWED_CASES, ids=case_id)
def test_a_role_the_permission_table_allows_gets_past_the_gate(spec: RouteSpec, role: str, seed: Seed) -> None:
    check_allowed_role(spec, role, seed)


# ---------- (d) another tenant ----------


@pytest.mark.parametrize("spec", BY_ID_ROUTES, ids=route_id)
def test_another_tenant_cannot_reach_a_record_by_its_id(spec: RouteSpec, seed: Seed, globex: TenantWorld) -> None:
    check_other_tenant_by_id(spec, seed, globex)


@pytest.mark.parametrize("spec", NO_ID_ROUTES, ids=route_id)
def test_another_tenant_never_sees_this_tenants_data(spec: RouteSpec, seed: Seed, globex: TenantWorld) -> None:
    check_other_tenant_sees_nothing(spec, seed, globex)
