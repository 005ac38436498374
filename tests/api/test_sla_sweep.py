"""The SLA sweep (EventBridge schedule, events/sla-sweep.json): it marks each warning and breach
exactly once — under replays and concurrent runs — escalates, leaves a system entry, publishes
after commit, and reads only what is due.

Its tickets are created in January 2001 (the sample event's time is 2001-01-08T10:05Z, a
Monday), earlier than any other test's tickets, so the cross-tenant sweep touches only them."""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chalicelib.core.scope import tenant_scope
from chalicelib.sla import jobs
from chalicelib.sla import service as sla

from bluehill_dev import fidelity as aws_fidelity

EVENT = json.loads((Path(__file__).parents[2] / "events" / "sla-sweep.json").read_text())
MONDAY_0900 = datetime(2001, 1, 8, 9, 0, tzinfo=UTC)


def event_at(moment: datetime) -> dict:
    event = copy.deepcopy(EVENT)
    event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


class Published:
    """The events the sweep committed (its outbox), as the relay delivers them."""

    def __init__(self, deliver) -> None:
        self.deliver, self.seen = deliver, []

    def __iter__(self):
        self.seen += [delivered.event for delivered in self.deliver()]
        return iter(self.seen)


@pytest.fixture
def published(deliver):
    return Published(deliver)


@pytest.fixture
def desk(fresh_tenant, monkeypatch):
    """A tenant on the default policy (Mon-Fri 09:00-17:00 UTC), its clock at Monday 09:00 2001."""
    monkeypatch.setattr(sla, "now", lambda: MONDAY_0900)
    fresh_tenant.customer_id = fresh_tenant.as_("owner").post("/customers", {"name": "Initech"}).json["id"]
    return fresh_tenant


def urgent_ticket(world) -> dict:
    # Default urgent targets: first response 30 min (warn 15 before), resolution 120 (warn 60 before).
    body = {"subject": "Down", "description": "Everything is down", "customer_id": world.customer_id,
            "priority": "urgent", "assignee_id": world.users["member"]}
    response = world.as_("owner").post("/tickets", body)
    assert response.status == 201, response.body
    return response.json


def sweep(moment: datetime | None = None) -> dict:
    # A scheduled sweep runs minutes after the writes it finds: by then the due index has
    # caught up (the fidelity layer's GSI lag would otherwise hide what the test just wrote).
    aws_fidelity.settle()
    return jobs.sla_sweep(event_at(moment) if moment else EVENT, None)


def kinds(events, *tickets: dict) -> list[tuple[str, str]]:
    """The (event, target) pairs published for these tickets (the sweep crosses tenants: other
    tests' tickets may fall due in the same run)."""
    ids = {t["id"] for t in tickets}
    return sorted((e.type, e.data["target"]) for e in events
                  if e.type.startswith("Ticket.SLA") and e.data["ticket_id"] in ids)


def test_the_sample_event_marks_a_breach_and_a_warning_once_under_five_replays(desk, published):
    ticket = urgent_ticket(desk)
    first = sweep()
    assert first["tickets_marked"] >= 1
    assert kinds(published, ticket) == [("Ticket.SLABreached", "first_response"), ("Ticket.SLAWarning", "resolution")]
    for _ in range(5):
        sweep()
    assert len(kinds(published, ticket)) == 2
    after = desk.as_("owner").get(f"/tickets/{ticket['id']}").json
    assert after["sla_state"] == "breached" and after["escalation_level"] == 2
    assert after["sla"]["first_response"]["state"] == "breached"
    assert after["sla"]["resolution"]["state"] == "warning"


