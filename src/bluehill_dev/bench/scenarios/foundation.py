"""The foundation's routes: customers, contacts, the team and tenant, the audit trail.

The seed (through the services, once per run): 300 customers spread over tiers, lifecycle
stages, tags, ten name prefixes and two owners (one in six is the member's), each with a
domain; one customer with a dozen contacts. Lists walk their pages (50 a page, the default),
so a full page, a partial last page and a filter that skips items all show. Writes act on
customers, contacts and users created for them (unmeasured), so scenarios don't disturb
each other; creates send an Idempotency-Key, as clients are asked to."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core.scope import tenant_scope
from chalicelib.customers import service as customers

from bluehill_dev.bench.harness import LIST, READ, WRITE, Bench, Call, Steps, StepsFactory, scenario
from bluehill_dev.harness_env import Response

CUSTOMER_COUNT = 300
CONTACT_COUNT = 12
MAX_PAGES = 8
NAME_PREFIXES = ("Acme", "Birch", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper")
TIERS = ("enterprise", "mid_market", "smb")
STAGES = ("onboarding", "active", "at_risk", "renewal", "churned")
TAGS = ("pilot", "strategic", "partner", "beta", "reference")
MEMBER_OWNS_ONE_IN = 6


@dataclass(frozen=True)
class Seed:
    customer_ids: list[str]
    domains: list[str]
    contacts_holder_id: str
    contact_emails: list[str]


def _member(bench: Bench) -> str:
    return bench.world.users["member"]


def _seed(bench: Bench) -> Seed:
    owner, member_id = bench.principal("owner"), _member(bench)
    ids, domains = [], []
    with tenant_scope(bench.tenant_id):
        for i in range(CUSTOMER_COUNT):
            domain = f"c{i:03d}.bench.example"
            customer = customers.create_customer(owner, {
                "name": f"{NAME_PREFIXES[i % len(NAME_PREFIXES)]} {i:03d}",
                "tier": TIERS[i % len(TIERS)],
                "lifecycle_stage": STAGES[i % len(STAGES)],
                "tags": [TAGS[i % len(TAGS)]],
                "owner_id": member_id if i % MEMBER_OWNS_ONE_IN == 0 else owner.user_id,
                "domains": [domain],
                "mrr": {"amount": 100_000 + i, "currency": "USD"},
            })
            ids.append(customer.id)
            domains.append(domain)
        emails = [f"contact{n:02d}@{domains[0]}" for n in range(CONTACT_COUNT)]
        for n, email in enumerate(emails):
            customers.create_contact(owner, ids[0], {"name": f"Contact {n}", "email": email})
    return Seed(ids, domains, ids[0], emails)


def seed(bench: Bench) -> Seed:
    return bench.prepared(_seed)


def _unique(label: str) -> str:
    return f"{label}-{secrets.token_hex(4)}"


def _idempotency_key() -> dict[str, str]:
    return {"Idempotency-Key": _unique("bench")}


def _setup(response: Response) -> Any:
    """The body of an unmeasured setup call, which must succeed for the figures to mean anything."""
    if response.status >= 400:
        raise RuntimeError(f"bench setup failed: {response.status} {response.body}")
    return response.json


def _new_customers(bench: Bench) -> list[dict[str, Any]]:
    api = bench.api()
    return [_setup(api.post("/customers", {"name": _unique("Scratch"), "tier": "smb", "tags": ["scratch"]}))
            for _ in range(bench.repeats)]


def _new_contacts(bench: Bench) -> list[dict[str, Any]]:
    api, holder = bench.api(), seed(bench).customer_ids[2]
    return [_setup(api.post(f"/customers/{holder}/contacts",
                            {"name": "Scratch", "email": f"{_unique('scratch')}@bench.example"}))
            for _ in range(bench.repeats)]


def pages(path: str, role: str = "owner", max_pages: int = MAX_PAGES) -> Steps:
    """A list, page by page, following `next_cursor`."""
    separator = "&" if "?" in path else "?"
    response = yield Call("GET", path, role=role)
    for _ in range(max_pages - 1):
        cursor = response.json.get("next_cursor") if response and response.status == 200 else None
        if not cursor:
            return
        response = yield Call("GET", f"{path}{separator}cursor={cursor}", role=role)


# ---------- customers ----------


@scenario("POST /customers", group="customers", target=WRITE)
def create_customer(bench: Bench) -> Steps:
    for _ in range(bench.repeats):
        body = {"name": _unique("New"), "tier": "mid_market", "tags": ["pilot", "beta"], "owner_id": _member(bench),
                "domains": [f"{_unique('new')}.bench.example"], "mrr": {"amount": 5000, "currency": "EUR"}}
        yield Call("POST", "/customers", body, headers=_idempotency_key())


@scenario("POST /customers (Idempotency-Key replay)", group="customers", target=WRITE)
def replay_create_customer(bench: Bench) -> Steps:
    body, headers = {"name": _unique("Replayed")}, _idempotency_key()
    _setup(bench.api().post("/customers", body, headers=headers))
    for _ in range(bench.repeats):
        yield Call("POST", "/customers", body, headers=headers)


@scenario("GET /customers/{id}", group="customers", target=READ)
def read_customer(bench: Bench) -> Steps:
    for customer_id in seed(bench).customer_ids[: bench.repeats]:
        yield Call("GET", f"/customers/{customer_id}")


@scenario("PATCH /customers/{id}", group="customers", target=WRITE)
def update_customer(bench: Bench) -> Steps:
    for customer in _new_customers(bench):
        body = {"version": customer["version"], "segment": "fintech", "tags": ["scratch", "strategic"]}
        yield Call("PATCH", f"/customers/{customer['id']}", body)


@scenario("DELETE /customers/{id}", group="customers", target=WRITE)
def archive_customer(bench: Bench) -> Steps:
    for customer in _new_customers(bench):
        yield Call("DELETE", f"/customers/{customer['id']}")


def _seeded_list(path: Callable[[Bench], str], role: str = "owner") -> StepsFactory:
    def steps(bench: Bench) -> Steps:
        seed(bench)
        yield from pages(path(bench), role)

    return steps


# Each list and filter the issue names, plus the two that take a different path: two indexed
# filters at once (the second a FilterExpression), and a member's list (their customers only).
_LISTS: tuple[tuple[str, str, Callable[[Bench], str], str], ...] = (
    ("GET /customers", "customers", lambda bench: "/customers", "owner"),
    ("GET /customers?tier=", "customers", lambda bench: "/customers?tier=enterprise", "owner"),
    ("GET /customers?tag=", "customers", lambda bench: "/customers?tag=strategic", "owner"),
    ("GET /customers?q=", "customers", lambda bench: "/customers?q=ced", "owner"),
    ("GET /customers?owner_id=", "customers", lambda bench: f"/customers?owner_id={_member(bench)}", "owner"),
    ("GET /customers?tier=&lifecycle_stage=", "customers",
     lambda bench: "/customers?tier=enterprise&lifecycle_stage=active", "owner"),
    ("GET /customers (member: their own)", "customers", lambda bench: "/customers", "member"),
    ("GET /customers/{id}/contacts", "contacts",
     lambda bench: f"/customers/{seed(bench).contacts_holder_id}/contacts", "owner"),
    ("GET /users", "team", lambda bench: "/users", "owner"),
    ("GET /audit", "audit", lambda bench: "/audit", "owner"),
    ("GET /audit?entity_id=", "audit", lambda bench: f"/audit?entity_id={seed(bench).customer_ids[0]}", "owner"),
)
for _name, _group, _path, _role in _LISTS:
    scenario(_name, group=_group, target=LIST)(_seeded_list(_path, _role))


@scenario("GET /customers?domain=", group="customers", target=READ)
def find_customer_by_domain(bench: Bench) -> Steps:
    for domain in seed(bench).domains[: bench.repeats]:
        yield Call("GET", f"/customers?domain={domain}")


# ---------- contacts ----------


@scenario("POST /customers/{id}/contacts", group="contacts", target=WRITE)
def create_contact(bench: Bench) -> Steps:
    customer_id = seed(bench).customer_ids[1]
    for _ in range(bench.repeats):
        body = {"name": "Pat Lee", "email": f"{_unique('pat')}@bench.example", "title": "CFO", "billing": True}
        yield Call("POST", f"/customers/{customer_id}/contacts", body, headers=_idempotency_key())


@scenario("PATCH /contacts/{id}", group="contacts", target=WRITE)
def update_contact(bench: Bench) -> Steps:
    for contact in _new_contacts(bench):
        yield Call("PATCH", f"/contacts/{contact['id']}", {"version": contact["version"], "title": "CTO"})


@scenario("DELETE /contacts/{id}", group="contacts", target=WRITE)
def delete_contact(bench: Bench) -> Steps:
    for contact in _new_contacts(bench):
        yield Call("DELETE", f"/contacts/{contact['id']}")


@scenario("GET /contacts?email=", group="contacts", target=READ)
def find_contact_by_email(bench: Bench) -> Steps:
    for email in seed(bench).contact_emails[: bench.repeats]:
        yield Call("GET", f"/contacts?email={email}")


# ---------- team and tenant ----------


@scenario("GET /me", group="team", target=READ)
def who_am_i(bench: Bench) -> Steps:
    for role in ("owner", "member", "portal", "readonly", "admin")[: bench.repeats]:
        yield Call("GET", "/me", role=role)


@scenario("POST /users", group="team", target=WRITE)
def invite_user(bench: Bench) -> Steps:
    for _ in range(bench.repeats):
        body = {"email": f"{_unique('invitee')}@bench.example", "name": "Invitee", "role": "member"}
        yield Call("POST", "/users", body, headers=_idempotency_key())


@scenario("PATCH /users/{id}", group="team", target=WRITE)
def update_user(bench: Bench) -> Steps:
    api = bench.api()
    invited = [_setup(api.post("/users", {"email": f"{_unique('renamed')}@bench.example", "name": "Before",
                                          "role": "contractor"}))
               for _ in range(bench.repeats)]
    for user in invited:
        yield Call("PATCH", f"/users/{user['id']}", {"version": user["version"], "name": "After"})


@scenario("GET /tenant", group="team", target=READ)
def read_tenant(bench: Bench) -> Steps:
    for _ in range(bench.repeats):
        yield Call("GET", "/tenant")


@scenario("PATCH /tenant", group="team", target=WRITE)
def update_tenant(bench: Bench) -> Steps:
    version = _setup(bench.api().get("/tenant"))["version"]
    for n in range(bench.repeats):
        response = yield Call("PATCH", "/tenant", {"version": version, "name": f"Bench tenant {n}"})
        version = response.json["version"] if response and response.status == 200 else version
