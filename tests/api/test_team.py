"""The team and the tenant through the API: who am I, invitations, role changes and
deactivation (which the authorizer enforces the next time it is asked: deployed, API Gateway
serves its cached answer for up to AUTHORIZER_CACHE_SECONDS first — see test_identity), the rule that a tenant
keeps an owner, and the tenant's settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from foundation_helpers import EventLog, all_items, assert_problem, unique

from bluehill_dev.harness_env import PASSWORD, ROLES, Api, token_for


@pytest.fixture(scope="module")
def events(aws: Any) -> Iterator[EventLog]:
    with EventLog.on_bus("team-events") as log:
        yield log


def invite(api: Any, role: str = "member", **fields: Any) -> Any:
    return api.post("/users", {"email": f"{unique(role)}@team.example", "name": f"New {role}", "role": role,
                               **fields})


def invited(api: Any, role: str = "member", **fields: Any) -> dict[str, Any]:
    response = invite(api, role, **fields)
    assert response.status == 201, response.body
    return response.json


def user(world: Any, user_id: str) -> dict[str, Any]:
    found = [u for u in all_users(world) if u["id"] == user_id]
    assert len(found) == 1, user_id
    return found[0]


def all_users(world: Any) -> list[dict[str, Any]]:
    return all_items(world.as_("owner"), "/users?limit=200")


def patch_user(world: Any, user_id: str, as_role: str = "owner", **changes: Any) -> Any:
    version = user(world, user_id)["version"]
    return world.as_(as_role).patch(f"/users/{user_id}", {"version": version, **changes})


# ---------- who am I ----------


@pytest.mark.parametrize("role", ROLES)
def test_me_tells_each_role_who_they_are(acme: Any, role: str) -> None:
    me = acme.as_(role).get("/me")
    assert me.status == 200, me.body
    assert (me.json["user"]["id"], me.json["user"]["role"]) == (acme.users[role], role)
    assert me.json["tenant"]["id"] == acme.tenant_id
    expected_customer = acme.portal_customer_id if role == "portal" else None
    assert me.json["user"]["customer_id"] == expected_customer


# ---------- the team ----------


def test_the_team_list_shows_every_user_and_pages(acme: Any) -> None:
    everyone = all_users(acme)
    assert {acme.users[role] for role in ROLES} <= {u["id"] for u in everyone}
    first = acme.as_("admin").get("/users?limit=2")
    assert len(first.json["items"]) == 2 and first.json["next_cursor"]
    rest = acme.as_("admin").get(f"/users?limit=200&cursor={first.json['next_cursor']}")
    assert len(first.json["items"]) + len(rest.json["items"]) == len(everyone)


def test_portal_users_do_not_see_the_team(acme: Any) -> None:
    assert_problem(acme.as_("portal").get("/users"), 403)


def test_owner_invites_a_member_who_joins_the_team(acme: Any, events: EventLog) -> None:
    created = invited(acme.as_("owner"), "member")
    assert (created["role"], created["active"], created["version"], created["customer_id"]) == (
        "member", True, 1, None)
    assert user(acme, created["id"])["email"] == created["email"]
    audit = acme.as_("owner").get(f"/audit?entity_id={created['id']}").json["items"]
    assert [(e["action"], e["changes"]["role"]["after"]) for e in audit] == [("create", "member")]
    assert len(events.of("User.Invited", user_id=created["id"], tenant_id=acme.tenant_id)) == 1


def test_admin_invites_but_cannot_grant_owner(acme: Any) -> None:
    assert invited(acme.as_("admin"), "readonly")["role"] == "readonly"
    assert_problem(invite(acme.as_("admin"), "owner"), 403)


@pytest.mark.parametrize("role", ["member", "contractor", "readonly", "portal"])
def test_only_owners_and_admins_invite(acme: Any, role: str) -> None:
    assert_problem(invite(acme.as_(role), "member"), 403)


def test_a_portal_user_needs_a_customer_of_this_tenant(acme: Any, globex: Any) -> None:
    api = acme.as_("owner")
    assert_problem(invite(api, "portal"), 422, "customer_id")
    assert_problem(invite(api, "portal", customer_id="01nope"), 422, "customer_id")
    assert_problem(invite(api, "portal", customer_id=globex.portal_customer_id), 422, "customer_id")
    assert_problem(invite(api, "member", customer_id=acme.portal_customer_id), 422, "customer_id")
    portal = invited(api, "portal", customer_id=acme.portal_customer_id)
    assert portal["customer_id"] == acme.portal_customer_id


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"email": "not-an-email", "name": "N", "role": "member"}, "email"),
        ({"email": "ok@team.example", "name": "N", "role": "superuser"}, "role"),
        ({"email": "ok@team.example", "role": "member"}, "name"),
        ({"email": "ok@team.example", "name": "N", "role": "member", "tenant_id": "other"}, "tenant_id"),
    ],
)
def test_invalid_invitations_are_refused_naming_the_field(acme: Any, body: dict[str, Any], field_name: str) -> None:
    assert_problem(acme.as_("owner").post("/users", body), 422, field_name)


def test_an_email_joins_only_once(acme: Any) -> None:
    email = f"{unique('twice')}@team.example"
    body = {"email": email, "name": "Twice", "role": "member"}
    assert acme.as_("owner").post("/users", body).status == 201
    assert_problem(acme.as_("owner").post("/users", body), 409)
    assert [u["email"] for u in all_users(acme)].count(email) == 1


# ---------- changing users ----------


def test_a_rename_bumps_the_version_and_a_stale_version_changes_nothing(acme: Any, events: EventLog) -> None:
    member = invited(acme.as_("owner"))
    renamed = acme.as_("admin").patch(f"/users/{member['id']}", {"version": 1, "name": "Renamed"})
    assert renamed.status == 200, renamed.body
    assert (renamed.json["name"], renamed.json["version"]) == ("Renamed", 2)
    assert_problem(acme.as_("admin").patch(f"/users/{member['id']}", {"version": 1, "name": "Stale"}), 409)
    assert user(acme, member["id"])["name"] == "Renamed"
    published = events.of("User.Updated", user_id=member["id"])
    assert [event["detail"]["data"]["changes"] for event in published] == [{"name": {"before": "New member",
                                                                             "after": "Renamed"}}]


def test_a_role_change_refuses_the_old_token_when_the_authorizer_asks_again(fresh_tenant: Any, aws: Any) -> None:
    old_token = fresh_tenant.as_("member")
    assert old_token.get("/me").status == 200
    changed = patch_user(fresh_tenant, fresh_tenant.users["member"], role="admin")
    assert changed.status == 200, changed.body
    assert_problem(old_token.get("/me"), 401)
    fresh_tenant.tokens["member"] = token_for(aws, fresh_tenant.emails["member"])
    assert fresh_tenant.as_("member").get("/me").json["user"]["role"] == "admin"


def test_a_deactivated_user_is_refused_when_the_authorizer_asks_and_back_when_reactivated(fresh_tenant: Any) -> None:
    contractor_id = fresh_tenant.users["contractor"]
    assert patch_user(fresh_tenant, contractor_id, active=False).json["active"] is False
    assert_problem(fresh_tenant.as_("contractor").get("/me"), 401)
    assert_problem(fresh_tenant.as_("contractor").get("/customers"), 401)
    assert patch_user(fresh_tenant, contractor_id, active=True).status == 200
    assert fresh_tenant.as_("contractor").get("/me").status == 200


def test_a_deactivated_user_cannot_own_customers(fresh_tenant: Any) -> None:
    patch_user(fresh_tenant, fresh_tenant.users["member"], active=False)
    refused = fresh_tenant.as_("owner").post("/customers", {"name": "Orphan", "owner_id": fresh_tenant.users["member"]})
    assert_problem(refused, 422, "owner_id")


def test_the_last_owner_can_be_neither_demoted_nor_deactivated(fresh_tenant: Any, aws: Any) -> None:
    owner_id, admin_id = fresh_tenant.users["owner"], fresh_tenant.users["admin"]
    assert_problem(patch_user(fresh_tenant, owner_id, role="admin"), 409)
    assert_problem(patch_user(fresh_tenant, owner_id, active=False), 409)
    assert user(fresh_tenant, owner_id)["role"] == "owner"
    assert patch_user(fresh_tenant, admin_id, role="owner").status == 200
    assert patch_user(fresh_tenant, owner_id, role="admin").status == 200
    new_owner = Api(fresh_tenant.client, token_for(aws, fresh_tenant.emails["admin"]))
    version = new_owner.get("/me").json["user"]["version"]
    assert_problem(new_owner.patch(f"/users/{admin_id}", {"version": version, "role": "member"}), 409)


def test_an_owner_can_step_down_once_another_owner_exists(fresh_tenant: Any) -> None:
    invited(fresh_tenant.as_("owner"), "owner")
    stepped_down = patch_user(fresh_tenant, fresh_tenant.users["owner"], role="member")
    assert stepped_down.status == 200, stepped_down.body
    assert_problem(fresh_tenant.as_("owner").get("/me"), 401)


def test_an_admin_can_neither_change_an_owner_nor_make_one(acme: Any) -> None:
    admin = acme.as_("admin")
    owner = user(acme, acme.users["owner"])
    assert_problem(admin.patch(f"/users/{owner['id']}", {"version": owner["version"], "name": "Demoted"}), 403)
    member = invited(acme.as_("owner"))
    assert_problem(admin.patch(f"/users/{member['id']}", {"version": 1, "role": "owner"}), 403)
    assert user(acme, member["id"])["role"] == "member"


def test_only_portal_users_carry_a_customer(acme: Any) -> None:
    member = invited(acme.as_("owner"))
    refused = acme.as_("owner").patch(f"/users/{member['id']}", {"version": 1, "customer_id": acme.portal_customer_id})
    assert_problem(refused, 422, "customer_id")
    assert_problem(acme.as_("owner").patch(f"/users/{member['id']}", {"version": 1, "role": "portal"}), 422,
                   "customer_id")
    portal = invited(acme.as_("owner"), "portal", customer_id=acme.portal_customer_id)
    demoted = acme.as_("owner").patch(f"/users/{portal['id']}", {"version": 1, "role": "readonly"})
    assert (demoted.json["role"], demoted.json["customer_id"]) == ("readonly", None)


def test_an_unknown_or_foreign_user_is_not_found(acme: Any, globex: Any) -> None:
    assert_problem(acme.as_("owner").patch("/users/nobody", {"version": 1, "name": "x"}), 404)
    foreign = globex.as_("owner").patch(f"/users/{acme.users['member']}", {"version": 1, "name": "Hijacked"})
    assert_problem(foreign, 404)
    assert user(acme, acme.users["member"])["name"] != "Hijacked"


# ---------- the tenant ----------


@pytest.mark.parametrize("role", ["owner", "admin", "member", "contractor", "readonly"])
def test_the_team_reads_the_tenant_settings(acme: Any, role: str) -> None:
    tenant = acme.as_(role).get("/tenant")
    assert tenant.status == 200, tenant.body
    assert tenant.json["id"] == acme.tenant_id
    assert {"name", "timezone", "week_start", "default_currency", "version"} <= set(tenant.json)


def test_the_owner_changes_the_tenant_settings(fresh_tenant: Any, events: EventLog) -> None:
    api = fresh_tenant.as_("owner")
    before = api.get("/tenant").json
    changes = {"name": "Renamed Inc", "timezone": "Europe/Paris", "week_start": "sunday", "default_currency": "EUR"}
    changed = api.patch("/tenant", {"version": before["version"], **changes})
    assert changed.status == 200, changed.body
    assert {k: changed.json[k] for k in changes} == changes
    assert changed.json["version"] == before["version"] + 1
    assert api.get("/tenant").json == changed.json
    audit = api.get(f"/audit?entity_id={fresh_tenant.tenant_id}").json["items"]
    assert audit[0]["changes"]["timezone"] == {"before": before["timezone"], "after": "Europe/Paris"}
    assert len(events.of("Tenant.Updated", tenant_id=fresh_tenant.tenant_id)) == 1


def test_a_stale_tenant_version_changes_nothing(fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    version = api.get("/tenant").json["version"]
    assert api.patch("/tenant", {"name": "First"}, headers={"If-Match": str(version)}).status == 200
    assert_problem(api.patch("/tenant", {"version": version, "name": "Second"}), 409)
    assert api.get("/tenant").json["name"] == "First"


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"default_currency": "euro"}, "default_currency"),
        ({"week_start": "funday"}, "week_start"),
        ({"name": ""}, "name"),
        ({"owner_count": 5}, "owner_count"),
    ],
)
def test_invalid_tenant_settings_are_refused_naming_the_field(acme: Any, body: dict[str, Any],
                                                             field_name: str) -> None:
    assert_problem(acme.as_("owner").patch("/tenant", {"version": 1, **body}), 422, field_name)


@pytest.mark.parametrize("role", ["admin", "member", "contractor", "readonly", "portal"])
def test_only_the_owner_changes_the_tenant(acme: Any, role: str) -> None:
    assert_problem(acme.as_(role).patch("/tenant", {"version": 1, "name": "Taken Over"}), 403)
    assert acme.as_("owner").get("/tenant").json["name"] != "Taken Over"


def test_a_tenant_made_outside_any_request_gets_its_owner_login_and_template_library(
        aws: Any, http: Any, deliver: Any) -> None:
    """The README's first-tenant step: `create_tenant` run from a script, where no request has
    set a tenant scope (the tenant guard refused the whole transaction)."""
    from chalicelib.core.scope import current_scope
    from chalicelib.team.service import create_tenant

    tenant_id, email = unique("first").replace("-", ""), f"{unique('founder')}@first.example"
    assert current_scope() is None
    create_tenant(tenant_id, "First Co", email, "Fran Founder", PASSWORD)
    deliver()
    founder = Api(http, token_for(aws, email))
    assert founder.get("/me").json["user"]["role"] == "owner"
    assert all_items(founder, "/templates?limit=100"), "the Tenant.Created consumer seeds the library"
