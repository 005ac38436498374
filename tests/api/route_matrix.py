"""The role and tenant matrix — one engine, run in process (tests/api/test_route_matrix.py) and
over HTTP against the e2e target, local stack or deployed (tests/e2e/test_route_matrix_over_http.py) —
generated from the app's own route table, so every route —
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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
from chalicelib.core.http import RouteSpec
from chalicelib.core.permissions import roles_allowed
from chalicelib.templates.apply import JOB_THRESHOLD_TASKS
from foundation_helpers import assert_problem, declared_routes, unique
from mail_helpers import message, receive

from bluehill_dev.harness_env import ROLES, Api, TenantWorld


@dataclass
class Seed:
    """Creates resources in one tenant for the matrix and remembers every id it made. Inbound
    mail reaches the tenant through `deliver_mail` (raw message, recipient): in process, the
    inbound handler run at once; over HTTP, the target's own inbound bucket (`Target.receive_mail`)."""

    world: TenantWorld
    deliver_mail: Callable[[bytes, str], Any] = receive
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
MAIL_WAIT_SECONDS = 30  # the target's inbound handler runs on the bucket's notification, not in our call


def triaged_message(seed: Seed) -> dict[str, Any]:
    """An inbound mail from a sender no customer is known for: it waits in the triage list."""
    owner = seed.world.as_("owner")
    sender = f"{unique('m')}@nowhere.example"
    recipient = owner.get("/tenant/mail").json["support_address"]
    seed.deliver_mail(message(sender=sender, to=recipient), recipient)
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        listed = owner.get("/mail/triage?limit=100").json["items"]
        found = [item for item in listed if item["from_address"] == sender]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            pytest.fail(f"the mail from {sender} to {recipient} did not reach triage in {MAIL_WAIT_SECONDS}s")
        time.sleep(0.25)


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


def published_form(seed: Seed) -> dict[str, Any]:
    """A form with a published version 1 (links, assignments and submissions need one)."""
    form = seed.post("/forms", {"name": unique("Matrix form "), "fields": [
        {"key": "company", "type": "short_text", "label": "Company"}]})
    response = seed.world.as_("owner").post(f"/forms/{form['id']}/publish")
    assert response.status == 201, response.body
    return {**form, "published_version": 1}


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
    "interaction_id": lambda seed: seed.post(f"/customers/{seed.shared('customer_id')['id']}/interactions", {
        "type": "call", "summary": "Matrix call", "visibility": "shared",
    }),
    "follow_up_id": lambda seed: seed.post("/follow-ups", {
        "customer_id": seed.shared("customer_id")["id"], "title": unique("Matrix follow-up "), "due_date": "2030-06-01",
    }),
    "form_id": published_form,
    "n": lambda seed: {"id": str(seed.shared("form_id")["published_version"] or 1)},
    # the time room: the owner's running timer, an entry of theirs, and their week's timesheet
    "timer_id": lambda seed: seed.world.as_("owner").post("/timers", {
        "customer_id": seed.shared("customer_id")["id"]}).json["timer"],
    "entry_id": lambda seed: seed.post("/time-entries", {
        "customer_id": seed.shared("customer_id")["id"], "date": "2027-01-05", "minutes": 30}),  # not in that week
    "timesheet_id": lambda seed: {"id": f"{seed.world.users['owner']}--2026-W23"},
    "invoice_id": lambda seed: seed.post("/invoices", {
        "customer_id": seed.shared("customer_id")["id"], "from": "2026-06-01", "to": "2026-06-30"}),
    "line_id": lambda seed: {"id": seed.post(f"/invoices/{seed.shared('invoice_id')['id']}/lines", {
        "description": "Matrix fee", "rate": 1000})["lines"][-1]["id"]},
    "file_id": lambda seed: seed.post("/files", {
        "filename": "Matrix.pdf", "content_type": "application/pdf", "size": 1024,
        "customer_id": seed.shared("customer_id")["id"], "portal_visible": True,
    }),
    "message_id": triaged_message,
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
                 ("POST", "/csat/{token}"),  # a survey answer: the signed, single-use token is the credential
                 # a form through its signed link (rate-limited per link and address, body-size-limited)
                 ("GET", "/public/forms/{token}"), ("POST", "/public/forms/{token}/submissions"),
                 # the portal's sign-in: asking for a link (always 202), exchanging it, the brand of a host
                 ("POST", "/portal/login/link"), ("POST", "/portal/login/exchange"), ("GET", "/portal/branding")}

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
    return [urlencode(query) for query in queries]  # encoded: names with spaces go over real HTTP too


