"""The SLA policy route and the clocks on real tickets: the examples a support lead checks by
hand, pausing, policy changes that never rewrite history, and the explanation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.sla import service as sla

NINE_TO_FIVE = [{"start": "09:00", "end": "17:00"}]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def policy(**overrides):
    cell = {"first_response_minutes": 60, "resolution_minutes": 240}
    body = {
        "calendar": {"mode": "business_hours", "timezone": "UTC", "hours": {d: NINE_TO_FIVE for d in WEEKDAYS},
                     "holidays": []},
        "targets": {"default": {p: cell for p in ("low", "normal", "high", "urgent")}},
        "first_response": {"business_hours": True, "pause_on": ["waiting_on_customer"], "warn_before_minutes": 15},
        "resolution": {"business_hours": True, "pause_on": ["waiting_on_customer"], "warn_before_minutes": 30},
        "escalation_terms": ["furious"],
    }
    return {**body, **overrides}


class Clock:
    def __init__(self, monkeypatch):
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        monkeypatch.setattr(sla, "now", lambda: self.now)

    def set(self, day, hour, minute=0):
        self.now = datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def desk(fresh_tenant):
    """A tenant on a Mon-Fri 09:00-17:00 UTC policy with one customer."""
    api = fresh_tenant.as_("owner")
    assert api.put("/sla/policy", policy()).status == 200
    fresh_tenant.customer_id = api.post("/customers", {"name": "Initech"}).json["id"]
    return fresh_tenant


def open_ticket(world, **fields):
    body = {"subject": "Broken", "description": "It broke", "customer_id": world.customer_id,
            "assignee_id": world.users["member"], **fields}
    response = world.as_("owner").post("/tickets", body)
    assert response.status == 201, response.body
    return response.json


def move(world, ticket, **changes):
    current = world.as_("owner").get(f"/tickets/{ticket['id']}").json
    response = world.as_("owner").patch(f"/tickets/{ticket['id']}", {"version": current["version"], **changes})
    assert response.status == 200, response.body
    return response.json


# ---------- the policy route ----------


def test_a_new_tenant_runs_on_the_default_policy(fresh_tenant):
    body = fresh_tenant.as_("member").get("/sla/policy").json
    assert body["version"] == 0
    assert body["targets"]["default"]["urgent"] == {"first_response_minutes": 30, "resolution_minutes": 120}
    assert body["targets"]["enterprise"]["low"] == {"first_response_minutes": 720, "resolution_minutes": 2160}
    assert body["calendar"]["hours"]["monday"] == NINE_TO_FIVE and "saturday" not in body["calendar"]["hours"]
    assert body["first_response"]["pause_on"] == ["waiting_on_customer"]
    assert body["escalation_terms"] == ["furious", "cancel", "lawyer"]


def test_owner_and_admin_replace_the_policy_and_others_may_not(fresh_tenant, globex):
    others = globex.as_("owner").get("/sla/policy").json
    split = policy(calendar={"mode": "business_hours", "timezone": "Europe/Berlin",
                             "hours": {"monday": [{"start": "13:00", "end": "18:00"},
                                                  {"start": "09:00", "end": "12:00"}]},
                             "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}]})
    saved = fresh_tenant.as_("admin").put("/sla/policy", split)
    assert saved.status == 200, saved.body
    assert saved.json["version"] == 1
    assert saved.json["calendar"]["hours"]["monday"][0]["start"] == "13:00"
    assert fresh_tenant.as_("member").put("/sla/policy", policy()).status == 403
    assert fresh_tenant.as_("portal").get("/sla/policy").status == 403
    assert globex.as_("owner").get("/sla/policy").json == others
    stale = fresh_tenant.as_("owner").put("/sla/policy", {**policy(), "version": 0})
    assert stale.status == 409


def test_the_policy_is_validated(fresh_tenant):
    api = fresh_tenant.as_("owner")
    overlapping = policy(calendar={"timezone": "UTC", "hours": {"monday": [{"start": "09:00", "end": "12:00"},
                                                                           {"start": "11:00", "end": "13:00"}]}})
    assert api.put("/sla/policy", overlapping).status == 422
    assert api.put("/sla/policy", policy(calendar={"timezone": "Mars/Olympus", "hours": {}})).status == 422
    assert api.put("/sla/policy", policy(calendar={"timezone": "UTC", "hours": {}})).status == 422
    missing_default = api.put("/sla/policy", policy(targets={"enterprise": {}}))
    assert missing_default.status == 422 and missing_default.json["errors"][0]["field"] == "targets"
    assert api.put("/sla/policy", policy(first_response={"pause_on": ["resolved"]})).status == 422


ONE_MINUTE_A_WEEK = {"mode": "business_hours", "timezone": "UTC", "hours": {"monday": [{"start": "09:00",
                                                                                        "end": "09:01"}]}}
LONGEST = {"first_response_minutes": 60, "resolution_minutes": 366 * 24 * 60}


def test_a_policy_whose_targets_never_fall_due_is_refused_naming_the_target(fresh_tenant):
    api = fresh_tenant.as_("owner")
    never = policy(calendar=ONE_MINUTE_A_WEEK, targets={"default": {p: LONGEST for p in ("low", "normal", "high",
                                                                                          "urgent")}})
    refused = api.put("/sla/policy", never)
    assert refused.status == 422, refused.body
    assert refused.json["errors"][0]["field"] == "targets.default.low.resolution_minutes"
    assert api.get("/sla/policy").json["version"] == 0
    customer = api.post("/customers", {"name": "Initech"}).json["id"]
    assert api.post("/tickets", {"subject": "s", "description": "d", "customer_id": customer}).status == 201
    # The same targets on a round-the-clock resolution clock are reachable.
    assert api.put("/sla/policy", {**never, "resolution": {"business_hours": False}}).status == 200


def test_holidays_that_close_every_working_day_refuse_the_policy_naming_the_calendar(fresh_tenant):
    from datetime import date, timedelta

    start = sla.now().date()
    mondays = [start + timedelta(days=d) for d in range(-7, 2 * 366) if (start + timedelta(days=d)).weekday() == 0]
    closed = {**ONE_MINUTE_A_WEEK, "holidays": [{"date": day.isoformat()} for day in mondays]}
    refused = fresh_tenant.as_("owner").put("/sla/policy", policy(calendar=closed))
    assert refused.status == 422 and refused.json["errors"][0]["field"] == "calendar.hours"
    assert date.fromisoformat(closed["holidays"][-1]["date"]) > start


def test_a_stored_policy_that_never_falls_due_still_lets_tickets_be_created(fresh_tenant, monkeypatch):
    """A policy saved before the check (or closed since by the tenant's holidays): ticket
    creation, portal included, succeeds and the target runs without a due time."""
    from chalicelib.sla import feasibility

    api = fresh_tenant.as_("owner")
    never = policy(calendar=ONE_MINUTE_A_WEEK, targets={"default": {p: LONGEST for p in ("low", "normal", "high",
                                                                                          "urgent")}})
    with monkeypatch.context() as patched:
        patched.setattr(feasibility, "require_reachable_targets", lambda *_: None)
        assert api.put("/sla/policy", never).status == 200
    customer = api.post("/customers", {"name": "Initech"}).json["id"]
    team = api.post("/tickets", {"subject": "s", "description": "d", "customer_id": customer})
    assert team.status == 201, team.body
    assert team.json["sla"]["resolution"]["due_at"] is None and team.json["sla"]["first_response"]["due_at"]
    portal = fresh_tenant.as_("portal").post("/tickets", {"subject": "s", "description": "d"})
    assert portal.status == 201, portal.body
    explained = api.get(f"/tickets/{team.json['id']}/sla").json["targets"]["resolution"]
    assert "no working time" in explained["derivation"]


def test_the_tenant_holidays_close_the_sla_calendar_too(desk, clock):
    holidays = desk.as_("owner").put("/tenant/holidays", {"version": 0, "holidays": [{"date": "2026-11-23"}]})
    assert holidays.status == 200, holidays.body
    clock.set(20, 16, 30)
    ticket = open_ticket(desk)
    assert ticket["sla"]["first_response"]["due_at"] == "2026-11-24T09:30:00Z"


# ---------- what a support lead checks by hand ----------


def test_created_friday_1630_with_a_one_business_hour_target_is_due_monday_0930(desk, clock):
    clock.set(20, 16, 30)
    ticket = open_ticket(desk)
    assert ticket["sla"]["first_response"]["due_at"] == "2026-11-23T09:30:00Z"
    assert ticket["sla"]["first_response"]["warn_at"] == "2026-11-23T09:15:00Z"


def test_three_hours_waiting_on_customer_do_not_count(desk, clock):
    ticket = open_ticket(desk)  # Monday 09:00, resolution 240 business minutes → 13:00
    assert ticket["sla"]["resolution"]["due_at"] == "2026-11-23T13:00:00Z"
    clock.set(23, 10)
    waiting = move(desk, ticket, status="waiting_on_customer")
    assert waiting["sla"]["resolution"]["paused"] and waiting["sla"]["resolution"]["due_at"] is None
    assert waiting["sla_state"] == "paused"
    clock.set(23, 13)
    resumed = move(desk, ticket, status="in_progress")
    assert resumed["sla"]["resolution"]["due_at"] == "2026-11-23T16:00:00Z"
    assert resumed["sla"]["resolution"]["remaining_minutes"] == 180


def test_pending_keeps_the_clock_running(desk, clock):
    ticket = open_ticket(desk)
    clock.set(23, 10)
    move(desk, ticket, status="pending")
    clock.set(23, 13)
    resumed = move(desk, ticket, status="in_progress")
    assert resumed["sla"]["resolution"]["due_at"] == "2026-11-23T13:00:00Z"
    assert resumed["sla"]["resolution"]["remaining_minutes"] == 0


def test_the_explanation_lists_running_paused_and_closed_intervals(desk, clock):
    clock.set(20, 16, 30)
    ticket = open_ticket(desk)
    clock.set(23, 9, 10)
    move(desk, ticket, status="waiting_on_customer")
    clock.set(23, 9, 40)
    move(desk, ticket, status="in_progress")
    explained = desk.as_("member").get(f"/tickets/{ticket['id']}/sla")
    assert explained.status == 200, explained.body
    first = explained.json["targets"]["first_response"]
    kinds = [(i["kind"], i["minutes"]) for i in first["intervals"]]
    assert kinds == [("running", 30.0), ("closed", 3840.0), ("running", 10.0), ("paused", 30.0), ("running", 20.0)]
    assert first["due_at"] == "2026-11-23T10:00:00Z"
    assert "30.0 paused" in first["derivation"] and "due 2026-11-23T10:00:00Z" in first["derivation"]
    assert desk.as_("readonly").get(f"/tickets/{ticket['id']}/sla").status == 200


def test_the_explanation_route_is_tenant_scoped(desk, globex):
    ticket = open_ticket(desk)
    assert globex.as_("owner").get(f"/tickets/{ticket['id']}/sla").status == 404


def test_enterprise_customers_get_half_the_default_targets(fresh_tenant):
    api = fresh_tenant.as_("owner")
    big = api.post("/customers", {"name": "Globodyne", "tier": "enterprise"}).json["id"]
    ticket = api.post("/tickets", {"subject": "s", "description": "d", "customer_id": big, "priority": "urgent"}).json
    assert ticket["sla"]["first_response"]["target_minutes"] == 15
    assert ticket["sla"]["resolution"]["target_minutes"] == 60


def test_a_24x7_target_counts_nights_and_weekends(desk, clock):
    desk.as_("owner").put("/sla/policy", policy(resolution={"business_hours": False, "pause_on": [],
                                                            "warn_before_minutes": 0}))
    clock.set(20, 16, 30)
    ticket = open_ticket(desk)
    assert ticket["sla"]["resolution"]["due_at"] == "2026-11-20T20:30:00Z"
    assert ticket["sla"]["resolution"]["warn_at"] is None


# ---------- policy changes never rewrite history ----------


def test_a_policy_change_applies_from_the_tickets_next_update(desk, clock):
    ticket = open_ticket(desk)  # Monday 09:00, first response due 10:00
    clock.set(23, 9, 30)
    longer = policy(targets={"default": {p: {"first_response_minutes": 120, "resolution_minutes": 240}
                                         for p in ("low", "normal", "high", "urgent")}})
    assert desk.as_("owner").put("/sla/policy", longer).status == 200
    unchanged = desk.as_("owner").get(f"/tickets/{ticket['id']}").json
    assert unchanged["sla"]["first_response"]["due_at"] == "2026-11-23T10:00:00Z"
    updated = move(desk, ticket, tags=["vip"])
    assert updated["sla"]["first_response"]["due_at"] == "2026-11-23T11:00:00Z"
    explained = desk.as_("owner").get(f"/tickets/{ticket['id']}/sla").json["targets"]["first_response"]
    assert explained["banked_minutes"] == 30.0 and explained["segment_start"] == "2026-11-23T09:30:00Z"


def test_a_met_target_stays_met_when_the_policy_changes(desk, clock):
    ticket = open_ticket(desk)
    clock.set(23, 9, 50)
    desk.as_("member").post(f"/tickets/{ticket['id']}/messages", {"body": "On it"})
    shorter = policy(targets={"default": {p: {"first_response_minutes": 5, "resolution_minutes": 240}
                                          for p in ("low", "normal", "high", "urgent")}})
    desk.as_("owner").put("/sla/policy", shorter)
    clock.set(23, 10, 30)
    after = move(desk, ticket, priority="high")
    assert after["sla"]["first_response"]["state"] == "met"
    assert after["sla"]["first_response"]["target_minutes"] == 60


def test_a_late_first_reply_is_missed(desk, clock):
    ticket = open_ticket(desk)
    clock.set(23, 10, 1)
    desk.as_("member").post(f"/tickets/{ticket['id']}/messages", {"body": "Sorry for the wait"})
    after = desk.as_("owner").get(f"/tickets/{ticket['id']}").json
    assert after["sla"]["first_response"]["state"] == "breached" and after["sla_state"] == "breached"


def test_outcomes_land_in_the_weekly_rollup(desk, clock, deliver):
    from chalicelib.core.scope import tenant_scope
    from chalicelib.tickets import service as tickets

    on_time = open_ticket(desk, priority="high")
    late = open_ticket(desk, priority="high")
    clock.set(23, 9, 30)
    desk.as_("member").post(f"/tickets/{on_time['id']}/messages", {"body": "hi"})
    move(desk, on_time, status="resolved")
    clock.set(23, 14)
    desk.as_("member").post(f"/tickets/{late['id']}/messages", {"body": "hi"})
    move(desk, late, status="resolved")
    move(desk, late, status="open")
    deliver()
    with tenant_scope(desk.tenant_id):
        [row] = tickets.rollup(desk.tenant_id, "2026-W48")
    assert row["priority"] == "high" and row["tier"] == "none"
    assert (row["created"], row["first_response_met"], row["first_response_missed"]) == (2, 1, 1)
    assert (row["resolution_met"], row["resolution_missed"], row["reopened"]) == (1, 1, 1)
