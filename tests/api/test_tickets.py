"""Tickets: create, list, read, change, the status machine, messages and the portal."""

from __future__ import annotations

import itertools

import pytest

STATUSES = ("new", "open", "in_progress", "pending", "waiting_on_customer", "resolved", "closed")
LEGAL = {
    ("new", "open"),
    *{(a, b) for a in ("open", "in_progress", "pending", "waiting_on_customer")
      for b in ("open", "in_progress", "pending", "waiting_on_customer", "resolved") if a != b},
    ("resolved", "open"),
    ("resolved", "closed"),
}
ILLEGAL = sorted({(a, b) for a, b in itertools.product(STATUSES, STATUSES) if a != b} - LEGAL)
# The shortest way to bring a fresh (assigned, open) ticket into each status.
PATH_TO = {
    "new": [], "open": ["open"], "in_progress": ["open", "in_progress"], "pending": ["open", "pending"],
    "waiting_on_customer": ["open", "waiting_on_customer"], "resolved": ["open", "resolved"],
    "closed": ["open", "resolved", "closed"],
}


@pytest.fixture(scope="module")
def customer(acme):
    return acme.as_("owner").post("/customers", {"name": "Initech", "tier": "smb"}).json


def new_ticket(api, customer_id, **fields):
    response = api.post("/tickets", {"subject": "Export fails", "description": "CSV export times out",
                                     "customer_id": customer_id, **fields})
    assert response.status == 201, response.body
    return response.json


def patch(api, ticket, **changes):
    return api.patch(f"/tickets/{ticket['id']}", {"version": ticket["version"], **changes})


def ticket_in(acme, customer_id, status):
    api = acme.as_("owner")
    ticket = new_ticket(api, customer_id)
    for step in PATH_TO[status]:
        extra = {"assignee_id": acme.users["member"]} if step == "open" and ticket["status"] == "new" else {}
        response = patch(api, ticket, status=step, **extra)
        assert response.status == 200, response.body
        ticket = response.json
    return ticket


# ---------- create and read ----------


def test_owner_opens_a_ticket_that_starts_new_with_running_sla_clocks(fresh_tenant):
    # A tenant of its own: the default policy's targets, whatever other tests saved on acme's.
    api = fresh_tenant.as_("owner")
    ticket = new_ticket(api, api.post("/customers", {"name": "Initech", "tier": "smb"}).json["id"], priority="high")
    assert ticket["status"] == "new" and ticket["sla_state"] == "ok" and ticket["version"] == 1
    assert ticket["sla"]["first_response"]["target_minutes"] == 60
    assert ticket["sla"]["resolution"]["target_minutes"] == 240
    assert ticket["sla"]["first_response"]["due_at"]


def test_a_ticket_created_with_an_assignee_is_open(acme, customer):
    ticket = new_ticket(acme.as_("admin"), customer["id"], assignee_id=acme.users["member"])
    assert ticket["status"] == "open" and ticket["assignee_id"] == acme.users["member"]


def test_creating_a_ticket_validates_its_fields(acme, customer):
    api = acme.as_("owner")
    missing = api.post("/tickets", {"subject": "x", "customer_id": customer["id"]})
    assert missing.status == 422 and missing.json["errors"][0]["field"] == "description"
    bad_priority = api.post("/tickets", {"subject": "x", "description": "y", "customer_id": customer["id"],
                                         "priority": "critical"})
    assert bad_priority.status == 422
    computed = api.post("/tickets", {"subject": "x", "description": "y", "customer_id": customer["id"],
                                     "escalation_level": 3})
    assert computed.status == 422
    nobody = api.post("/tickets", {"subject": "x", "description": "y", "customer_id": "nope"})
    assert nobody.status == 422 and nobody.json["errors"][0]["field"] == "customer_id"
    no_customer = api.post("/tickets", {"subject": "x", "description": "y"})
    assert no_customer.status == 422 and no_customer.json["errors"][0]["field"] == "customer_id"