READABLE_PATHS = {spec.path for spec in SPECS if spec.method == "GET"}


# ---------- the checks, each on one case; the world objects come from the caller ----------


def check_no_token(spec: RouteSpec, anonymous: Api, seed: Seed) -> None:
    """(a) no token → 401 Problem Details."""
    assert_problem(call(anonymous, spec, filled(spec, seed)), 401)


def check_refused_role(spec: RouteSpec, role: str, seed: Seed) -> None:
    """(b) a role the permission table refuses → 403 Problem Details."""
    assert_problem(call(seed.world.as_(role), spec, filled(spec, seed)), 403)


def check_allowed_role(spec: RouteSpec, role: str, seed: Seed) -> None:
    """(c) a role the table allows → never 401, never 5xx (and the owner never 403)."""
    answer = call(seed.world.as_(role), spec, filled(spec, seed, fresh=spec.method != "GET"))
    assert answer.status != 401 and answer.status < 500, (answer.status, answer.body)
    if role == "owner":
        assert answer.status != 403, answer.body


def check_other_tenant_by_id(spec: RouteSpec, seed: Seed, other: TenantWorld) -> None:
    """(d) another tenant's owner with this tenant's ids → 404 (or 403), and nothing changes."""
    path = filled(spec, seed, fresh=spec.method != "GET")
    owner = seed.world.as_("owner")
    watched = spec.method != "GET" and spec.path in READABLE_PATHS
    before = owner.get(path).body if watched else None
    answer = call(other.as_("owner"), spec, path)
    assert answer.status in (403, 404), (answer.status, answer.body)
    assert_problem(answer, answer.status)
    if watched:
        assert owner.get(path).body == before, "another tenant's refused write changed the record"


def check_other_tenant_sees_nothing(spec: RouteSpec, seed: Seed, other: TenantWorld) -> None:
    """(d) on routes without path ids: this tenant's ids never appear in the other's answers,
    even when the query names them."""
    for param in ("customer_id", "contact_id"):
        seed.shared(param)
    secrets = seed_values(seed)
    for query in probe_queries(spec, seed):
        answer = call(other.as_("owner"), spec, spec.path, query)
        assert answer.status < 500, (query, answer.body)
        asked = unquote_plus(query)
        leaked = {value for value in secrets if value in str(answer.body) and value not in asked}
        assert not leaked, (query, leaked)


# ---------- the cases ----------

REFUSED_CASES = [(spec, role) for spec, role in ROLE_CASES if role in roles_refused(spec)]
ALLOWED_CASES = [(spec, role) for spec, role in ROLE_CASES if role not in roles_refused(spec)]
BY_ID_ROUTES = [spec for spec in PROTECTED if path_params(spec)]
NO_ID_ROUTES = [spec for spec in PROTECTED if not path_params(spec)]


def one_role_per_route(cases: list[tuple[RouteSpec, str]]) -> list[tuple[RouteSpec, str]]:
    """A sample of role cases: each route once, with its roles taken in turn from route to route,
    so every route and every role is checked (the full product is the in-process matrix's)."""
    by_route: dict[tuple[str, str], list[tuple[RouteSpec, str]]] = {}
    for spec, role in cases:
        by_route.setdefault((spec.method, spec.path), []).append((spec, role))
    return [choices[n % len(choices)] for n, choices in enumerate(by_route.values())]


def case_id(value: Any) -> str:
    return route_id(value) if isinstance(value, RouteSpec) else str(value)
