"""Canned responses: create and find them, and reply with one — placeholders rendered from the
ticket by plain substitution over a fixed whitelist, never as template code."""

from __future__ import annotations

import pytest
from chalicelib.canned.render import MissingPlaceholder, render

GREETING = "Hi {{contact.first_name}} at {{ customer.name }}, ticket {{ticket.id}} is with {{agent.name}}."


@pytest.fixture(scope="module")
def setup(acme):
    api = acme.as_("owner")
    customer = api.post("/customers", {"name": "Initech {{agent.name}}"}).json
    contact = api.post(f"/customers/{customer['id']}/contacts", {"name": "Peter Gibbons",
                                                                "email": "peter@initech-canned.example"}).json
    return customer, contact


def canned(api, name="Greeting", body=GREETING, **fields):
    response = api.post("/canned-responses", {"name": name, "body": body, **fields})
    assert response.status == 201, response.body
    return response.json


def test_members_create_canned_responses_and_see_their_placeholders(acme):
    created = canned(acme.as_("member"), category="general")
    assert created["placeholders"] == ["contact.first_name", "customer.name", "ticket.id", "agent.name"]


def test_an_unknown_placeholder_is_refused_when_saving(acme):
    response = acme.as_("owner").post("/canned-responses", {"name": "Bad", "body": "Dear {{customer.secret}}"})
    assert response.status == 422 and response.json["errors"][0]["field"] == "body"


def test_canned_responses_validate_and_are_not_for_readonly_or_portal(acme):
    assert acme.as_("owner").post("/canned-responses", {"name": "x"}).status == 422
    assert acme.as_("owner").post("/canned-responses", {"name": "x", "body": "y", "category": "Bad Cat"}).status == 422
    assert acme.as_("readonly").post("/canned-responses", {"name": "x", "body": "y"}).status == 403
    assert acme.as_("portal").get("/canned-responses").status == 403


def test_canned_responses_are_found_by_name_prefix_and_category(acme):
    api = acme.as_("owner")
    refund = canned(api, name="Refund issued", body="Your refund is on its way.", category="billing")
    canned(api, name="Reset password", body="Use the reset link.", category="account")
    by_prefix = api.get("/canned-responses?q=refu").json["items"]
    assert [c["id"] for c in by_prefix] == [refund["id"]]
    by_category = api.get("/canned-responses?category=billing").json["items"]
    assert refund["id"] in {c["id"] for c in by_category}
    assert all(c["category"] == "billing" for c in by_category)
    assert api.get("/canned-responses?category=billing&q=reset").json["items"] == []


def test_another_tenant_never_sees_or_uses_a_canned_response(acme, globex):
    mine = canned(acme.as_("owner"), name="Acme only")
    assert mine["id"] not in {c["id"] for c in globex.as_("owner").get("/canned-responses").json["items"]}
    customer = globex.as_("owner").post("/customers", {"name": "G"}).json["id"]
    ticket = globex.as_("owner").post("/tickets", {"subject": "s", "description": "d", "customer_id": customer}).json
    reply = globex.as_("owner").post(f"/tickets/{ticket['id']}/messages", {"canned_response_id": mine["id"]})
    assert reply.status == 422


def test_replying_with_a_canned_response_renders_the_tickets_values_literally(acme, setup):
    customer, contact = setup
    api = acme.as_("member")  # replies on a ticket assigned to them, though Initech is not one of their customers
    ticket = acme.as_("owner").post("/tickets", {"subject": "s", "description": "d", "customer_id": customer["id"],
                                                 "requester_contact_id": contact["id"],
                                                 "assignee_id": acme.users["member"]}).json
    template = canned(api)
    reply = api.post(f"/tickets/{ticket['id']}/messages", {"canned_response_id": template["id"]})
    assert reply.status == 201, reply.body
    assert reply.json["body"] == f"Hi Peter at Initech {{{{agent.name}}}}, ticket {ticket['id']} is with Member."
    assert reply.json["canned_response_id"] == template["id"]


def test_a_placeholder_the_ticket_cannot_fill_is_a_422(acme, setup):
    customer, _ = setup
    api = acme.as_("member")
    body = {"subject": "s", "description": "d", "customer_id": customer["id"], "assignee_id": acme.users["member"]}
    ticket = acme.as_("owner").post("/tickets", body).json
    reply = api.post(f"/tickets/{ticket['id']}/messages", {"canned_response_id": canned(api)["id"]})
    assert reply.status == 422 and "contact.first_name" in reply.json["detail"]
    assert api.get(f"/tickets/{ticket['id']}/messages").json["items"] == []


def test_rendering_substitutes_once_and_never_evaluates():
    values = {"customer.name": "{{ticket.id}} ${x} {% raw %}", "ticket.id": "T1", "contact.first_name": "A",
              "agent.name": "B"}
    assert render("{{customer.name}} / {{ticket.id}}", values) == "{{ticket.id}} ${x} {% raw %} / T1"
    with pytest.raises(MissingPlaceholder):
        render("{{contact.first_name}}", {"contact.first_name": None})
    with pytest.raises(MissingPlaceholder):
        render("{{__class__.mro}}", values)
