"""A follow-up asked for while logging an interaction: the timeline publishes Interaction.Created
with the request; the follow-ups room's consumer creates it once, whatever the copies."""

from __future__ import annotations

from typing import Any

import pytest
from chalicelib.core.consumers import CONSUMERS, ProcessedMarker
from chalicelib.core.consumers import deliver as deliver_once
from chalicelib.core.scope import tenant_scope

from bluehill_dev import fidelity as aws_fidelity
from bluehill_dev.harness_env import event_bus

CONSUMER = "followups_from_interactions"


@pytest.fixture
def desk(fresh_tenant):
    fresh_tenant.customer_id = fresh_tenant.as_("owner").post("/customers", {"name": "Initech"}).json["id"]
    return fresh_tenant


def log_call(world, role="owner", **extra) -> dict[str, Any]:
    answer = world.as_(role).post(f"/customers/{world.customer_id}/interactions",
                                  {"type": "call", "summary": "Renewal call", **extra})
    assert answer.status == 201, answer.body
    return answer.json


def listed(world, role="owner", query="assignee_id=me") -> list[dict[str, Any]]:
    aws_fidelity.settle()
    answer = world.as_(role).get(f"/follow-ups?{query}")
    assert answer.status == 200, answer.body
    return answer.json["items"]


def test_logging_an_interaction_with_a_follow_up_creates_it_once(desk, deliver):
    call = log_call(desk, follow_up={"title": "Send the quote", "due_date": "2030-05-10"})
    delivered = deliver()
    [created] = [d for d in delivered if d.event.type == "Interaction.Created"]
    assert created.outcomes[CONSUMER] == "applied"
    [follow_up] = listed(desk)
    assert (follow_up["title"], follow_up["due_date"], follow_up["interaction_id"], follow_up["customer_id"],
            follow_up["created_by"], follow_up["id"]) == ("Send the quote", "2030-05-10", call["id"], desk.customer_id,
                                                          desk.users["owner"], created.event.id)
    assert any(d.event.type == "FollowUp.Created" and d.event.data["follow_up_id"] == follow_up["id"]
               for d in deliver() + delivered)
    bus = event_bus()
    for _ in range(5):
        assert bus.dispatch(created.event).outcomes[CONSUMER] == "duplicate"
    assert [f["id"] for f in listed(desk)] == [follow_up["id"]]


def test_the_follow_up_goes_to_the_assignee_named_in_their_timezone(desk, deliver):
    users = {u["id"]: u for u in desk.as_("owner").get("/users").json["items"]}
    member = users[desk.users["member"]]
    desk.as_("owner").patch(f"/users/{member['id']}", {"version": member["version"], "timezone": "Australia/Sydney"})
    log_call(desk, follow_up={"title": "Kickoff", "due_date": "2030-05-10", "assignee_id": member["id"]})
    deliver()
    assert listed(desk) == []
    [theirs] = listed(desk, "member")
    assert (theirs["assignee_id"], theirs["timezone"], theirs["due_at"]) == (member["id"], "Australia/Sydney",
                                                                             "2030-05-10T14:00:00Z")


def test_an_interaction_without_a_follow_up_creates_none(desk, deliver):
    log_call(desk)
    [created] = [d for d in deliver() if d.event.type == "Interaction.Created"]
    assert created.outcomes[CONSUMER] == "applied" and listed(desk) == []


def test_a_copy_delivered_after_its_marker_was_lost_creates_nothing_more(desk, deliver):
    log_call(desk, follow_up={"title": "Once", "due_date": "2030-05-10"})
    [created] = [d for d in deliver() if d.event.type == "Interaction.Created"]
    with tenant_scope(desk.tenant_id):
        ProcessedMarker(ProcessedMarker.pk(desk.tenant_id, created.event.id), ProcessedMarker.sk(CONSUMER)).delete()
    assert deliver_once(CONSUMERS[CONSUMER], created.event) == "applied"  # ran again: the follow-up's key refused it
    assert len(listed(desk)) == 1
