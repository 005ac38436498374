"""The permission table, checked as a whole: well formed, owners do everything, admins all but
the owner-only actions, readonly never passes the gate of a route that writes, portal users
reach only their own company, and money stays hidden from contractors and portal users."""

from __future__ import annotations

import re

import pytest
from chalicelib.core.auth import ROLES, Principal
from chalicelib.core.errors import Forbidden, problem_for
from chalicelib.core.permissions import PERMISSIONS, Reach, require, roles_allowed, sees_financials

OWNER_ONLY = {"tenant:write"} | {action for action in PERMISSIONS if action.startswith("billing")}
# The customer portal's own pages (/portal/...): the issue gives them to portal users only,
# every other role 403 — the one place an owner is refused.
PORTAL_ONLY = {"portal:read", "portal:write"}


def principal(role: str) -> Principal:
    return Principal(tenant_id="acme", user_id="u1", role=role, email="u1@acme.example",
                     customer_id="c1" if role == "portal" else None)


def routes() -> list[tuple[str, str, str | None]]:
    """(method, path, permission) of every route the app declares: importing the app declares them."""
    import app  # noqa: F401
    from chalicelib.core.http import ROUTES

    return [(spec.method, spec.path, spec.permission) for spec in ROUTES.values() if not spec.public]


@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_every_entry_is_a_noun_verb_action_over_known_roles_and_reaches(action: str) -> None:
    assert re.fullmatch(r"[a-z_]+:[a-z_]+", action)
    assert set(PERMISSIONS[action]) <= set(ROLES)
    assert all(isinstance(reach, Reach) for reach in PERMISSIONS[action].values())
    assert roles_allowed(action) == frozenset(PERMISSIONS[action])


@pytest.mark.parametrize("action", sorted(set(PERMISSIONS) - PORTAL_ONLY))
def test_owners_may_do_everything_over_every_record(action: str) -> None:
    assert require(principal("owner"), action) is Reach.ALL


@pytest.mark.parametrize("action", sorted(PORTAL_ONLY))
def test_the_portals_own_pages_are_for_portal_users_only(action: str) -> None:
    assert roles_allowed(action) == {"portal"}
    assert require(principal("portal"), action) is Reach.OWN_COMPANY


@pytest.mark.parametrize("action", sorted(set(PERMISSIONS) - OWNER_ONLY - PORTAL_ONLY))
def test_admins_may_do_everything_but_the_owner_only_actions(action: str) -> None:
    assert require(principal("admin"), action) is Reach.ALL


@pytest.mark.parametrize("action", sorted(OWNER_ONLY))
def test_owner_only_actions_refuse_everyone_else(action: str) -> None:
    assert roles_allowed(action) == {"owner"}


def test_readonly_passes_no_gate_of_a_route_that_writes() -> None:
    writing = [(m, p, action) for m, p, action in routes() if m != "GET" and action]
    assert writing
    passing = [(m, p) for m, p, action in writing if "readonly" in roles_allowed(action)]
    assert passing == []


def test_readonly_reads_whatever_it_reads_across_the_whole_tenant() -> None:
    assert {reach for action in PERMISSIONS for role, reach in PERMISSIONS[action].items() if role == "readonly"} == {
        Reach.ALL}


def test_portal_users_reach_only_their_own_company() -> None:
    reaches = {action: PERMISSIONS[action]["portal"] for action in PERMISSIONS if "portal" in PERMISSIONS[action]}
    assert {action: reach for action, reach in reaches.items() if action != "me:read"} == {
        action: Reach.OWN_COMPANY for action in reaches if action != "me:read"}
    for action in ("users:read", "users:write", "audit:read", "tenant:read", "tenant:write"):
        assert "portal" not in roles_allowed(action), action


@pytest.mark.parametrize("action", ["customers:read", "contacts:read"])
def test_members_and_contractors_see_only_their_share_of_customers(action: str) -> None:
    assert (PERMISSIONS[action]["member"], PERMISSIONS[action]["contractor"]) == (Reach.OWNED, Reach.ASSIGNED)


@pytest.mark.parametrize("action", ["customers:write", "contacts:write", "users:write", "tenant:write"])
def test_contractors_and_readonly_never_change_customers_or_the_team(action: str) -> None:
    assert not {"contractor", "readonly", "portal"} & roles_allowed(action)


@pytest.mark.parametrize("role", ROLES)
def test_only_contractors_and_portal_users_are_kept_from_money(role: str) -> None:
    assert sees_financials(principal(role)) is (role not in {"contractor", "portal"})


def test_a_refused_role_gets_a_403_naming_the_role_and_the_action() -> None:
    with pytest.raises(Forbidden) as refused:
        require(principal("readonly"), "customers:write")
    assert "readonly" in refused.value.detail and "customers write" in refused.value.detail
    assert problem_for(refused.value).kind.status == 403


def test_every_route_asks_an_action_the_table_knows() -> None:
    unknown = [(m, p, action) for m, p, action in routes() if action not in PERMISSIONS]
    assert unknown == []
