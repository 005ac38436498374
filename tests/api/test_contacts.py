"""Contacts through the API: the people at a customer, unique by email within a tenant, found
by email in one lookup, visible to whoever may see their customer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from foundation_helpers import EventLog, assert_problem, unique


@pytest.fixture(scope="module")
def events(aws: Any) -> Iterator[EventLog]:
    with EventLog.on_bus("contacts-events") as log:
        yield log


def new_customer(world: Any, **fields: Any) -> str:
    response = world.as_("owner").post("/customers", {"name": unique("Contact Co "), **fields})
    assert response.status == 201, response.body
    return response.json["id"]


def add_contact(api: Any, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("Pat "), "email": f"{unique('pat')}@contacts.example", **fields}
    response = api.post(f"/customers/{customer_id}/contacts", body)
    assert response.status == 201, response.body
    return response.json


def contact_ids(response: Any) -> list[str]:
    assert response.status == 200, response.body
    return [item["id"] for item in response.json["items"]]


def test_a_contact_is_added_listed_changed_and_deleted(acme: Any) -> None:
    api, customer_id = acme.as_("owner"), new_customer(acme)
    contact = add_contact(api, customer_id, phone="+1 555 0100", title="CFO", billing=True, exec_sponsor=True)
    assert (contact["customer_id"], contact["version"], contact["billing"], contact["champion"]) == (
        customer_id, 1, True, False)
    assert contact_ids(api.get(f"/customers/{customer_id}/contacts")) == [contact["id"]]
    changed = api.patch(f"/contacts/{contact['id']}", {"version": 1, "title": "CEO", "champion": True})
    assert changed.status == 200, changed.body
    assert (changed.json["title"], changed.json["champion"], changed.json["version"]) == ("CEO", True, 2)
    deleted = api.delete(f"/contacts/{contact['id']}")
    assert (deleted.status, deleted.body) == (204, None)
    assert contact_ids(api.get(f"/customers/{customer_id}/contacts")) == []
    assert_problem(api.patch(f"/contacts/{contact['id']}", {"version": 2, "title": "x"}), 404)


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"email": "x@contacts.example"}, "name"),
        ({"name": "No Email"}, "email"),
        ({"name": "Bad Email", "email": "not-an-email"}, "email"),
        ({"name": "Null Flag", "email": "flag@contacts.example", "champion": None}, "champion"),
        ({"name": "x" * 201, "email": "long@contacts.example"}, "name"),
        ({"name": "Extra", "email": "extra@contacts.example", "customer_id": "other"}, "customer_id"),
    ],
)
def test_invalid_contacts_are_refused_naming_the_field(acme: Any, body: dict[str, Any], field_name: str) -> None:
    customer_id = new_customer(acme)
    assert_problem(acme.as_("owner").post(f"/customers/{customer_id}/contacts", body), 422, field_name)


def test_a_contact_email_is_unique_within_a_tenant_ignoring_case(acme: Any, globex: Any) -> None:
    api, email = acme.as_("owner"), f"{unique('dup')}@contacts.example"
    first = add_contact(api, new_customer(acme), email=email)
    assert first["email"] == email
    assert_problem(api.post(f"/customers/{new_customer(acme)}/contacts", {"name": "Dup", "email": email.upper()}), 409)
    other = add_contact(api, new_customer(acme))
    assert_problem(api.patch(f"/contacts/{other['id']}", {"version": 1, "email": email}), 409)
    assert add_contact(globex.as_("owner"), new_customer(globex), email=email)["email"] == email


def test_changing_or_deleting_a_contact_releases_its_email(acme: Any) -> None:
    api, customer_id = acme.as_("owner"), new_customer(acme)
    old, new = f"{unique('old')}@contacts.example", f"{unique('new')}@contacts.example"
    contact = add_contact(api, customer_id, email=old)
    assert api.patch(f"/contacts/{contact['id']}", {"version": 1, "email": new}).status == 200
    reuser = add_contact(api, customer_id, email=old)
    assert api.delete(f"/contacts/{contact['id']}").status == 204
    assert add_contact(api, customer_id, email=new)["email"] == new
    assert reuser["email"] == old


def test_a_contact_is_found_by_email_in_one_lookup(acme: Any, globex: Any) -> None:
    api, email = acme.as_("owner"), f"{unique('lookup')}@contacts.example"
    contact = add_contact(api, new_customer(acme), email=email)
    assert contact_ids(api.get(f"/contacts?email={email.upper()}")) == [contact["id"]]
    assert contact_ids(api.get(f"/contacts?email=nobody-{email}")) == []
    assert contact_ids(globex.as_("owner").get(f"/contacts?email={email}")) == []
    assert_problem(api.get("/contacts"), 422, "email")
    assert_problem(api.get("/contacts?email=nope"), 422, "email")


def test_a_stale_version_is_a_conflict_and_changes_nothing(acme: Any) -> None:
    api, customer_id = acme.as_("owner"), new_customer(acme)
    contact = add_contact(api, customer_id, title="Before")
    assert api.patch(f"/contacts/{contact['id']}", {"title": "First"}, headers={"If-Match": "1"}).status == 200
    assert_problem(api.patch(f"/contacts/{contact['id']}", {"version": 1, "title": "Second"}), 409)
    listed = api.get(f"/customers/{customer_id}/contacts").json["items"]
    assert [(c["title"], c["version"]) for c in listed] == [("First", 2)]


def test_an_archived_customer_takes_no_new_contacts(acme: Any) -> None:
    api, customer_id = acme.as_("owner"), new_customer(acme)
    assert api.delete(f"/customers/{customer_id}").status == 200
    assert_problem(api.post(f"/customers/{customer_id}/contacts", {"name": "Late", "email": "late@c.example"}), 409)


def test_contacts_page_with_a_cursor_bound_to_their_customer(acme: Any) -> None:
    api, customer_id = acme.as_("owner"), new_customer(acme)
    made = {add_contact(api, customer_id)["id"] for _ in range(3)}
    first = api.get(f"/customers/{customer_id}/contacts?limit=2")
    assert len(first.json["items"]) == 2 and first.json["next_cursor"]
    rest = api.get(f"/customers/{customer_id}/contacts?limit=2&cursor={first.json['next_cursor']}")
    assert set(contact_ids(first)) | set(contact_ids(rest)) == made
    assert rest.json["next_cursor"] is None
    other = new_customer(acme)
    assert_problem(api.get(f"/customers/{other}/contacts?cursor={first.json['next_cursor']}"), 400)


def test_unknown_customer_or_contact_is_not_found(acme: Any) -> None:
    api = acme.as_("owner")
    assert_problem(api.get("/customers/01nope/contacts"), 404)
    assert_problem(api.post("/customers/01nope/contacts", {"name": "N", "email": "n@c.example"}), 404)
    assert_problem(api.patch("/contacts/01nope", {"version": 1, "title": "x"}), 404)
    assert_problem(api.delete("/contacts/01nope"), 404)


# ---------- who sees and changes what ----------


def test_member_works_only_with_contacts_of_their_customers(acme: Any) -> None:
    owner, member = acme.as_("owner"), acme.as_("member")
    mine = new_customer(acme, owner_id=acme.users["member"])
    theirs = new_customer(acme)
    foreign = add_contact(owner, theirs)
    own = add_contact(member, mine)
    assert contact_ids(member.get(f"/customers/{mine}/contacts")) == [own["id"]]
    assert member.patch(f"/contacts/{own['id']}", {"version": 1, "title": "Mine"}).status == 200
    assert_problem(member.get(f"/customers/{theirs}/contacts"), 404)
    assert_problem(member.post(f"/customers/{theirs}/contacts", {"name": "N", "email": "m@c.example"}), 404)
    assert_problem(member.patch(f"/contacts/{foreign['id']}", {"version": 1, "title": "x"}), 404)
    assert_problem(member.delete(f"/contacts/{foreign['id']}"), 404)
    assert contact_ids(member.get(f"/contacts?email={foreign['email']}")) == []


def test_portal_user_sees_only_their_own_company_contacts(acme: Any) -> None:
    owner, portal = acme.as_("owner"), acme.as_("portal")
    own = add_contact(owner, acme.portal_customer_id)
    other = add_contact(owner, new_customer(acme))
    assert own["id"] in contact_ids(portal.get(f"/customers/{acme.portal_customer_id}/contacts"))
    assert contact_ids(portal.get(f"/contacts?email={own['email']}")) == [own["id"]]
    assert contact_ids(portal.get(f"/contacts?email={other['email']}")) == []
    assert_problem(portal.get(f"/customers/{other['customer_id']}/contacts"), 404)
    assert_problem(portal.patch(f"/contacts/{own['id']}", {"version": 1, "title": "x"}), 403)


@pytest.mark.parametrize("role", ["readonly", "contractor", "portal"])
def test_roles_that_only_read_cannot_write_contacts(acme: Any, role: str) -> None:
    owner, api = acme.as_("owner"), acme.as_(role)
    customer_id = new_customer(acme, team_ids=[acme.users["contractor"]])
    contact = add_contact(owner, customer_id)
    assert_problem(api.post(f"/customers/{customer_id}/contacts", {"name": "N", "email": "r@c.example"}), 403)
    assert_problem(api.patch(f"/contacts/{contact['id']}", {"version": 1, "title": "x"}), 403)
    assert_problem(api.delete(f"/contacts/{contact['id']}"), 403)
    assert contact_ids(owner.get(f"/customers/{customer_id}/contacts")) == [contact["id"]]


def test_another_tenant_neither_sees_nor_changes_a_contact(acme: Any, globex: Any) -> None:
    customer_id = new_customer(acme)
    contact = add_contact(acme.as_("owner"), customer_id)
    intruder = globex.as_("owner")
    assert_problem(intruder.get(f"/customers/{customer_id}/contacts"), 404)
    assert_problem(intruder.post(f"/customers/{customer_id}/contacts", {"name": "N", "email": "g@c.example"}), 404)
    assert_problem(intruder.patch(f"/contacts/{contact['id']}", {"version": 1, "title": "x"}), 404)
    assert_problem(intruder.delete(f"/contacts/{contact['id']}"), 404)
    assert contact_ids(acme.as_("owner").get(f"/customers/{customer_id}/contacts")) == [contact["id"]]


# ---------- audit and events ----------


def test_every_contact_write_is_audited_and_published(acme: Any, events: EventLog) -> None:
    api, customer_id = acme.as_("owner"), new_customer(acme)
    contact = add_contact(api, customer_id, title="Buyer")
    api.patch(f"/contacts/{contact['id']}", {"version": 1, "title": "Chief Buyer"})
    api.delete(f"/contacts/{contact['id']}")
    entries = api.get(f"/audit?entity_id={contact['id']}").json["items"]
    assert [entry["action"] for entry in entries] == ["delete", "update", "create"]
    assert entries[1]["changes"] == {"title": {"before": "Buyer", "after": "Chief Buyer"}}
    assert entries[0]["changes"]["email"] == {"before": contact["email"], "after": None}
    assert {entry["entity_type"] for entry in entries} == {"contact"}
    for detail_type in ("Contact.Created", "Contact.Updated", "Contact.Deleted"):
        assert len(events.of(detail_type, contact_id=contact["id"], tenant_id=acme.tenant_id)) == 1, detail_type


def test_the_same_idempotency_key_adds_the_contact_once(acme: Any) -> None:
    api, customer_id, key = acme.as_("owner"), new_customer(acme), unique("contact-")
    body = {"name": "Once", "email": f"{unique('once')}@contacts.example"}
    first = api.post(f"/customers/{customer_id}/contacts", body, headers={"Idempotency-Key": key})
    again = api.post(f"/customers/{customer_id}/contacts", body, headers={"Idempotency-Key": key})
    assert (first.status, again.status, again.json) == (201, 201, first.json)
    assert contact_ids(api.get(f"/customers/{customer_id}/contacts")) == [first.json["id"]]
    changed = {**body, "name": "Twice"}
    assert_problem(api.post(f"/customers/{customer_id}/contacts", changed, headers={"Idempotency-Key": key}), 409)
