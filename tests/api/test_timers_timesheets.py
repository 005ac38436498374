"""Timers (one running per user, enforced on the server; stale past 12 hours; stop into an
entry; discard) and weekly timesheets (totals in the tenant's week; submit, approve, reject,
reopen with the self-approval setting; history and audit; a 200-entry week)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from time_helpers import customer, entry, put_settings, sheet_id

from bluehill_dev import fidelity


@pytest.fixture
def world(fresh_tenant):
    return fresh_tenant


def _age_timer(world, role, hours):
    """Move the user's running timer's start back by `hours` (the clock cannot be waited on)."""
    from chalicelib.core.scope import tenant_scope
    from chalicelib.timekeeping.models import Timer

    with tenant_scope(world.tenant_id):
        timer = Timer.get(Timer.pk(world.tenant_id, world.users[role]), Timer.SORT)
        started = datetime.now(UTC) - timedelta(hours=hours)
        timer.update([Timer.started_at.set(started.strftime("%Y-%m-%dT%H:%M:%SZ"))])


def test_starting_a_timer_stops_the_running_one_in_the_same_answer(world):
    cust = customer(world)
    api = world.as_("member")
    assert api.get("/timers/current").json is None
    first = api.post("/timers", {"customer_id": cust, "notes": "call"})
    assert first.status == 201 and first.json["stopped"] is None
    second = api.post("/timers", {"customer_id": cust})
    assert second.status == 201
    stopped = second.json["stopped"]
    assert stopped["timer"]["id"] == first.json["timer"]["id"]
    assert stopped["entry"]["minutes"] == 1 and stopped["entry"]["notes"] == "call"
    current = api.get("/timers/current").json
    assert current["id"] == second.json["timer"]["id"] and current["stale"] is False
    assert [e["id"] for e in api.get("/time-entries").json["items"]] == [stopped["entry"]["id"]]


def test_stop_turns_the_timer_into_an_entry_and_discard_leaves_none(world):
    cust = customer(world)
    api = world.as_("member")
    timer = api.post("/timers", {"customer_id": cust}).json["timer"]
    assert api.post(f"/timers/{timer['id']}/stop", {"minutes": 0}).status == 422
    made = api.post(f"/timers/{timer['id']}/stop", {"category": "qbr"})
    assert made.status == 200 and made.json["category"] == "qbr" and made.json["started_at"] == timer["started_at"]
    assert api.get("/timers/current").json is None
    assert api.post(f"/timers/{timer['id']}/stop", {}).status == 404
    other = api.post("/timers", {"customer_id": cust}).json["timer"]
    assert api.delete(f"/timers/{other['id']}").status == 204
    assert api.get("/timers/current").json is None
    assert len(api.get("/time-entries").json["items"]) == 1


def test_a_timer_past_12_hours_is_stale_and_never_billed_silently(world):
    cust = customer(world)
    api = world.as_("member")
    timer = api.post("/timers", {"customer_id": cust}).json["timer"]
    _age_timer(world, "member", 13)
    assert api.get("/timers/current").json["stale"] is True
    refused = api.post(f"/timers/{timer['id']}/stop", {})
    assert refused.status == 409 and "12 hours" in refused.json["detail"]
    assert api.post("/timers", {"customer_id": cust}).status == 409  # starting another would bill it
    made = api.post(f"/timers/{timer['id']}/stop", {"minutes": 120}).json
    assert made["minutes"] == 120


def test_someone_elses_timer_cannot_be_stopped_or_discarded(world):
    cust = customer(world)
    timer = world.as_("member").post("/timers", {"customer_id": cust}).json["timer"]
    assert world.as_("admin").post(f"/timers/{timer['id']}/stop", {}).status == 404
    assert world.as_("admin").delete(f"/timers/{timer['id']}").status == 404
    assert world.as_("readonly").post("/timers", {"customer_id": cust}).status == 403
    assert world.as_("portal").get("/timers/current").status == 403


def test_a_timer_cannot_be_stopped_into_a_locked_week(world):
    cust = customer(world)
    api = world.as_("member")
    timer = api.post("/timers", {"customer_id": cust}).json["timer"]
    week = timer["started_at"][:10]
    from datetime import date

    from chalicelib.timekeeping.rules import week_of
    sheet = f"{world.users['member']}--{week_of(date.fromisoformat(week))}"
    assert api.post(f"/timesheets/{sheet}/submit", {}).status == 200
    refused = api.post(f"/timers/{timer['id']}/stop", {})
    assert refused.status == 409 and refused.json["locked_by"] == "timesheet"
    assert api.get("/timers/current").json["id"] == timer["id"]  # nothing changed


def test_a_week_shows_totals_per_day_customer_project_and_category(world):
    cust, other = customer(world), customer(world, "Other")
    put_settings(world, customers={other: False})
    entry(world, "member", cust, day="2026-06-01", minutes=60, category="qbr")
    entry(world, "member", cust, day="2026-06-03", minutes=30)
    entry(world, "member", other, day="2026-06-07", minutes=45)
    entry(world, "member", cust, day="2026-06-08", minutes=999)  # next week
    answer = world.as_("member").get("/timesheets?week=2026-W23")
    assert answer.status == 200, answer.body
    sheet = answer.json["items"][0]
    assert (sheet["id"], sheet["status"], sheet["starts_on"], sheet["ends_on"]) == (
        sheet_id(world, "member", "2026-W23"), "open", "2026-06-01", "2026-06-07")
    totals = sheet["totals"]
    assert (totals["minutes"], totals["billable_minutes"], totals["internal_minutes"]) == (135, 90, 45)
    assert [d["minutes"] for d in totals["by_day"]] == [60, 0, 30, 0, 0, 0, 45]
    assert {c["id"]: c["minutes"] for c in totals["by_customer"]} == {cust: 90, other: 45}
    assert {c["id"]: c["minutes"] for c in totals["by_category"]} == {"qbr": 60, "internal": 75}
    assert world.as_("member").get("/timesheets?week=2026-W99").status == 422
    assert world.as_("member").get("/timesheets").status == 422


def test_the_tenants_week_start_and_timezone_decide_the_week(world):
    owner = world.as_("owner")
    owner.patch("/tenant", {"version": owner.get("/tenant").json["version"], "timezone": "America/Los_Angeles",
                            "week_start": "sunday"})
    cust = customer(world)
    # 23:30 on Sunday 7 June in Los Angeles (UTC-7 in summer) is 06:30Z on Monday 8 June
    late = world.as_("member").post("/time-entries", {"customer_id": cust, "started_at": "2026-06-08T06:30:00Z",
                                                      "ended_at": "2026-06-08T06:59:00Z"}).json
    assert late["date"] == "2026-06-07"
    sheet = world.as_("member").get("/timesheets?week=2026-W24").json["items"][0]
    assert (sheet["starts_on"], sheet["ends_on"]) == ("2026-06-07", "2026-06-13")
    assert late["timesheet_id"] == sheet["id"] and sheet["totals"]["minutes"] == 29


def test_the_review_moves_through_each_legal_transition_and_refuses_the_rest(world, deliver):
    cust = customer(world)
    made = entry(world, "member", cust)
    sheet = made["timesheet_id"]
    member, owner = world.as_("member"), world.as_("owner")
    assert owner.post(f"/timesheets/{sheet}/approve", {}).status == 409  # open: nothing to approve
    assert owner.post(f"/timesheets/{sheet}/reopen", {"reason": "x"}).status == 409
    assert member.post(f"/timesheets/{sheet}/submit", {}).json["status"] == "submitted"
    assert member.post(f"/timesheets/{sheet}/submit", {}).status == 409
    assert owner.post(f"/timesheets/{sheet}/reject", {}).status == 422  # a reason is required
    rejected = owner.post(f"/timesheets/{sheet}/reject", {"reason": "Friday is missing"}).json
    assert (rejected["status"], rejected["reason"]) == ("rejected", "Friday is missing")
    assert member.get(f"/time-entries/{made['id']}").json["status"] == "open"
    assert member.patch(f"/time-entries/{made['id']}", {"version": 1, "minutes": 90}).status == 200
    member.post(f"/timesheets/{sheet}/submit", {})
    assert member.post(f"/timesheets/{sheet}/approve", {}).status == 403  # self_approval is off
    approved = owner.post(f"/timesheets/{sheet}/approve", {}).json
    assert approved["status"] == "approved" and approved["entry_statuses"] == {"approved": 1}
    assert member.post(f"/timesheets/{sheet}/reopen", {"reason": "x"}).status == 403
    deliver()
    reopened = owner.post(f"/timesheets/{sheet}/reopen", {"reason": "wrong customer"}).json
    assert reopened["status"] == "open"
    deliver()
    assert member.get(f"/time-entries/{made['id']}").json["status"] == "open"
    history = member.get(f"/timesheets/{sheet}").json["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        ("open", "submitted"), ("submitted", "rejected"), ("rejected", "submitted"), ("submitted", "approved"),
        ("approved", "open")]
    assert history[-1]["reason"] == "wrong customer" and history[-1]["actor_id"] == world.users["owner"]
    audit = owner.get(f"/audit?entity_id={sheet}").json["items"]
    assert {a["action"] for a in audit} == {"submit", "reject", "approve", "reopen"}


def test_self_approval_lets_a_user_approve_their_own_week_only(world):
    cust = customer(world)
    put_settings(world, self_approval=True)
    made = entry(world, "member", cust)
    member = world.as_("member")
    member.post(f"/timesheets/{made['timesheet_id']}/submit", {})
    assert member.post(f"/timesheets/{made['timesheet_id']}/approve", {}).json["status"] == "approved"
    theirs = entry(world, "admin", cust)
    world.as_("admin").post(f"/timesheets/{theirs['timesheet_id']}/submit", {})
    assert member.post(f"/timesheets/{theirs['timesheet_id']}/approve", {}).status == 404


def test_the_approvers_queue_lists_submitted_weeks(world):
    cust = customer(world)
    for role in ("member", "admin"):
        made = entry(world, role, cust)
        world.as_(role).post(f"/timesheets/{made['timesheet_id']}/submit", {})
    queue = world.as_("owner").get("/timesheets?status=submitted").json["items"]
    assert {s["user_id"] for s in queue} == {world.users["member"], world.users["admin"]}
    assert {s["user_id"] for s in world.as_("member").get("/timesheets?status=submitted").json["items"]} == {
        world.users["member"]}


def test_another_tenant_never_reaches_a_timesheet(world, globex):
    made = entry(world, "member", customer(world))
    sheet = made["timesheet_id"]
    assert globex.as_("owner").get(f"/timesheets/{sheet}").status == 404
    assert globex.as_("owner").get(f"/timesheets?user_id={world.users['member']}&week=2026-W23").status == 404
    assert globex.as_("owner").post(f"/timesheets/{sheet}/submit", {}).status == 404
    assert world.as_("member").get(f"/timesheets/{sheet}").json["status"] == "open"


def test_a_week_of_200_entries_is_approved_and_locked_with_no_reader_seeing_it_half_done(world, deliver):
    from chalicelib.core.auth import Principal
    from chalicelib.core.scope import tenant_scope
    from chalicelib.core.table import Transaction
    from chalicelib.timekeeping import timesheets as service
    from chalicelib.timekeeping.entries import build_entry, stage_create
    from chalicelib.timekeeping.settings import context
    from chalicelib.timekeeping.targets import Target

    cust = customer(world)
    principal = Principal(tenant_id=world.tenant_id, user_id=world.users["member"], role="member",
                          email=world.emails["member"])
    with tenant_scope(world.tenant_id):
        ctx = context(world.tenant_id)
        for batch in range(4):
            tx = Transaction()
            for n in range(50):
                day = f"2026-06-0{1 + (batch * 50 + n) % 7}"
                stage_create(tx, principal, build_entry(principal, principal.user_id, Target(cust), ctx,
                                                        {"date": day, "minutes": 5}))
            tx.commit()
    fidelity.settle()
    sheet = sheet_id(world, "member", "2026-W23")
    world.as_("member").post(f"/timesheets/{sheet}/submit", {})
    approved = world.as_("owner").post(f"/timesheets/{sheet}/approve", {})
    assert approved.status == 200, approved.body
    assert approved.json["entry_count"] == 200 and approved.json["entry_statuses"] == {"approved": 200}
    # before the entries' own status follows, every reader already sees them approved
    seen = world.as_("member").get("/time-entries?limit=200").json["items"]
    assert len(seen) == 200 and {e["status"] for e in seen} == {"approved"}
    deliver()
    fidelity.settle()
    with tenant_scope(world.tenant_id):
        stored = service.week_entries(world.tenant_id, principal.user_id, *_bounds())
        assert len(stored) == 200 and {e.status for e in stored} == {"approved"}
    assert world.as_("member").post("/time-entries", {"customer_id": cust, "date": "2026-06-02",
                                                      "minutes": 5}).json["locked_by"] == "timesheet"


def _bounds():
    from datetime import date
    return date(2026, 6, 1), date(2026, 6, 7)


def test_the_sample_approval_event_locks_the_weeks_entries_through_the_consumers_lambda(world, http):
    from templating import sample_event

    made = entry(world, "member", customer(world))
    sheet = made["timesheet_id"]
    world.as_("member").post(f"/timesheets/{sheet}/submit", {})
    world.as_("owner").post(f"/timesheets/{sheet}/approve", {})
    fidelity.settle()
    event = sample_event("timesheet-approved.json", tenant_id=world.tenant_id, timesheet_id=sheet,
                         user_id=world.users["member"], entry_ids=[made["id"]])
    http.lambda_.invoke("time_follow_timesheet", event)
    from chalicelib.core.scope import tenant_scope
    from chalicelib.timekeeping.models import TimeEntry

    with tenant_scope(world.tenant_id):
        stored = TimeEntry.get(TimeEntry.pk(world.tenant_id, made["id"]), TimeEntry.SORT)
    assert (stored.status, stored.GSI5PK is not None) == ("approved", True)