def test_a_warning_comes_first_and_the_breach_later_each_once(desk, published):
    ticket = urgent_ticket(desk)
    sweep(MONDAY_0900 + timedelta(minutes=10))
    assert kinds(published, ticket) == []
    sweep(MONDAY_0900 + timedelta(minutes=16))
    assert kinds(published, ticket) == [("Ticket.SLAWarning", "first_response")]
    sweep(MONDAY_0900 + timedelta(minutes=31))
    sweep(MONDAY_0900 + timedelta(minutes=31))
    assert kinds(published, ticket) == [("Ticket.SLABreached", "first_response"),
                                        ("Ticket.SLAWarning", "first_response")]
    entries = desk.as_("owner").get(f"/tickets/{ticket['id']}/messages").json["items"]
    system = [m for m in entries if m["author_type"] == "system"]
    assert [m["visibility"] for m in system] == ["internal", "internal"]
    assert "breached" in system[-1]["body"]
    assert desk.as_("portal").get(f"/tickets/{ticket['id']}/messages").status == 404


def test_two_concurrent_sweeps_never_double_mark_or_double_notify(desk, published, monkeypatch):
    """Both sweeps read the same due tickets before either writes. moto does not serialize
    concurrent transactions the way DynamoDB does, so the writes take turns under a lock; the
    loser's condition (the version it read) must then turn its write into a no-op."""
    from chalicelib.tickets import service as tickets_service

    tickets = [urgent_ticket(desk) for _ in range(6)]
    both_read, one_writer, seen = threading.Barrier(2), threading.Lock(), threading.local()
    apply_due = tickets_service.apply_due

    def apply_after_both_have_read(ticket, now):
        if not getattr(seen, "first", False):
            seen.first = True
            both_read.wait(timeout=30)
        with one_writer:
            return apply_due(ticket, now)

    monkeypatch.setattr(tickets_service, "apply_due", apply_after_both_have_read)
    reports: list[dict] = []
    threads = [threading.Thread(target=lambda: reports.append(sweep())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 2 and sum(r["tickets_read"] for r in reports) > len(tickets)
    assert len(kinds(published, *tickets)) == 2 * len(tickets)
    per_ticket = {t["id"]: kinds(published, t) for t in tickets}
    assert set(map(tuple, per_ticket.values())) == {
        (("Ticket.SLABreached", "first_response"), ("Ticket.SLAWarning", "resolution"))}
    for ticket in tickets:
        assert desk.as_("owner").get(f"/tickets/{ticket['id']}").json["escalation_level"] == 2


def test_a_paused_or_answered_clock_is_not_swept(desk, published, monkeypatch):
    waiting = urgent_ticket(desk)
    answered = urgent_ticket(desk)
    api = desk.as_("owner")
    api.patch(f"/tickets/{waiting['id']}", {"version": waiting["version"], "status": "waiting_on_customer"})
    api.post(f"/tickets/{answered['id']}/messages", {"body": "Looking now"})
    sweep(MONDAY_0900 + timedelta(minutes=45))
    assert kinds(published, waiting, answered) == []
    assert api.get(f"/tickets/{waiting['id']}").json["sla_state"] == "paused"


def test_the_sweep_reads_only_what_is_due(desk, published):
    # 08:59 is before every other test's 2001 tickets could fall due: this run sees only these.
    early = MONDAY_0900 - timedelta(minutes=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sla, "now", lambda: early - timedelta(days=3))  # Friday 08:59
        due = [urgent_ticket(desk) for _ in range(3)]
    report = sweep(early)
    assert report["tickets_read"] == len(due) and report["tickets_marked"] == len(due)
    assert sweep(early)["tickets_read"] == 0


def test_a_breach_counts_once_in_the_weekly_rollup(desk, published, deliver):
    from chalicelib.tickets import service as tickets

    ticket = urgent_ticket(desk)
    for _ in range(3):
        sweep()
    desk.as_("member").post(f"/tickets/{ticket['id']}/messages", {"body": "Sorry"})
    deliver()
    with tenant_scope(desk.tenant_id):
        [row] = tickets.rollup(desk.tenant_id, "2001-W02")
    assert (row["first_response_missed"], row["first_response_met"]) == (1, 0)


def test_request_paths_cannot_read_the_system_due_index(desk):
    from chalicelib.core.tenant_guard import TenantIsolationViolation
    from chalicelib.tickets import service as tickets

    with tenant_scope(desk.tenant_id), pytest.raises(TenantIsolationViolation):
        list(tickets.due_in_shard(0, MONDAY_0900))
