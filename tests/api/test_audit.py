"""The audit trail through the API: every write leaves an entry (actor, action, entity, changed
fields before/after, request id); owners and admins read it by entity, by actor, or whole."""

from __future__ import annotations

from typing import Any

import pytest
from foundation_helpers import all_items, assert_problem, header, unique


def trail(api: Any, query: str = "") -> list[dict[str, Any]]:
    return all_items(api, f"/audit?limit=200&{query}")


@pytest.fixture
def history(fresh_tenant: Any) -> dict[str, Any]:
    """In a tenant of its own: the admin creates and changes a customer, the owner renames it."""
    admin, owner = fresh_tenant.as_("admin"), fresh_tenant.as_("owner")
    created = admin.post("/customers", {"name": "Audited", "tier": "smb"})
    changed = admin.patch(f"/customers/{created.json['id']}", {"version": 1, "tier": "enterprise"})
    renamed = owner.patch(f"/customers/{created.json['id']}", {"version": 2, "name": "Audited Inc"})
    assert (created.status, changed.status, renamed.status) == (201, 200, 200)
    return {"world": fresh_tenant, "customer_id": created.json["id"], "responses": [created, changed, renamed]}


def test_an_entity_history_is_newest_first_with_before_and_after(history: dict[str, Any]) -> None:
    world = history["world"]
    entries = trail(world.as_("owner"), f"entity_id={history['customer_id']}")
    assert [entry["action"] for entry in entries] == ["update", "update", "create"]
    renamed, changed, created = entries
    assert renamed["changes"] == {"name": {"before": "Audited", "after": "Audited Inc"}}
    assert changed["changes"] == {"tier": {"before": "smb", "after": "enterprise"}}
    assert created["changes"]["name"] == {"before": None, "after": "Audited"}
    assert [(e["actor_id"], e["actor_role"]) for e in entries] == [
        (world.users["owner"], "owner"), (world.users["admin"], "admin"), (world.users["admin"], "admin")]
    assert [e["request_id"] for e in reversed(entries)] == [header(r, "x-request-id") for r in history["responses"]]
    assert all(e["occurred_at"].endswith("Z") and e["entity_type"] == "customer" for e in entries)


def test_an_actor_history_shows_only_what_they_did(history: dict[str, Any]) -> None:
    world = history["world"]
    by_admin = trail(world.as_("admin"), f"actor_id={world.users['admin']}")
    assert [e["action"] for e in by_admin] == ["update", "create"]
    both = trail(world.as_("owner"), f"entity_id={history['customer_id']}&actor_id={world.users['owner']}")
    assert [e["changes"] for e in both] == [{"name": {"before": "Audited", "after": "Audited Inc"}}]


def test_the_whole_trail_is_newest_first_and_pages(history: dict[str, Any]) -> None:
    api = history["world"].as_("owner")
    everything = trail(api)
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert {"tenant", "user", "customer"} <= {e["entity_type"] for e in everything}
    first = api.get("/audit?limit=2")
    assert len(first.json["items"]) == 2 and first.json["next_cursor"]
    second = api.get(f"/audit?limit=2&cursor={first.json['next_cursor']}")
    assert [e["id"] for e in first.json["items"] + second.json["items"]] == [e["id"] for e in everything[:4]]


def test_a_cursor_continues_only_the_trail_it_came_from(history: dict[str, Any]) -> None:
    api = history["world"].as_("owner")
    cursor = api.get(f"/audit?entity_id={history['customer_id']}&limit=1").json["next_cursor"]
    assert api.get(f"/audit?entity_id={history['customer_id']}&limit=1&cursor={cursor}").status == 200
    assert_problem(api.get(f"/audit?entity_id=other&cursor={cursor}"), 400)
    assert_problem(api.get(f"/audit?cursor={cursor}"), 400)
    assert_problem(api.get(f"/audit?entity_id={history['customer_id']}&cursor={cursor[:-4]}AAAA"), 400)


@pytest.mark.parametrize("role", ["member", "contractor", "readonly", "portal"])
def test_only_owners_and_admins_read_the_trail(acme: Any, role: str) -> None:
    assert_problem(acme.as_(role).get("/audit"), 403)


@pytest.mark.parametrize(
    ("query", "field_name"),
    [("entity_id=has%20space", "entity_id"), ("actor_id=a/b", "actor_id"), ("limit=0", "limit"),
     ("action=create", "action")],
)
def test_invalid_audit_queries_are_refused_naming_the_parameter(acme: Any, query: str, field_name: str) -> None:
    assert_problem(acme.as_("owner").get(f"/audit?{query}"), 422, field_name)


def test_another_tenant_never_sees_the_trail(acme: Any, globex: Any) -> None:
    created = acme.as_("owner").post("/customers", {"name": unique("Secret Trail ")})
    intruder = globex.as_("owner")
    assert trail(intruder, f"entity_id={created.json['id']}") == []
    assert trail(intruder, f"actor_id={acme.users['owner']}") == []
    assert created.json["id"] not in str(trail(intruder))
