"""The role and tenant matrix, generated from the app's own route table, so every route —
including the ones a new room adds tomorrow — is checked without anyone writing a test for it:

  (a) no token                                  → 401 Problem Details
  (b) each role the permission table refuses    → 403 Problem Details
  (c) each role it allows                       → never 401, never 5xx (and the owner never 403)
  (d) another tenant's owner, with acme's ids   → 404 (or 403); on routes without path ids,
      acme's ids never appear in the answer, even when the query names them.

HOW TO EXTEND (a new room):
  * every path parameter of your routes needs an entry in PATH_FACTORIES: a function that
    creates the resource in the seed's tenant (through the API, as its owner, or through your
    service) and returns it as a dict with its "id"; use `seed.shared("customer_id")` for a
    resource yours hangs off. `test_every_path_parameter_has_a_factory` fails until you do.
  * every request body model needs `json_schema_extra={"examples": [...]}`: the first example
    is the body the matrix sends (`test_every_body_model_declares_a_valid_example`).
  * optionally, add to QUERY_PROBES a query parameter of yours that names another record, so
    the cross-tenant check asks for acme's record by it.
  * a new public route must be added to PUBLIC_ROUTES: going public is a decision, not a default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chalicelib.core.http import RouteSpec
from chalicelib.core.permissions import roles_allowed
from chalicelib.core.scope import tenant_scope
from chalicelib.core.settings import table_name
from chalicelib.core.tenant_guard import TenantIsolationViolation
from chalicelib.customers.models import Customer
from chalicelib.templates.apply import JOB_THRESHOLD_TASKS
from foundation_helpers import app_routes, assert_problem, declared_routes, unique

from bluehill_dev.harness_env import ROLES, Api, TenantWorld


@dataclass
class Seed:
    """Creates resources in one tenant for the matrix and remembers every id it made."""

    world: TenantWorld
    made: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.world.as_("owner").post(path, body)
        assert response.status == 201, (path, response.body)
        self.ids.add(response.json["id"])
        return response.json

    def shared(self, param: str) -> dict[str, Any]:
        """One resource per parameter, made on first use and reused by read-only checks."""
        if param not in self.made:
            self.made[param] = self.fresh(param)
        return self.made[param]

    def fresh(self, param: str) -> dict[str, Any]:
        """A new resource, for checks that may change or delete what they touch."""
        if param not in PATH_FACTORIES:
            pytest.fail(f"no factory for path parameter {param!r}: add one to PATH_FACTORIES in {__file__}")
        return PATH_FACTORIES[param](self)


Factory = Callable[[Seed], dict[str, Any]]


def big_apply_job(seed: Seed) -> dict[str, Any]:
    """A job: an apply of more than JOB_THRESHOLD_TASKS tasks answers 202 with the job."""
    tasks = [{"key": f"t{n}", "title": f"Step {n}", "day": 1} for n in range(JOB_THRESHOLD_TASKS + 1)]
    template = seed.post("/templates", {"name": unique("Matrix big template "), "category": "onboarding",
                                        "tasks": tasks})
    response = seed.world.as_("owner").post(f"/templates/{template['id']}/apply", {
        "customer_id": seed.shared("customer_id")["id"], "anchor": {"date": "2026-06-12"}})
    assert response.status == 202, response.body
    seed.ids.add(response.json["id"])
    return response.json


# ---------- extend here: path parameter → factory ----------
PATH_FACTORIES: dict[str, Factory] = {
    "customer_id": lambda seed: seed.post("/customers", {
        "name": unique("Matrix Co "), "domains": [f"{unique('matrix')}.example"], "tags": ["matrix"],
        "mrr": {"amount": 4200, "currency": "USD"},
    }),
    "contact_id": lambda seed: seed.post(f"/customers/{seed.shared('customer_id')['id']}/contacts", {
        "name": "Matrix Contact", "email": f"{unique('matrix')}@contacts.example",
    }),
    "user_id": lambda seed: seed.post("/users", {
        "email": f"{unique('matrix')}@team.example", "name": "Matrix User", "role": "member",
    }),
    "project_id": lambda seed: seed.post(f"/customers/{seed.shared('customer_id')['id']}/projects", {
        "name": unique("Matrix Project "),
    }),
    "task_id": lambda seed: seed.post(f"/projects/{seed.shared('project_id')['id']}/tasks", {"title": "Matrix task"}),
    "view_id": lambda seed: seed.post("/views", {"name": unique("Matrix view "), "kind": "table"}),
    "template_id": lambda seed: seed.post("/templates", {
        "name": unique("Matrix template "), "category": "onboarding", "tasks": [{"key": "a", "title": "A", "day": 1}],
    }),
    "ticket_id": lambda seed: seed.post("/tickets", {
        "subject": unique("Matrix ticket "), "description": "d", "customer_id": seed.shared("customer_id")["id"],
    }),
    "queue_id": lambda seed: seed.post("/queues", {"name": unique("Matrix queue ")}),
    "job_id": big_apply_job,
}

# ---------- extend here: query parameter → a value naming one of the seed tenant's records ----------
QUERY_PROBES: dict[str, Callable[[Seed], str]] = {
    "customer_id": lambda seed: seed.shared("customer_id")["id"],
    "entity_id": lambda seed: seed.shared("customer_id")["id"],
    "domain": lambda seed: seed.shared("customer_id")["domains"][0],
    "q": lambda seed: seed.shared("customer_id")["name"],
    "tag": lambda seed: "matrix",
    "email": lambda seed: seed.shared("contact_id")["email"],
    "owner_id": lambda seed: seed.world.users["owner"],
    "actor_id": lambda seed: seed.world.users["owner"],
    "user_id": lambda seed: seed.world.users["owner"],
    "assignee_id": lambda seed: seed.world.users["owner"],
    "queue_id": lambda seed: seed.shared("queue_id")["id"],
}

PUBLIC_ROUTES = {("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs"),
                 ("POST", "/csat/{token}")}  # a survey answer: the signed, single-use token is the credential

SPECS: list[RouteSpec] = declared_routes()
PROTECTED = [spec for spec in SPECS if not spec.public]


def route_id(spec: RouteSpec) -> str:
    return f"{spec.method} {spec.path}"


def path_params(spec: RouteSpec) -> list[str]:
    return re.findall(r"{(\w+)}", spec.path)


def example_body(spec: RouteSpec) -> dict[str, Any] | None:
    return spec.body.model_json_schema()["examples"][0] if spec.body is not None else None


def filled(spec: RouteSpec, seed: Seed, fresh: bool = False) -> str:
    path = spec.path
    for param in path_params(spec):
        resource = seed.fresh(param) if fresh else seed.shared(param)
        path = path.replace("{" + param + "}", resource["id"])
    return path


def call(api: Api, spec: RouteSpec, path: str, query: str = "") -> Any:
    return api.request(spec.method, path + (f"?{query}" if query else ""), example_body(spec))


ROLE_CASES = [(spec, role) for spec in PROTECTED for role in ROLES]


def roles_refused(spec: RouteSpec) -> list[str]:
    return [role for role in ROLES if spec.permission is None or role not in roles_allowed(spec.permission)]


@pytest.fixture(scope="module")
def seed(acme: TenantWorld) -> Seed:
    return Seed(acme)


# ---------- the matrix covers the app ----------


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
    assert_problem(call(anonymous, spec, filled(spec, seed)), 401)


# ---------- (b) roles the table refuses ----------


@pytest.mark.parametrize(("spec", "role"), [(s, r) for s, r in ROLE_CASES if r in roles_refused(s)],
                         ids=lambda value: route_id(value) if isinstance(value, RouteSpec) else value)
def test_a_role_the_permission_table_refuses_gets_403(spec: RouteSpec, role: str, seed: Seed) -> None:
    assert_problem(call(seed.world.as_(role), spec, filled(spec, seed)), 403)


# ---------- (c) roles the table allows ----------


@pytest.mark.parametrize(("spec", "role"), [(s, r) for s, r in ROLE_CASES if r not in roles_refused(s)],
                         ids=lambda value: route_id(value) if isinstance(value, RouteSpec) else value)
def test_a_role_the_permission_table_allows_gets_past_the_gate(spec: RouteSpec, role: str, seed: Seed) -> None:
    answer = call(seed.world.as_(role), spec, filled(spec, seed, fresh=spec.method != "GET"))
    assert answer.status != 401 and answer.status < 500, (answer.status, answer.body)
    if role == "owner":
        assert answer.status != 403, answer.body


# ---------- (d) another tenant ----------


def seed_values(seed: Seed) -> set[str]:
    """Everything that identifies the seed tenant's data: a leak shows up as one of these."""
    world = seed.world
    values = {world.tenant_id, world.portal_customer_id, *world.users.values(), *world.emails.values(), *seed.ids}
    for resource in seed.made.values():
        values |= {resource.get("email") or "", *(resource.get("domains") or [])}
    return {value for value in values if value}