def test_a_tenant_category_is_accepted(acme, customer):
    assert new_ticket(acme.as_("owner"), customer["id"], category="onboarding")["category"] == "onboarding"


def test_readonly_may_read_but_not_open_tickets(acme, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    assert acme.as_("readonly").get(f"/tickets/{ticket['id']}").status == 200
    denied = acme.as_("readonly").post("/tickets", {"subject": "x", "description": "y", "customer_id": customer["id"]})
    assert denied.status == 403


def test_another_tenant_never_sees_a_ticket(acme, globex, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    assert globex.as_("owner").get(f"/tickets/{ticket['id']}").status == 404
    assert globex.as_("owner").patch(f"/tickets/{ticket['id']}", {"version": 1, "priority": "low"}).status == 404
    assert globex.as_("owner").post(f"/tickets/{ticket['id']}/messages", {"body": "hi"}).status == 404
    listed = globex.as_("owner").get("/tickets").json["items"]
    assert ticket["id"] not in {t["id"] for t in listed}


def test_a_contractor_sees_only_tickets_assigned_to_them(acme, customer):
    mine = new_ticket(acme.as_("owner"), customer["id"], assignee_id=acme.users["contractor"])
    other = new_ticket(acme.as_("owner"), customer["id"])
    contractor = acme.as_("contractor")
    assert contractor.get(f"/tickets/{mine['id']}").status == 200
    assert contractor.get(f"/tickets/{other['id']}").status == 404
    ids = {t["id"] for t in contractor.get("/tickets").json["items"]}
    assert mine["id"] in ids and other["id"] not in ids


# ---------- lists ----------


def test_lists_filter_by_each_facet_and_sort(fresh_tenant):
    api = fresh_tenant.as_("owner")
    company = api.post("/customers", {"name": "Hooli"}).json["id"]
    other = api.post("/customers", {"name": "Umbrella"}).json["id"]
    urgent = new_ticket(api, company, priority="urgent", category="bug", source="email",
                        assignee_id=fresh_tenant.users["member"])
    low = new_ticket(api, company, priority="low", category="billing")
    elsewhere = new_ticket(api, other, priority="normal", source="api", assignee_id=fresh_tenant.users["owner"])

    def ids(query):
        response = api.get(f"/tickets?{query}")
        assert response.status == 200, response.body
        return [t["id"] for t in response.json["items"]]

    assert set(ids(f"customer_id={company}")) == {urgent["id"], low["id"]}
    assert ids("priority=urgent") == [urgent["id"]]
    assert ids("category=billing") == [low["id"]]
    assert ids("source=api") == [elsewhere["id"]]
    assert ids("status=new") == [low["id"]]
    assert ids("assignee_id=none") == [low["id"]]
    assert ids("assignee_id=me") == [elsewhere["id"]]
    assert ids(f"assignee_id={fresh_tenant.users['member']}") == [urgent["id"]]
    assert ids(f"customer_id={company}&priority=low") == [low["id"]]
    assert ids("sla_state=ok&priority=urgent") == [urgent["id"]]
    assert ids("sort=priority") == [urgent["id"], elsewhere["id"], low["id"]]
    assert ids("sort=sla_due")[0] == urgent["id"]
    assert ids("sort=created") == [elsewhere["id"], low["id"], urgent["id"]]
    created_after = ids(f"created_after={low['created_at']}")
    assert urgent["id"] not in created_after or urgent["created_at"] >= low["created_at"]
    assert ids(f"customer_id={company}&created_before=2000-01-01T00:00:00Z") == []


def test_lists_page_with_a_cursor(fresh_tenant):
    api = fresh_tenant.as_("owner")
    company = api.post("/customers", {"name": "Hooli"}).json["id"]
    made = {new_ticket(api, company)["id"] for _ in range(3)}
    first = api.get(f"/tickets?customer_id={company}&limit=2").json
    second = api.get(f"/tickets?customer_id={company}&limit=2&cursor={first['next_cursor']}").json
    assert {t["id"] for t in first["items"] + second["items"]} == made and second["next_cursor"] is None
    assert api.get(f"/tickets?status=new&cursor={first['next_cursor']}").status == 400


def test_list_filters_are_validated(acme):
    assert acme.as_("owner").get("/tickets?sla_state=late").status == 422
    assert acme.as_("owner").get("/tickets?sort=random").status == 422


def test_a_created_range_that_ends_before_it_starts_is_a_422_naming_created_before(acme):
    """DynamoDB refuses a BETWEEN whose bounds are inverted (a 500 on DynamoDB Local; moto
    answered an empty page)."""
    refused = acme.as_("owner").get("/tickets?created_after=2026-01-02T00:00:00Z&created_before=2026-01-01T00:00:00Z")
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["created_before"]


def test_customer_tickets_route_lists_one_customers_tickets(acme, globex, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    listed = acme.as_("owner").get(f"/customers/{customer['id']}/tickets")
    assert listed.status == 200 and ticket["id"] in {t["id"] for t in listed.json["items"]}
    assert globex.as_("owner").get(f"/customers/{customer['id']}/tickets").status == 404
    assert acme.as_("owner").get(f"/customers/{customer['id']}/tickets?sort=x").status == 422


# ---------- the status machine ----------


@pytest.mark.parametrize(("start", "target"), sorted(LEGAL))
def test_every_legal_transition_works(acme, customer, start, target):
    ticket = ticket_in(acme, customer["id"], start)
    extra = {"assignee_id": acme.users["member"]} if start == "new" else {}
    response = patch(acme.as_("owner"), ticket, status=target, **extra)
    assert response.status == 200, response.body
    assert response.json["status"] == target


@pytest.mark.parametrize(("start", "target"), ILLEGAL)
def test_every_illegal_transition_is_a_409_naming_both_statuses(acme, customer, start, target):
    ticket = ticket_in(acme, customer["id"], start)
    response = patch(acme.as_("owner"), ticket, status=target)
    assert response.status == 409, response.body
    assert start in response.json["detail"] and target in response.json["detail"]
    assert acme.as_("owner").get(f"/tickets/{ticket['id']}").json["version"] == ticket["version"]


def test_opening_needs_an_assignee(acme, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    response = patch(acme.as_("owner"), ticket, status="open")
    assert response.status == 422 and response.json["errors"][0]["field"] == "assignee_id"


def test_assigning_a_new_ticket_opens_it(acme, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    assigned = patch(acme.as_("owner"), ticket, assignee_id=acme.users["admin"]).json
    assert assigned["status"] == "open"


def test_a_stale_version_is_a_409_and_changes_nothing(acme, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    assert patch(acme.as_("owner"), ticket, priority="low").status == 200
    stale = patch(acme.as_("owner"), ticket, priority="urgent")
    assert stale.status == 409
    assert acme.as_("owner").get(f"/tickets/{ticket['id']}").json["priority"] == "low"


def test_resolving_stamps_resolved_at_and_closing_closed_at(acme, customer):
    resolved = ticket_in(acme, customer["id"], "resolved")
    assert resolved["resolved_at"] and resolved["sla"]["resolution"]["state"] in ("met", "breached")
    closed = patch(acme.as_("owner"), resolved, status="closed").json
    assert closed["closed_at"]


def test_reopening_counts_and_restarts_the_resolution_clock(acme, customer):
    resolved = ticket_in(acme, customer["id"], "resolved")
    reopened = patch(acme.as_("owner"), resolved, status="open").json
    assert reopened["reopen_count"] == 1 and reopened["resolved_at"] is None
    assert reopened["sla"]["resolution"]["cycle"] == 2 and reopened["sla"]["resolution"]["state"] == "ok"


def test_member_may_change_but_readonly_and_portal_may_not(acme, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    assert patch(acme.as_("member"), ticket, priority="low").status == 200
    assert patch(acme.as_("readonly"), ticket, priority="low").status == 403
    assert patch(acme.as_("portal"), ticket, priority="low").status == 403
    unknown = acme.as_("owner").patch(f"/tickets/{ticket['id']}", {"version": 2, "sla_state": "ok"})
    assert unknown.status == 422


# ---------- messages ----------


def test_the_first_public_team_reply_sets_first_response_at_and_internal_notes_do_not(acme, customer):
    api = acme.as_("member")
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    note = api.post(f"/tickets/{ticket['id']}/messages", {"visibility": "internal", "body": "checking logs"})
    assert note.status == 201 and note.json["visibility"] == "internal"
    assert api.get(f"/tickets/{ticket['id']}").json["first_response_at"] is None
    reply = api.post(f"/tickets/{ticket['id']}/messages", {"body": "We are on it."})
    assert reply.status == 201 and reply.json["author_type"] == "team"
    after = api.get(f"/tickets/{ticket['id']}").json
    assert after["first_response_at"] == reply.json["created_at"]
    assert after["sla"]["first_response"]["state"] == "met"
    messages = api.get(f"/tickets/{ticket['id']}/messages").json["items"]
    assert [m["body"] for m in messages] == ["checking logs", "We are on it."]


def test_a_message_needs_a_body_or_a_canned_response(acme, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"])
    assert acme.as_("owner").post(f"/tickets/{ticket['id']}/messages", {"visibility": "public"}).status == 422
    both = {"body": "x", "canned_response_id": "abc"}
    assert acme.as_("owner").post(f"/tickets/{ticket['id']}/messages", both).status == 422
    assert acme.as_("readonly").post(f"/tickets/{ticket['id']}/messages", {"body": "x"}).status == 403


def test_a_customer_reply_while_waiting_on_customer_moves_the_ticket_back_to_open(acme):
    waiting = ticket_in(acme, acme.portal_customer_id, "waiting_on_customer")
    reply = acme.as_("portal").post(f"/tickets/{waiting['id']}/messages", {"body": "Here are the logs"})
    assert reply.status == 201 and reply.json["author_type"] == "customer"
    assert acme.as_("owner").get(f"/tickets/{waiting['id']}").json["status"] == "open"


def test_a_customer_reply_within_seven_days_of_resolved_reopens(acme):
    resolved = ticket_in(acme, acme.portal_customer_id, "resolved")
    acme.as_("portal").post(f"/tickets/{resolved['id']}/messages", {"body": "Still broken"})
    after = acme.as_("owner").get(f"/tickets/{resolved['id']}").json
    assert after["status"] == "open" and after["reopen_count"] == 1


def test_a_customer_reply_after_seven_days_or_on_a_closed_ticket_opens_a_linked_ticket(acme, monkeypatch):
    from datetime import timedelta

    from chalicelib.sla import service as sla

    closed = ticket_in(acme, acme.portal_customer_id, "closed")
    reply = acme.as_("portal").post(f"/tickets/{closed['id']}/messages", {"body": "It is back"})
    assert reply.status == 201 and reply.json["ticket_id"] != closed["id"]
    follow_up = acme.as_("owner").get(f"/tickets/{reply.json['ticket_id']}").json
    assert follow_up["follow_up_of"] == closed["id"] and follow_up["source"] == "portal"
    assert acme.as_("owner").get(f"/tickets/{closed['id']}").json["status"] == "closed"

    resolved = ticket_in(acme, acme.portal_customer_id, "resolved")
    real_now = sla.now
    monkeypatch.setattr(sla, "now", lambda: real_now() + timedelta(days=8))
    late = acme.as_("portal").post(f"/tickets/{resolved['id']}/messages", {"body": "Again"})
    assert late.json["ticket_id"] != resolved["id"]
    assert acme.as_("owner").get(f"/tickets/{resolved['id']}").json["status"] == "resolved"


def test_a_customer_message_with_an_escalation_term_escalates_and_tags(acme, deliver):
    ticket = ticket_in(acme, acme.portal_customer_id, "open")
    acme.as_("portal").post(f"/tickets/{ticket['id']}/messages", {"body": "I am FURIOUS, call my lawyer."})
    after = acme.as_("owner").get(f"/tickets/{ticket['id']}").json
    assert after["escalation_level"] == 1 and "escalated" in after["tags"]
    escalated = [d.event for d in deliver() if d.event.type == "Ticket.Escalated"]
    assert escalated and escalated[0].data["terms"] == ["furious", "lawyer"]


# ---------- the portal ----------


def test_portal_users_open_list_read_and_reply_for_their_own_company(acme, customer):
    portal = acme.as_("portal")
    created = portal.post("/tickets", {"subject": "Login broken", "description": "cannot log in"})
    assert created.status == 201, created.body
    assert created.json["source"] == "portal" and created.json["customer_id"] == acme.portal_customer_id
    assert all(created.json.get(name) is None for name in ("sla", "assignee_id", "tags", "escalation_level"))
    assert portal.get(f"/tickets/{created.json['id']}").status == 200
    assert created.json["id"] in {t["id"] for t in portal.get("/tickets").json["items"]}
    foreign = new_ticket(acme.as_("owner"), customer["id"])
    assert portal.get(f"/tickets/{foreign['id']}").status == 404
    assert portal.get(f"/tickets?customer_id={customer['id']}").json["items"] == []
    assert portal.post(f"/tickets/{foreign['id']}/messages", {"body": "hi"}).status == 404
    other = portal.post("/tickets", {"subject": "x", "description": "y", "customer_id": customer["id"]})
    assert other.status == 422
    assert portal.post("/tickets", {"subject": "x", "description": "y", "assignee_id": "u"}).status == 422
    assert portal.post(f"/tickets/{created.json['id']}/messages",
                       {"visibility": "internal", "body": "x"}).status == 403


def test_internal_notes_never_reach_a_portal_token_on_any_ticket_route(acme, monkeypatch):
    secret = "INTERNAL-ONLY-7f3a"
    ticket = ticket_in(acme, acme.portal_customer_id, "open")
    team = acme.as_("owner")
    team.post(f"/tickets/{ticket['id']}/messages", {"visibility": "internal", "body": f"note {secret}"})
    team.post(f"/tickets/{ticket['id']}/messages", {"body": "public answer"})
    portal = acme.as_("portal")
    ticket_id = ticket["id"]
    responses = {
        "GET /tickets": portal.get("/tickets"),
        "GET /tickets?status=open": portal.get("/tickets?status=open"),
        "GET /tickets/{id}": portal.get(f"/tickets/{ticket_id}"),
        "GET /tickets/{id}/messages": portal.get(f"/tickets/{ticket_id}/messages"),
        "GET /customers/{id}/tickets": portal.get(f"/customers/{acme.portal_customer_id}/tickets"),
        "POST /tickets/{id}/messages": portal.post(f"/tickets/{ticket_id}/messages", {"body": "thanks"}),
        "POST /tickets": portal.post("/tickets", {"subject": "s", "description": "d"}),
        "GET /tickets/{id}/sla": portal.get(f"/tickets/{ticket_id}/sla"),
        "GET /tickets/{id}/csat-link": portal.get(f"/tickets/{ticket_id}/csat-link"),
        "PATCH /tickets/{id}": portal.patch(f"/tickets/{ticket_id}", {"version": 1, "priority": "low"}),
    }
    for name, response in responses.items():
        assert response.status < 500, name
        assert secret not in str(response.body), name
        assert "internal" not in str(response.body).replace("internal_", ""), name
    messages = responses["GET /tickets/{id}/messages"].json["items"]
    assert [m["body"] for m in messages] == ["public answer"]
    assert responses["GET /tickets/{id}/sla"].status == 403
