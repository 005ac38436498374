"""The API over HTTP on the e2e target — the local stack, or a deployed one with --target=aws —
as two tenants the target's admin hook made, with tokens from the target's own Cognito."""

from __future__ import annotations

import time

import pytest
from foundation_helpers import assert_problem, unique

from bluehill_dev.harness_env import Api, TenantWorld

pytestmark = pytest.mark.e2e


INDEX_LAG_SECONDS = 5  # lists read through indexes, which lag writes (DynamoDB's, and the local stack's fidelity)


def _names(api: Api) -> set[str]:
    listed = api.get("/customers?limit=200")
    assert listed.status == 200, listed.body
    return {customer["name"] for customer in listed.body["items"]}


def _listed_once_indexed(api: Api, name: str) -> set[str]:
    """The customer names `api` lists, once `name` shows up (the index has caught up)."""
    deadline = time.monotonic() + INDEX_LAG_SECONDS
    while name not in (names := _names(api)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return names


def test_admin_creates_a_customer_and_reads_it_back_over_http(acme: TenantWorld) -> None:
    admin = acme.as_("admin")
    created = admin.post("/customers", {"name": unique("E2E Widgets "), "tier": "smb"})
    assert created.status == 201, created.body
    read = admin.get(f"/customers/{created.body['id']}")
    assert read.status == 200, read.body
    assert (read.body["name"], read.body["tier"]) == (created.body["name"], "smb")


def test_another_tenants_token_gets_404_for_a_customer(acme: TenantWorld, globex: TenantWorld) -> None:
    name = unique("Acme Only ")
    created = acme.as_("admin").post("/customers", {"name": name})
    assert created.status == 201, created.body
    assert_problem(globex.as_("owner").get(f"/customers/{created.body['id']}"), 404)
    assert name in _listed_once_indexed(acme.as_("owner"), name)
    assert name not in _names(globex.as_("owner"))


def test_a_member_sees_only_the_customers_they_own(acme: TenantWorld) -> None:
    owner, member_id = acme.as_("owner"), acme.users["member"]
    theirs = owner.post("/customers", {"name": unique("Member's "), "owner_id": member_id})
    others = owner.post("/customers", {"name": unique("Not the member's ")})
    assert theirs.status == others.status == 201, (theirs.body, others.body)
    assert others.body["name"] in _listed_once_indexed(owner, others.body["name"])
    seen = _listed_once_indexed(acme.as_("member"), theirs.body["name"])
    assert theirs.body["name"] in seen and others.body["name"] not in seen


def test_a_portal_user_reaches_its_own_company_and_no_other(acme: TenantWorld) -> None:
    other = acme.as_("owner").post("/customers", {"name": unique("Not the portal's ")})
    assert other.status == 201, other.body
    portal = acme.as_("portal")
    own = portal.get(f"/customers/{acme.portal_customer_id}")
    assert own.status == 200, own.body
    assert_problem(portal.get(f"/customers/{other.body['id']}"), 404)


def test_a_request_without_a_token_gets_a_401_problem(anonymous: Api) -> None:
    assert_problem(anonymous.get("/customers"), 401)


def test_a_forged_token_gets_a_401_problem(acme: TenantWorld) -> None:
    header, claims, _ = acme.tokens["owner"].split(".")
    forged = Api(acme.client, f"{header}.{claims}.c2lnbmF0dXJl")
    assert_problem(forged.get("/customers"), 401)


def test_an_unknown_path_gets_a_404_problem(anonymous: Api) -> None:
    assert_problem(anonymous.get("/no-such-thing"), 404)
