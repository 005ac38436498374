"""Follow-ups: create, read with history, buckets in the assignee's timezone, postpone, complete
(with the next ones), cancel, reach, and the report's counters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.followups import service

from bluehill_dev import fidelity as aws_fidelity


@pytest.fixture
def desk(fresh_tenant):
    api = fresh_tenant.as_("owner")
    fresh_tenant.customer_id = api.post("/customers", {"name": "Initech"}).json["id"]
    return fresh_tenant


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def clock(monkeypatch, instant: str) -> None:
    monkeypatch.setattr(service, "now", lambda: at(instant))


def created(response):
    assert response.status == 201, response.body
    return response.json


def new_follow_up(world, role="owner", **fields):
    body = {"customer_id": world.customer_id, "title": "Send the renewal quote",
            **({} if "due_at" in fields else {"due_date": "2030-05-10"}), **fields}
    return created(world.as_(role).post("/follow-ups", body))


def set_timezone(world, role, timezone):
    user = next(u for u in world.as_("owner").get("/users").json["items"] if u["id"] == world.users[role])
    answer = world.as_("owner").patch(f"/users/{user['id']}", {"version": user["version"], "timezone": timezone})
    assert answer.status == 200, answer.body
    assert answer.json["timezone"] == timezone


def set_tenant_timezone(world, timezone):
    tenant = world.as_("owner").get("/tenant").json
    answer = world.as_("owner").patch("/tenant", {"version": tenant["version"], "timezone": timezone})
    assert answer.status == 200, answer.body


def ids(response) -> list[str]:
    assert response.status == 200, response.body
    return [item["id"] for item in response.json["items"]]


# ---------- create and read ----------


def test_a_follow_up_is_assigned_to_its_creator_and_due_at_the_end_of_its_day_in_their_timezone(desk):
    set_timezone(desk, "owner", "America/Los_Angeles")
    follow_up = new_follow_up(desk)
    assert follow_up["assignee_id"] == desk.users["owner"] and follow_up["status"] == "open"
    assert follow_up["due_date"] == "2030-05-10" and follow_up["all_day"] is True
    assert follow_up["due_at"] == "2030-05-11T07:00:00Z"  # midnight after May 10 in Los Angeles (PDT)
    assert follow_up["timezone"] == "America/Los_Angeles" and follow_up["version"] == 1
    read = desk.as_("readonly").get(f"/follow-ups/{follow_up['id']}")
    assert read.status == 200, read.body
    assert [(h["action"], h["by"], h["to"]) for h in read.json["history"]] == [
        ("created", desk.users["owner"], "2030-05-11T07:00:00Z")]


def test_without_a_user_timezone_the_tenants_decides(desk):
    set_tenant_timezone(desk, "Australia/Brisbane")
    follow_up = new_follow_up(desk, due_at="2030-05-10T20:00:00Z")
    assert (follow_up["timezone"], follow_up["due_date"], follow_up["all_day"]) == ("Australia/Brisbane",
                                                                                    "2030-05-11", False)


@pytest.mark.parametrize(("fields", "field"), [
    ({"due_at": "2030-05-10T09:00:00Z"}, "body"),  # with the default due_date: both
    ({"due_date": None}, "body"),  # neither
    ({"title": ""}, "title"),
    ({"customer_id": "nobody"}, "customer_id"),
    ({"assignee_id": "nobody"}, "assignee_id"),
    ({"due_date": "2030-02-30"}, "due_date"),
])
def test_a_bad_follow_up_is_a_422_naming_the_field_and_writes_nothing(desk, fields, field):
    body = {"customer_id": desk.customer_id, "title": "T", "due_date": "2030-05-10", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    answer = desk.as_("owner").post("/follow-ups", body)
    assert answer.status == 422, answer.body
    assert field in {e["field"] for e in answer.json["errors"]}
    assert ids(desk.as_("owner").get("/follow-ups")) == []


def test_an_inactive_assignee_is_refused(desk):
    users = {u["id"]: u for u in desk.as_("owner").get("/users").json["items"]}
    member = users[desk.users["member"]]
    deactivated = desk.as_("owner").patch(f"/users/{member['id']}", {"version": member["version"], "active": False})
    assert deactivated.status == 200
    answer = desk.as_("owner").post("/follow-ups", {"customer_id": desk.customer_id, "title": "T",
                                                    "due_date": "2030-05-10", "assignee_id": member["id"]})
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "assignee_id"


def test_a_ticket_of_another_customer_is_refused(desk):
    api = desk.as_("owner")
    other = api.post("/customers", {"name": "Globodyne"}).json["id"]
    ticket = created(api.post("/tickets", {"subject": "S", "description": "D", "customer_id": other}))
    answer = api.post("/follow-ups", {"customer_id": desk.customer_id, "title": "T", "due_date": "2030-05-10",
                                      "ticket_id": ticket["id"]})
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "ticket_id"
    linked = new_follow_up(desk, customer_id=other, ticket_id=ticket["id"])
    assert linked["ticket_id"] == ticket["id"]


@pytest.mark.parametrize("role", ["portal", "readonly", "contractor"])
def test_roles_that_may_not_create_follow_ups_get_403(desk, role):
    answer = desk.as_(role).post("/follow-ups", {"customer_id": desk.customer_id, "title": "T",
                                                 "due_date": "2030-05-10"})
    assert answer.status == 403, answer.body


def test_another_tenant_sees_nothing(desk, globex):
    follow_up = new_follow_up(desk)
    assert globex.as_("owner").get(f"/follow-ups/{follow_up['id']}").status == 404
    for action, body in (("postpone", {"preset": "tomorrow", "reason": "r"}), ("complete", {"resolution": "r"}),
                         ("cancel", {"reason": "r"})):
        assert globex.as_("owner").post(f"/follow-ups/{follow_up['id']}/{action}", body).status == 404
    assert ids(globex.as_("owner").get(f"/follow-ups?assignee_id={desk.users['owner']}")) == []
    assert desk.as_("owner").get(f"/follow-ups/{follow_up['id']}").json["status"] == "open"


def test_the_same_idempotency_key_creates_one_follow_up(desk):
    api, key = desk.as_("owner"), {"Idempotency-Key": "fu-1"}
    body = {"customer_id": desk.customer_id, "title": "Once", "due_date": "2030-05-10"}
    first, second = api.post("/follow-ups", body, headers=key), api.post("/follow-ups", body, headers=key)
    assert first.json["id"] == second.json["id"]
    assert api.post("/follow-ups", {**body, "title": "Twice"}, headers=key).status == 409
    assert ids(api.get("/follow-ups")) == [first.json["id"]]


# ---------- reach ----------


def test_a_member_reaches_their_own_and_their_customers_follow_ups_only(desk):
    owner, member = desk.as_("owner"), desk.as_("member")
    theirs = created(owner.post("/customers", {"name": "Mine", "owner_id": desk.users["member"]}))["id"]
    on_their_customer = new_follow_up(desk, customer_id=theirs)  # the owner's, on the member's customer
    assigned = new_follow_up(desk, assignee_id=desk.users["member"])  # the member's, on someone else's customer
    elsewhere = new_follow_up(desk)
    assert member.get(f"/follow-ups/{elsewhere['id']}").status == 404
    assert member.post(f"/follow-ups/{elsewhere['id']}/cancel", {"reason": "mine now"}).status == 404
    assert member.get(f"/follow-ups/{on_their_customer['id']}").status == 200
    assert ids(member.get("/follow-ups")) == [assigned["id"]]
    assert ids(member.get(f"/follow-ups?assignee_id={desk.users['owner']}")) == [on_their_customer["id"]]
    assert member.post("/follow-ups", {"customer_id": desk.customer_id, "title": "T",
                                       "due_date": "2030-05-10"}).json["errors"][0]["field"] == "customer_id"


def test_a_contractor_reads_and_completes_only_what_is_assigned_to_them(desk):
    contractor = desk.as_("contractor")
    theirs = new_follow_up(desk, assignee_id=desk.users["contractor"])
    other = new_follow_up(desk)
    assert ids(contractor.get(f"/follow-ups?assignee_id={desk.users['owner']}")) == []
    assert contractor.get(f"/follow-ups/{other['id']}").status == 404
    assert ids(contractor.get("/follow-ups?assignee_id=me")) == [theirs["id"]]
    done = contractor.post(f"/follow-ups/{theirs['id']}/complete", {"resolution": "Called them"})
    assert done.status == 200 and done.json["status"] == "completed"


# ---------- buckets at the day boundaries ----------

# 2003-03-04T06:00Z is March 3, 22:00 in Los Angeles (UTC-8) and March 4, 16:00 in Brisbane (UTC+10).
NOW = "2003-03-04T06:00:00Z"


def bucket(world, role, name, **extra):
    query = "&".join([f"bucket={name}", *(f"{k}={v}" for k, v in extra.items())])
    return ids(world.as_(role).get(f"/follow-ups?assignee_id=me&{query}"))


def test_buckets_in_utc_minus_8_a_follow_up_due_today_is_yesterday_in_utc(desk, monkeypatch):
    set_timezone(desk, "member", "America/Los_Angeles")  # PST, UTC-8 in March 2003
    clock(monkeypatch, NOW)
    mine = {"assignee_id": desk.users["member"]}
    yesterday = new_follow_up(desk, due_date="2003-03-02", **mine)
    today = new_follow_up(desk, due_date="2003-03-03", **mine)  # the assignee's today: yesterday in UTC
    tomorrow = new_follow_up(desk, due_date="2003-03-04", **mine)  # today in UTC
    passed_today = new_follow_up(desk, due_at="2003-03-04T05:00:00Z", **mine)  # 21:00 local: an hour ago
    later_today = new_follow_up(desk, due_at="2003-03-04T07:30:00Z", **mine)  # 23:30 local
    in_15_days = new_follow_up(desk, due_date="2003-03-18", **mine)
    after_midnight = new_follow_up(desk, due_at="2003-03-04T09:00:00Z", **mine)  # today in UTC, tomorrow for them
    aws_fidelity.settle()
    assert bucket(desk, "member", "overdue") == [yesterday["id"], passed_today["id"]]
    assert bucket(desk, "member", "due_today") == [later_today["id"], today["id"]]
    assert bucket(desk, "member", "upcoming") == [after_midnight["id"], tomorrow["id"]]
    assert bucket(desk, "member", "upcoming", upcoming_days=15) == [after_midnight["id"], tomorrow["id"],
                                                                   in_15_days["id"]]
    assert today["due_at"] == "2003-03-04T08:00:00Z"
    listed = desk.as_("member").get("/follow-ups?bucket=due_today")
    assert listed.json["timezone"] == "America/Los_Angeles"


def test_buckets_in_utc_plus_10_a_follow_up_due_today_is_tomorrow_in_utc_until_14h(desk, monkeypatch):
    set_timezone(desk, "member", "Australia/Brisbane")  # UTC+10, no daylight saving
    mine = {"assignee_id": desk.users["member"]}
    clock(monkeypatch, "2003-03-03T20:00:00Z")  # March 4, 06:00 in Brisbane
    today = new_follow_up(desk, due_date="2003-03-04", **mine)  # ends 2003-03-04T14:00Z
    yesterday = new_follow_up(desk, due_date="2003-03-03", **mine)  # ended 2003-03-03T14:00Z, today in UTC
    tomorrow = new_follow_up(desk, due_date="2003-03-05", **mine)
    aws_fidelity.settle()
    assert bucket(desk, "member", "due_today") == [today["id"]]
    assert bucket(desk, "member", "overdue") == [yesterday["id"]]
    assert bucket(desk, "member", "upcoming") == [tomorrow["id"]]
    clock(monkeypatch, "2003-03-04T14:00:00Z")  # midnight in Brisbane: March 4 is over
    assert bucket(desk, "member", "overdue") == [yesterday["id"], today["id"]]
    assert bucket(desk, "member", "due_today") == [tomorrow["id"]]


def test_buckets_follow_the_assignees_timezone_not_the_callers(desk, monkeypatch):
    set_timezone(desk, "owner", "Australia/Brisbane")
    set_timezone(desk, "member", "America/Los_Angeles")
    clock(monkeypatch, NOW)
    theirs = new_follow_up(desk, due_date="2003-03-03", assignee_id=desk.users["member"])
    aws_fidelity.settle()
    answer = desk.as_("owner").get(f"/follow-ups?assignee_id={desk.users['member']}&bucket=due_today")
    assert ids(answer) == [theirs["id"]] and answer.json["timezone"] == "America/Los_Angeles"


def test_a_customers_follow_ups_list_across_assignees(desk):
    first = new_follow_up(desk, due_date="2030-05-01", assignee_id=desk.users["member"])
    second = new_follow_up(desk, due_date="2030-05-02")
    aws_fidelity.settle()
    assert ids(desk.as_("admin").get(f"/follow-ups?customer_id={desk.customer_id}")) == [first["id"], second["id"]]
    assert ids(desk.as_("admin").get(f"/follow-ups?customer_id={desk.customer_id}&assignee_id=me")) == []


def test_a_bad_bucket_is_a_422(desk):
    for query in ("bucket=someday", "upcoming_days=0", "upcoming_days=400", "assignee_id=a%20b"):
        answer = desk.as_("owner").get(f"/follow-ups?{query}")
        assert answer.status == 422, (query, answer.body)


# ---------- postpone, complete, cancel ----------


def test_postponing_keeps_from_to_reason_who_and_when(desk, monkeypatch):
    set_timezone(desk, "owner", "America/Los_Angeles")
    clock(monkeypatch, "2030-05-08T18:00:00Z")  # May 8, 11:00 in Los Angeles
    follow_up = new_follow_up(desk)
    api = desk.as_("owner")
    week = api.post(f"/follow-ups/{follow_up['id']}/postpone", {"preset": "1_week", "reason": "On holiday"})
    assert week.status == 200, week.body
    assert (week.json["due_date"], week.json["due_at"], week.json["postponements"], week.json["version"]) == (
        "2030-05-15", "2030-05-16T07:00:00Z", 1, 2)
    until = api.post(f"/follow-ups/{follow_up['id']}/postpone",
                     {"until": "2030-06-01T16:00:00Z", "reason": "Budget in June", "version": 2})
    assert until.status == 200, until.body
    history = api.get(f"/follow-ups/{follow_up['id']}").json["history"]
    assert [(h["action"], h["from"], h["to"], h["reason"], h["by"], h["at"]) for h in history[1:]] == [
        ("postponed", "2030-05-11T07:00:00Z", "2030-05-16T07:00:00Z", "On holiday", desk.users["owner"],
         "2030-05-08T18:00:00Z"),
        ("postponed", "2030-05-16T07:00:00Z", "2030-06-01T16:00:00Z", "Budget in June", desk.users["owner"],
         "2030-05-08T18:00:00Z")]


def test_a_timezone_change_keeps_due_instants_and_the_next_postponement_uses_the_new_zone(desk, monkeypatch):
    set_timezone(desk, "owner", "America/Los_Angeles")
    clock(monkeypatch, "2030-05-08T18:00:00Z")
    follow_up = new_follow_up(desk)
    set_timezone(desk, "owner", "Australia/Brisbane")
    read = desk.as_("owner").get(f"/follow-ups/{follow_up['id']}").json
    assert (read["due_at"], read["timezone"]) == ("2030-05-11T07:00:00Z", "America/Los_Angeles")
    postponed = desk.as_("owner").post(f"/follow-ups/{follow_up['id']}/postpone",
                                       {"until": "2030-05-20", "reason": "r"})
    assert (postponed.json["due_at"], postponed.json["timezone"]) == ("2030-05-20T14:00:00Z", "Australia/Brisbane")


@pytest.mark.parametrize(("body", "status"), [
    ({"preset": "tomorrow"}, 422),  # no reason
    ({"preset": "tomorrow", "reason": ""}, 422),
    ({"preset": "someday", "reason": "r"}, 422),
    ({"preset": "tomorrow", "until": "2030-06-01", "reason": "r"}, 422),
    ({"until": "2001-01-01", "reason": "r"}, 422),  # the past
    ({"until": "June", "reason": "r"}, 422),
    ({"preset": "tomorrow", "reason": "r", "version": 7}, 409),
])
def test_a_bad_postponement_changes_nothing(desk, body, status):
    follow_up = new_follow_up(desk)
    answer = desk.as_("owner").post(f"/follow-ups/{follow_up['id']}/postpone", body)
    assert answer.status == status, answer.body
    assert desk.as_("owner").get(f"/follow-ups/{follow_up['id']}").json["version"] == 1


def test_completing_creates_the_next_follow_ups_in_the_same_change(desk):
    follow_up = new_follow_up(desk)
    api = desk.as_("owner")
    done = api.post(f"/follow-ups/{follow_up['id']}/complete", {
        "resolution": "Quote sent", "version": 1,
        "next": [{"title": "Chase the signature", "due_date": "2030-05-20"},
                 {"title": "Kickoff call", "due_date": "2030-05-25", "assignee_id": desk.users["member"]}]})
    assert done.status == 200, done.body
    assert (done.json["status"], done.json["resolution"], done.json["completed_by"]) == (
        "completed", "Quote sent", desk.users["owner"])
    following = done.json["next"]
    assert [(f["title"], f["assignee_id"], f["previous_id"]) for f in following] == [
        ("Chase the signature", desk.users["owner"], follow_up["id"]),
        ("Kickoff call", desk.users["member"], follow_up["id"])]
    assert done.json["history"][-1]["next_ids"] == [f["id"] for f in following]
    aws_fidelity.settle()
    assert ids(api.get("/follow-ups")) == [following[0]["id"]]  # the completed one left the list
    assert api.get(f"/follow-ups/{follow_up['id']}").json["status"] == "completed"


def test_a_bad_next_follow_up_creates_nothing_and_completes_nothing(desk):
    follow_up = new_follow_up(desk)
    api = desk.as_("owner")
    answer = api.post(f"/follow-ups/{follow_up['id']}/complete", {
        "resolution": "Done", "next": [{"title": "A", "due_date": "2030-05-20"},
                                       {"title": "B", "due_date": "2030-05-20", "assignee_id": "ghost"}]})
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "next.1.assignee_id"
    assert api.get(f"/follow-ups/{follow_up['id']}").json["status"] == "open"
    aws_fidelity.settle()
    assert ids(api.get("/follow-ups")) == [follow_up["id"]]


def test_a_contractor_may_complete_without_creating_next_ones(desk):
    theirs = new_follow_up(desk, assignee_id=desk.users["contractor"])
    answer = desk.as_("contractor").post(f"/follow-ups/{theirs['id']}/complete", {
        "resolution": "Done", "next": [{"title": "A", "due_date": "2030-05-20"}]})
    assert answer.status == 403
    assert desk.as_("owner").get(f"/follow-ups/{theirs['id']}").json["status"] == "open"


def test_cancelling_needs_a_reason_and_is_final(desk):
    follow_up = new_follow_up(desk)
    api, path = desk.as_("owner"), f"/follow-ups/{follow_up['id']}"
    assert api.post(f"{path}/cancel", {}).status == 422
    cancelled = api.post(f"{path}/cancel", {"reason": "Deal lost"})
    assert cancelled.status == 200 and (cancelled.json["status"], cancelled.json["cancel_reason"]) == (
        "cancelled", "Deal lost")
    for action, body in (("postpone", {"preset": "tomorrow", "reason": "r"}), ("complete", {"resolution": "r"}),
                         ("cancel", {"reason": "again"})):
        assert api.post(f"{path}/{action}", body).status == 409, action
    assert [h["action"] for h in api.get(path).json["history"]] == ["created", "cancelled"]


def test_readonly_and_portal_may_not_change_follow_ups(desk):
    follow_up = new_follow_up(desk)
    for role in ("readonly", "portal"):
        assert desk.as_(role).post(f"/follow-ups/{follow_up['id']}/cancel", {"reason": "r"}).status == 403
    assert desk.as_("portal").get(f"/follow-ups/{follow_up['id']}").status == 403


# ---------- the report ----------


def report(world, group_by, start="2030-05-01", end="2030-05-31"):
    answer = world.as_("owner").get(f"/reports/follow-ups?group_by={group_by}&from={start}&to={end}")
    assert answer.status == 200, answer.body
    return answer.json


def test_the_report_counts_created_completed_on_time_days_late_and_postponements(desk, monkeypatch):
    api, member = desk.as_("owner"), desk.users["member"]
    clock(monkeypatch, "2030-05-04T10:00:00Z")  # a Saturday, UTC (the tenant's timezone)
    due_monday = [new_follow_up(desk, due_date="2030-05-06") for _ in range(4)]
    theirs = new_follow_up(desk, due_date="2030-05-07", assignee_id=member)
    api.post(f"/follow-ups/{due_monday[0]['id']}/postpone", {"preset": "tomorrow", "reason": "r"})
    api.post(f"/follow-ups/{due_monday[0]['id']}/postpone", {"preset": "tomorrow", "reason": "r"})
    api.post(f"/follow-ups/{due_monday[1]['id']}/complete", {"resolution": "early"})  # on time
    clock(monkeypatch, "2030-05-08T10:00:00Z")
    api.post(f"/follow-ups/{due_monday[2]['id']}/complete", {"resolution": "2 days late"})
    clock(monkeypatch, "2030-05-12T10:00:00Z")
    api.post(f"/follow-ups/{due_monday[3]['id']}/complete", {"resolution": "6 days late"})
    api.post(f"/follow-ups/{theirs['id']}/cancel", {"reason": "r"})
    by_assignee = {row["key"]: row for row in report(desk, "assignee")["groups"]}
    mine = by_assignee[desk.users["owner"]]
    assert (mine["created"], mine["completed"], mine["completed_on_time"], mine["postponements"]) == (4, 3, 1, 2)
    assert (mine["completion_rate"], mine["on_time_rate"], mine["median_days_late"],
            mine["postponements_per_follow_up"]) == (0.75, 0.3333, 4.0, 0.5)
    assert (by_assignee[member]["created"], by_assignee[member]["cancelled"], by_assignee[member]["completion_rate"]
            ) == (1, 1, 0.0)
    weekdays = report(desk, "weekday")
    assert [(row["key"], row["created"]) for row in weekdays["groups"]] == [("monday", 4), ("tuesday", 1)]
    assert weekdays["totals"]["created"] == 5
    by_customer = report(desk, "customer")["groups"]
    assert [(row["key"], row["created"], row["completed"]) for row in by_customer] == [(desk.customer_id, 5, 3)]
    assert report(desk, "assignee", "2030-05-05", "2030-05-31")["groups"] == []  # they were created May 4


def test_the_report_refuses_a_bad_range_and_members(desk):
    api = desk.as_("owner")
    for query in ("group_by=team&from=2030-05-01&to=2030-05-02", "group_by=assignee&from=2030-05-02&to=2030-05-01",
                  "group_by=assignee&from=2030-01-01&to=2031-06-01", "group_by=assignee&to=2030-05-01"):
        assert api.get(f"/reports/follow-ups?{query}").status == 422, query
    assert desk.as_("member").get("/reports/follow-ups?group_by=assignee&from=2030-05-01&to=2030-05-02").status == 403