def probe_queries(spec: RouteSpec, seed: Seed) -> list[str]:
    """The queries to try: required parameters alone, then each probe-able parameter in turn."""
    if spec.query is None:
        return [""]
    probed = {name: f.is_required() for name, f in spec.query.model_fields.items() if name in QUERY_PROBES}
    required = {name: QUERY_PROBES[name](seed) for name, is_required in probed.items() if is_required}
    optional = [name for name, is_required in probed.items() if not is_required]
    queries = [required] + [{**required, name: QUERY_PROBES[name](seed)} for name in optional]
    return ["&".join(f"{name}={value}" for name, value in query.items()) for query in queries]


READABLE_PATHS = {spec.path for spec in SPECS if spec.method == "GET"}


@pytest.mark.parametrize("spec", [s for s in PROTECTED if path_params(s)], ids=route_id)
def test_another_tenant_cannot_reach_a_record_by_its_id(spec: RouteSpec, seed: Seed, globex: TenantWorld) -> None:
    path = filled(spec, seed, fresh=spec.method != "GET")
    owner = seed.world.as_("owner")
    watched = spec.method != "GET" and spec.path in READABLE_PATHS
    before = owner.get(path).body if watched else None
    answer = call(globex.as_("owner"), spec, path)
    assert answer.status in (403, 404), (answer.status, answer.body)
    assert_problem(answer, answer.status)
    if watched:
        assert owner.get(path).body == before, "another tenant's refused write changed the record"


@pytest.mark.parametrize("spec", [s for s in PROTECTED if not path_params(s)], ids=route_id)
def test_another_tenant_never_sees_this_tenants_data(spec: RouteSpec, seed: Seed, globex: TenantWorld) -> None:
    for param in ("customer_id", "contact_id"):
        seed.shared(param)
    secrets = seed_values(seed)
    for query in probe_queries(spec, seed):
        answer = call(globex.as_("owner"), spec, spec.path, query)
        assert answer.status < 500, (query, answer.body)
        leaked = {value for value in secrets if value in str(answer.body) and value not in query}
        assert not leaked, (query, leaked)
