"""Queues: who works them, and routing new tickets (manual, round robin, least open) in the
transaction that creates the ticket. The members' open counts are moved by a consumer of the
ticket events (queues/consumers.py): tests deliver the events before reading them, and
least-open routing is as current as the last delivery."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def customer_id(acme):
    return acme.as_("owner").post("/customers", {"name": "Queue Co"}).json["id"]


def make_queue(world, routing, *roles):
    members = [world.users[role] for role in roles]
    response = world.as_("owner").post("/queues", {"name": f"{routing} queue", "members": members,
                                                   "routing": routing})
    assert response.status == 201, response.body
    return response.json


def ticket_in(world, customer_id, queue):
    response = world.as_("owner").post("/tickets", {"subject": "s", "description": "d", "customer_id": customer_id,
                                                    "queue_id": queue["id"]})
    assert response.status == 201, response.body
    return response.json


def test_owner_and_admin_create_queues_and_everyone_on_the_team_reads_them(acme):
    queue = make_queue(acme, "manual", "member")
    assert queue["open_counts"] == {acme.users["member"]: 0} and queue["version"] == 1
    assert acme.as_("admin").post("/queues", {"name": "Billing"}).status == 201
    assert acme.as_("readonly").get(f"/queues/{queue['id']}").status == 200
    assert queue["id"] in {q["id"] for q in acme.as_("member").get("/queues").json["items"]}


def test_queue_writes_are_for_owners_and_admins(acme):
    assert acme.as_("member").post("/queues", {"name": "Mine"}).status == 403
    assert acme.as_("portal").get("/queues").status == 403


def test_queues_are_validated(acme):
    api = acme.as_("owner")
    assert api.post("/queues", {"name": "x", "routing": "random"}).status == 422
    stranger = api.post("/queues", {"name": "x", "members": ["nobody"]})
    assert stranger.status == 422 and stranger.json["errors"][0]["field"] == "members"
    assert api.post("/queues", {"members": []}).status == 422


def test_another_tenant_never_sees_a_queue(acme, globex):
    queue = make_queue(acme, "manual")
    assert globex.as_("owner").get(f"/queues/{queue['id']}").status == 404
    assert globex.as_("owner").patch(f"/queues/{queue['id']}", {"version": 1, "name": "mine"}).status == 404
    assert queue["id"] not in {q["id"] for q in globex.as_("owner").get("/queues").json["items"]}
    other_customer = globex.as_("owner").post("/customers", {"name": "G"}).json["id"]
    foreign = globex.as_("owner").post("/tickets", {"subject": "s", "description": "d",
                                                    "customer_id": other_customer, "queue_id": queue["id"]})
    assert foreign.status == 422 and foreign.json["errors"][0]["field"] == "queue_id"


def test_round_robin_assigns_members_in_turn(acme, customer_id, deliver):
    queue = make_queue(acme, "round_robin", "member", "admin")
    assignees = [ticket_in(acme, customer_id, queue)["assignee_id"] for _ in range(3)]
    assert assignees == [acme.users["member"], acme.users["admin"], acme.users["member"]]
    deliver()
    counts = acme.as_("owner").get(f"/queues/{queue['id']}").json["open_counts"]
    assert counts == {acme.users["member"]: 2, acme.users["admin"]: 1}


def test_least_open_assigns_the_member_with_fewest_open_tickets(acme, customer_id, deliver):
    queue = make_queue(acme, "least_open", "member", "admin")
    first = ticket_in(acme, customer_id, queue)
    deliver()
    second = ticket_in(acme, customer_id, queue)
    assert (first["assignee_id"], second["assignee_id"]) == (acme.users["member"], acme.users["admin"])
    api = acme.as_("owner")
    api.patch(f"/tickets/{first['id']}", {"version": first["version"], "status": "resolved"})
    deliver()
    assert api.get(f"/queues/{queue['id']}").json["open_counts"][acme.users["member"]] == 0
    third = ticket_in(acme, customer_id, queue)
    assert third["assignee_id"] == acme.users["member"] and third["status"] == "open"


def test_least_open_reads_the_loads_as_delivered_so_far(acme, customer_id, deliver):
    """Eventually consistent: a ticket whose event is not delivered yet weighs on nobody."""
    queue = make_queue(acme, "least_open", "member", "admin")
    first = ticket_in(acme, customer_id, queue)
    second = ticket_in(acme, customer_id, queue)
    assert first["assignee_id"] == second["assignee_id"] == acme.users["member"]
    deliver()
    counts = acme.as_("owner").get(f"/queues/{queue['id']}").json["open_counts"]
    assert counts == {acme.users["member"]: 2, acme.users["admin"]: 0}
    assert ticket_in(acme, customer_id, queue)["assignee_id"] == acme.users["admin"]


def test_reassigning_moves_the_open_count(acme, customer_id, deliver):
    queue = make_queue(acme, "least_open", "member", "admin")
    ticket = ticket_in(acme, customer_id, queue)
    acme.as_("owner").patch(f"/tickets/{ticket['id']}", {"version": 1, "assignee_id": acme.users["admin"]})
    deliver()
    counts = acme.as_("owner").get(f"/queues/{queue['id']}").json["open_counts"]
    assert counts == {acme.users["member"]: 0, acme.users["admin"]: 1}


def test_a_manual_queue_leaves_tickets_unassigned_for_the_unassigned_view(acme, customer_id):
    queue = make_queue(acme, "manual", "member")
    ticket = ticket_in(acme, customer_id, queue)
    assert ticket["assignee_id"] is None and ticket["status"] == "new"
    unassigned = acme.as_("member").get(f"/tickets?assignee_id=none&queue_id={queue['id']}").json["items"]
    assert [t["id"] for t in unassigned] == [ticket["id"]]


def test_changing_a_queue_is_version_checked(acme):
    queue = make_queue(acme, "manual", "member")
    changed = acme.as_("owner").patch(f"/queues/{queue['id']}", {"version": 1, "routing": "round_robin",
                                                                 "members": [acme.users["admin"]]})
    assert changed.status == 200 and changed.json["routing"] == "round_robin" and changed.json["version"] == 2
    assert acme.as_("owner").patch(f"/queues/{queue['id']}", {"version": 1, "name": "late"}).status == 409
    assert acme.as_("owner").patch(f"/queues/{queue['id']}", {"version": 2, "routing": "x"}).status == 422


def _held_back(deliver, monkeypatch):
    """The queue-load events of what the test does next, left undelivered to that consumer."""
    from chalicelib.core.consumers import CONSUMERS

    counting = CONSUMERS["queues_count_open"]
    monkeypatch.delitem(CONSUMERS, "queues_count_open")

    def release():
        events = [delivered.event for delivered in deliver() if counting.takes(delivered.event)]
        monkeypatch.setitem(CONSUMERS, "queues_count_open", counting)
        return counting, events

    return release


def test_loads_are_exact_whatever_order_the_events_arrive_in(acme, customer_id, deliver, monkeypatch):
    from chalicelib.core.consumers import deliver as deliver_one

    release = _held_back(deliver, monkeypatch)
    queue = make_queue(acme, "round_robin", "member", "admin")
    ticket = ticket_in(acme, customer_id, queue)
    assert ticket["assignee_id"] == acme.users["member"]
    acme.as_("owner").patch(f"/tickets/{ticket['id']}", {"version": 1, "assignee_id": acme.users["admin"]})
    counting, events = release()
    assert [event.type for event in events] == ["Ticket.Created", "Ticket.Updated"]
    assert [deliver_one(counting, event) for event in reversed(events)] == ["applied", "applied"]
    assert [deliver_one(counting, event) for event in events] == ["duplicate", "duplicate"]
    counts = acme.as_("owner").get(f"/queues/{queue['id']}").json["open_counts"]
    assert counts == {acme.users["member"]: 0, acme.users["admin"]: 1}


def test_a_delivery_killed_after_its_count_counts_once_when_run_again(acme, customer_id, deliver, monkeypatch):
    """The count and the consumer's marker commit together: a process killed after the count
    leaves the marker done, so the retry that follows the lease finds nothing to do."""
    from chalicelib.core import consumers

    release = _held_back(deliver, monkeypatch)
    queue = make_queue(acme, "round_robin", "member")
    ticket_in(acme, customer_id, queue)
    counting, [created] = release()
    with monkeypatch.context() as killed:
        killed.setattr(consumers, "_done", lambda name, event: (_ for _ in ()).throw(SystemExit("killed")))
        with pytest.raises(SystemExit):
            consumers.deliver(counting, created)
    monkeypatch.setattr(consumers, "LEASE_SECONDS", -1)  # any claim left behind is stale at once
    assert consumers.deliver(counting, created) == "duplicate"
    assert acme.as_("owner").get(f"/queues/{queue['id']}").json["open_counts"] == {acme.users["member"]: 1}
