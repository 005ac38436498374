"""The customer timeline through the API: interactions, the feed projected from the other rooms'
events, reach and the portal's view, replay, the heatmap and quiet customers."""

from __future__ import annotations

from typing import Any

import pytest
from foundation_helpers import assert_problem, unique
from work_helpers import ok

from bluehill_dev.harness_env import TenantWorld

MARKER = "ZEBRA-MARKER-7731"


def customer(api: Any, **fields: Any) -> dict[str, Any]:
    return ok(api.post("/customers", {"name": unique("Timeline Co "), **fields}), 201)


def log(api: Any, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"type": "call", "summary": "Renewal call", **fields}
    return ok(api.post(f"/customers/{customer_id}/interactions", body), 201)


def feed(api: Any, path: str) -> list[dict[str, Any]]:
    return ok(api.get(path))["items"]


def kinds(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["kind"] for entry in entries]


def test_a_logged_interaction_is_kept_and_shows_on_the_customer_timeline(fresh_tenant: TenantWorld,
                                                                          deliver: Any) -> None:
    api = fresh_tenant.as_("owner")
    company = customer(api)
    call = log(api, company["id"], direction="outbound", duration_minutes=30, sentiment="positive",
               tags=["renewal"], occurred_at="2026-11-20T10:00:00Z")
    assert (call["type"], call["visibility"], call["version"], call["author_id"]) == (
        "call", "internal", 1, fresh_tenant.users["owner"])
    assert ok(api.get(f"/interactions/{call['id']}"))["summary"] == "Renewal call"
    deliver()
    [entry] = feed(api, f"/customers/{company['id']}/timeline")
    assert (entry["kind"], entry["type"], entry["id"], entry["system"], entry["occurred_at"]) == (
        "interaction", "call", call["id"], False, "2026-11-20T10:00:00Z")


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "call", "summary": "x" * 301}, "summary"),
    ({"type": "call"}, "summary"),
    ({"type": "carrier_pigeon", "summary": "s"}, "type"),
    ({"type": "call", "summary": "s", "direction": "sideways"}, "direction"),
    ({"type": "call", "summary": "s", "visibility": "public"}, "visibility"),
    ({"type": "call", "summary": "s", "sentiment": "angry"}, "sentiment"),
    ({"type": "call", "summary": "s", "body": "b" * 20_001}, "body"),
    ({"type": "call", "summary": "s", "project_id": "nope"}, "project_id"),
    ({"type": "note", "summary": "s", "body": "hi @[Ghost](nobody)"}, "body"),
])
def test_a_bad_interaction_is_refused_naming_the_field(acme: TenantWorld, body: dict[str, Any], field: str) -> None:
    company = customer(acme.as_("owner"))
    assert_problem(acme.as_("owner").post(f"/customers/{company['id']}/interactions", body), 422, field)


def test_a_stale_patch_is_refused_and_a_change_replaces_the_feed_entry(fresh_tenant: TenantWorld,
                                                                        deliver: Any) -> None:
    api = fresh_tenant.as_("owner")
    company = customer(api)
    call = log(api, company["id"])
    changed = ok(api.patch(f"/interactions/{call['id']}", {"version": 1, "type": "meeting", "summary": "QBR prep"}))
    assert changed["version"] == 2
    assert_problem(api.patch(f"/interactions/{call['id']}", {"version": 1, "summary": "late"}), 409)
    deliver()
    [entry] = feed(api, f"/customers/{company['id']}/timeline")
    assert (entry["type"], entry["summary"]) == ("meeting", "QBR prep")
    ok(api.delete(f"/interactions/{call['id']}"), 204)
    deliver()
    assert feed(api, f"/customers/{company['id']}/timeline") == []
    assert api.get(f"/interactions/{call['id']}").status == 404
    trail = ok(api.get(f"/audit?entity_id={call['id']}"))["items"]
    assert {row["action"] for row in trail} >= {"create", "update", "delete"}


def test_mentions_are_kept_and_published(fresh_tenant: TenantWorld, deliver: Any) -> None:
    api = fresh_tenant.as_("owner")
    company = customer(api)
    member = fresh_tenant.users["member"]
    note = log(api, company["id"], type="note", body=f"Loop in @[Mia]({member}) on pricing")
    assert note["mention_ids"] == [member]
    delivered = deliver()
    [mentioned] = [d.event for d in delivered if d.event.type == "Interaction.Mentioned"]
    assert (mentioned.data["mention_ids"], mentioned.data["customer_id"]) == ([member], company["id"])


def test_logging_with_a_follow_up_carries_it_on_the_created_event(fresh_tenant: TenantWorld, deliver: Any) -> None:
    api = fresh_tenant.as_("owner")
    company = customer(api)
    log(api, company["id"], follow_up={"title": "Send the quote", "due_date": "2026-12-10"})
    [created] = [d.event for d in deliver() if d.event.type == "Interaction.Created"]
    assert created.data["follow_up"] == {"title": "Send the quote", "due_date": "2026-12-10",
                                         "assignee_id": fresh_tenant.users["owner"]}
    assert created.data["customer_id"] == company["id"]


def test_quick_logging_from_a_task_and_a_ticket_links_them(fresh_tenant: TenantWorld, deliver: Any) -> None:
    api = fresh_tenant.as_("owner")
    company = customer(api)
    project = ok(api.post(f"/customers/{company['id']}/projects", {"name": "Onboarding"}), 201)
    task = ok(api.post(f"/projects/{project['id']}/tasks", {"title": "Kickoff"}), 201)
    ticket = ok(api.post("/tickets", {"subject": "Login broken", "description": "d",
                                      "customer_id": company["id"]}), 201)
    on_task = ok(api.post(f"/tasks/{task['id']}/interactions", {"type": "meeting"}), 201)
    assert (on_task["customer_id"], on_task["project_id"], on_task["task_id"], on_task["summary"]) == (
        company["id"], project["id"], task["id"], "Meeting logged")
    on_ticket = ok(api.post(f"/tickets/{ticket['id']}/interactions", {"type": "call", "summary": "Called back"}), 201)
    assert (on_ticket["customer_id"], on_ticket["ticket_id"]) == (company["id"], ticket["id"])
    assert_problem(api.post(f"/tasks/{task['id']}/interactions", {"type": "nope"}), 422, "type")
    assert api.post("/tasks/missingtask/interactions", {"type": "call"}).status == 404
    deliver()
    timeline = feed(api, f"/customers/{company['id']}/timeline")
    assert {"interaction", "Task.Created", "Ticket.Created"} <= set(kinds(timeline))
    by_project = feed(api, f"/customers/{company['id']}/timeline?project_id={project['id']}")
    assert {e["kind"] for e in by_project} == {"interaction", "Task.Created"}
    by_ticket = feed(api, f"/customers/{company['id']}/timeline?ticket_id={ticket['id']}")
    assert {e["kind"] for e in by_ticket} == {"interaction", "Ticket.Created"}
    assert kinds(feed(api, f"/projects/{project['id']}/timeline")).count("interaction") == 1


def test_filters_by_type_system_and_customer_facing(fresh_tenant: TenantWorld, deliver: Any) -> None:
    api = fresh_tenant.as_("owner")
    company = customer(api)
    log(api, company["id"], type="call", occurred_at="2026-10-01T09:00:00Z")
    log(api, company["id"], type="note", occurred_at="2026-10-02T09:00:00Z")
    log(api, company["id"], type="meeting", occurred_at="2026-10-03T09:00:00Z")
    api.post(f"/customers/{company['id']}/contacts", {"name": "Dana", "email": f"{unique('d')}@x.example"})
    deliver()
    path = f"/customers/{company['id']}/timeline"
    assert [e["type"] for e in feed(api, f"{path}?types=call,meeting")] == ["meeting", "call"]
    assert "note" not in [e["type"] for e in feed(api, f"{path}?exclude_types=note")]
    assert {e["system"] for e in feed(api, f"{path}?system=false")} == {False}
    assert [e["type"] for e in feed(api, f"{path}?customer_facing=true")] == ["meeting", "call"]
    assert [e["type"] for e in feed(api, f"{path}?from=2026-10-02&to=2026-10-02")] == ["note"]
    assert_problem(api.get(f"{path}?types=carrier_pigeon"), 422, "types")
    assert_problem(api.get(f"{path}?from=2026-10-03&to=2026-10-01"), 422, "to")
    newest = ok(api.get(f"{path}?limit=1"))
    assert newest["next_cursor"] and len(newest["items"]) == 1
    rest = ok(api.get(f"{path}?limit=50&cursor={newest['next_cursor']}"))
    assert newest["items"][0]["id"] not in {e["id"] for e in rest["items"]}


def test_a_tenant_adds_its_own_types(fresh_tenant: TenantWorld, deliver: Any) -> None:
    api = fresh_tenant.as_("admin")
    put = ok(api.put("/tenant/interaction-types", {"version": 0, "types": [
        {"key": "site_visit", "label": "Site visit", "customer_facing": True}]}))
    assert put["version"] == 1 and {"key": "site_visit", "label": "Site visit", "customer_facing": True,
                                    "built_in": False} in put["types"]
    assert_problem(api.put("/tenant/interaction-types", {"version": 0, "types": []}), 409)
    assert_problem(api.put("/tenant/interaction-types", {"version": 1, "types": [
        {"key": "call", "label": "Mine", "customer_facing": True}]}), 422, "types.0.key")
    assert fresh_tenant.as_("member").put("/tenant/interaction-types", {"version": 1, "types": []}).status == 403
    company = customer(fresh_tenant.as_("owner"))
    visit = log(fresh_tenant.as_("owner"), company["id"], type="site_visit")
    assert visit["type"] == "site_visit"
    deliver()
    quiet = ok(api.get("/reports/quiet-customers?days=1"))["items"]
    assert company["id"] not in [row["customer_id"] for row in quiet]


def test_internal_stays_internal_for_the_portal(fresh_tenant: TenantWorld, deliver: Any) -> None:
    """A marker in internal notes, internal ticket messages and SLA entries never reaches a portal
    user; their own customer's shared entries do, another customer's nothing."""
    owner, portal = fresh_tenant.as_("owner"), fresh_tenant.as_("portal")
    mine = fresh_tenant.portal_customer_id
    log(owner, mine, type="note", summary=f"Internal {MARKER}", body=MARKER)
    shared = log(owner, mine, type="meeting", summary="Kickoff agenda", visibility="shared")
    ticket = ok(owner.post("/tickets", {"subject": "Export fails", "description": "d", "customer_id": mine}), 201)
    ok(owner.post(f"/tickets/{ticket['id']}/messages", {"body": MARKER, "visibility": "internal"}), 201)
    other = customer(owner)
    log(owner, other["id"], type="meeting", summary="Other shared", visibility="shared")
    deliver()
    team_view = feed(owner, f"/customers/{mine}/timeline")
    assert "Ticket.MessagePosted" in kinds(team_view) and any(MARKER in e["summary"] for e in team_view)
    seen = []
    for path in (f"/customers/{mine}/timeline", f"/customers/{mine}/timeline?system=false",
                 f"/customers/{mine}/timeline?ticket_id={ticket['id']}", f"/interactions/{shared['id']}"):
        response = portal.get(path)
        assert response.status == 200, (path, response.body)
        assert MARKER not in response.body.decode() if isinstance(response.body, bytes) else MARKER not in str(
            response.body), path
        seen.append(response.json)
    assert {e["visibility"] for e in seen[0]["items"]} == {"shared"}
    assert {e["id"] for e in seen[0]["items"]} >= {shared["id"]}
    assert portal.get(f"/customers/{other['id']}/timeline").status == 404
    for forbidden in ("/activity", "/reports/quiet-customers"):
        assert portal.get(forbidden).status == 403


def test_reach_of_members_and_contractors(fresh_tenant: TenantWorld, deliver: Any) -> None:
    owner = fresh_tenant.as_("owner")
    member_id, contractor_id = fresh_tenant.users["member"], fresh_tenant.users["contractor"]
    theirs = customer(owner, owner_id=member_id)
    not_theirs = customer(owner)
    project = ok(owner.post(f"/customers/{not_theirs['id']}/projects", {"name": "P"}), 201)
    task = ok(owner.post(f"/projects/{project['id']}/tasks", {"title": "Build", "assignee_ids": [contractor_id]}), 201)
    log(owner, theirs["id"], summary="Theirs")
    log(owner, not_theirs["id"], summary="Not theirs")
    deliver()
    member = fresh_tenant.as_("member")
    assert {e["summary"] for e in feed(member, "/activity") if e["kind"] == "interaction"} == {"Theirs"}
    assert member.get(f"/customers/{not_theirs['id']}/timeline").status == 404
    contractor = fresh_tenant.as_("contractor")
    assert {e["task_id"] for e in feed(contractor, "/activity")} == {task["id"]}
    assert all(e["task_id"] == task["id"] for e in feed(contractor, f"/customers/{not_theirs['id']}/timeline"))
    assert feed(contractor, f"/customers/{theirs['id']}/timeline") == []
    everything = feed(owner, "/activity")
    assert {"Theirs", "Not theirs"} <= {e["summary"] for e in everything}
    assert {e["actor"]["id"] for e in feed(owner, f"/activity?actor_id={fresh_tenant.users['owner']}")} == {
        fresh_tenant.users["owner"]}


def test_replaying_the_events_changes_nothing(fresh_tenant: TenantWorld, deliver: Any) -> None:
    from chalicelib.core.scope import tenant_scope
    from chalicelib.timeline import feed as timeline_feed
    from chalicelib.timeline.registry import project

    from bluehill_dev.harness_env import event_bus

    api = fresh_tenant.as_("owner")
    company = customer(api)
    call = log(api, company["id"])
    api.patch(f"/interactions/{call['id']}", {"version": 1, "summary": "Changed"})
    project_ = ok(api.post(f"/customers/{company['id']}/projects", {"name": "P"}), 201)
    ok(api.post(f"/projects/{project_['id']}/tasks", {"title": "T"}), 201)
    delivered = deliver()
    path = f"/reports/activity-heatmap?scope=customer:{company['id']}&rows=type&bucket=day"
    before = (feed(api, f"/customers/{company['id']}/timeline"), ok(api.get(path)))
    bus = event_bus()
    again = [bus.dispatch(d.event) for d in delivered]
    assert all(outcome == "duplicate" for d in again for name, outcome in d.outcomes.items()
               if name.startswith("timeline"))
    with tenant_scope(fresh_tenant.tenant_id):  # even past the replay guard: an entry is applied once
        for d in delivered:
            entry = project(d.event)
            if entry is not None:
                assert timeline_feed.apply(d.event, entry) is False
    assert (feed(api, f"/customers/{company['id']}/timeline"), ok(api.get(path))) == before


def test_heatmap_counts_per_row_and_bucket_and_quiet_customers(fresh_tenant: TenantWorld, deliver: Any) -> None:
    api = fresh_tenant.as_("owner")
    busy, quiet = customer(api, name="Busy Co"), customer(api, name="Quiet Co")
    for day in ("2026-11-02", "2026-11-03", "2026-11-10"):
        log(api, busy["id"], occurred_at=f"{day}T10:00:00Z")
    log(api, quiet["id"], type="note", occurred_at="2026-11-04T10:00:00Z")
    deliver()
    grid = ok(api.get("/reports/activity-heatmap?scope=org&rows=customer&bucket=week&from=2026-11-02&to=2026-11-15"
                      "&system=false"))
    assert grid["buckets"] == ["2026-11-02", "2026-11-09"]
    rows = {row["id"]: row for row in grid["rows"]}
    assert rows[busy["id"]]["label"] == "Busy Co" and rows[busy["id"]]["total"] == 3
    assert grid["cells"][[r["id"] for r in grid["rows"]].index(busy["id"])] == [2, 1]
    assert grid["totals"]["total"] == 4
    calls = ok(api.get("/reports/activity-heatmap?scope=org&rows=type&bucket=month&from=2026-11-01&to=2026-11-30"
                       "&types=call"))
    assert [(r["id"], r["total"]) for r in calls["rows"]] == [("call", 3)]
    assert_problem(api.get("/reports/activity-heatmap?scope=galaxy"), 422, "scope")
    assert_problem(fresh_tenant.as_("member").get("/reports/activity-heatmap?scope=org"), 422, "scope")
    listed = {row["customer_id"]: row for row in ok(api.get("/reports/quiet-customers?days=14"))["items"]}
    assert listed[quiet["id"]]["last_customer_touch_at"] is None  # a note is no customer touch
    assert listed[quiet["id"]]["last_interaction_at"] == "2026-11-04T10:00:00Z"
    assert listed[busy["id"]]["last_customer_touch_at"] == "2026-11-10T10:00:00Z"
    assert_problem(api.get("/reports/quiet-customers?days=0"), 422, "days")


def test_another_tenant_sees_nothing(acme: TenantWorld, globex: TenantWorld) -> None:
    company = customer(acme.as_("owner"))
    call = log(acme.as_("owner"), company["id"])
    other = globex.as_("owner")
    assert other.get(f"/interactions/{call['id']}").status == 404
    assert other.get(f"/customers/{company['id']}/timeline").status == 404
    assert other.post(f"/customers/{company['id']}/interactions", {"type": "call", "summary": "s"}).status == 404


def test_the_gantt_overlays_activity_per_week(fresh_tenant: TenantWorld, deliver: Any) -> None:
    from work_helpers import day

    api = fresh_tenant.as_("owner")
    company = customer(api)
    board = ok(api.post(f"/customers/{company['id']}/projects", {"name": "Rollout", "start_date": day(-20)}), 201)
    task = ok(api.post(f"/projects/{board['id']}/tasks", {"title": "Train"}), 201)
    ok(api.post(f"/tasks/{task['id']}/interactions", {"type": "training"}), 201)
    ok(api.post(f"/tasks/{task['id']}/move", {"status": "in_progress"}))
    deliver()
    plain = ok(api.get(f"/projects/{board['id']}/gantt"))
    assert plain.get("activity") is None
    gantt = ok(api.get(f"/projects/{board['id']}/gantt?overlay=activity&bucket=week"))
    assert sum(b["interactions"] for b in gantt["activity"]) == 1
    assert sum(b["status_changes"] for b in gantt["activity"]) == 1
    assert gantt["activity"][0]["start"] <= day(-20) and len(gantt["activity"]) >= 3
    assert_problem(api.get(f"/projects/{board['id']}/gantt?overlay=heat"), 422, "overlay")


def test_the_sample_event_is_projected_by_the_feed_consumer_once(fresh_tenant: TenantWorld) -> None:
    """events/interaction-created.json (also what `bluehill invoke timeline_feed` sends)."""
    from chalicelib.core.consumers import CONSUMERS, deliver
    from chalicelib.core.events import Event
    from templating import sample_event

    api = fresh_tenant.as_("owner")
    company = customer(api)
    raw = sample_event("interaction-created.json", tenant_id=fresh_tenant.tenant_id, customer_id=company["id"],
                       author_id=fresh_tenant.users["owner"])
    event = Event.from_bus(raw)
    assert [deliver(CONSUMERS["timeline_feed"], event) for _ in range(3)] == ["applied", "duplicate", "duplicate"]
    [entry] = feed(api, f"/customers/{company['id']}/timeline")
    assert (entry["summary"], entry["type"], entry["occurred_at"]) == (
        "Renewal call with Dana", "call", "2026-11-20T10:00:00Z")


def test_time_entries_and_form_submissions_join_the_feed(fresh_tenant: TenantWorld, deliver: Any) -> None:
    """The rooms of this wave add their kinds by registering projections (timeline/projections.py)."""
    from chalicelib.core.consumers import CONSUMERS
    from chalicelib.core.consumers import deliver as deliver_to
    from chalicelib.forms.events import AnswerLine, FormSubmitted

    api = fresh_tenant.as_("owner")
    company = customer(api)
    entry = ok(api.post("/time-entries", {"customer_id": company["id"], "date": "2026-11-18", "minutes": 45}), 201)
    deliver()
    [logged] = [e for e in feed(api, f"/customers/{company['id']}/timeline") if e["kind"] == "TimeEntry.Created"]
    assert (logged["id"], logged["summary"].split(" (")[0], logged["visibility"]) == (entry["id"], "45 min logged",
                                                                                      "internal")
    ok(api.delete(f"/time-entries/{entry['id']}"), 204)
    deliver()
    assert "TimeEntry.Created" not in kinds(feed(api, f"/customers/{company['id']}/timeline"))
    mine = fresh_tenant.portal_customer_id
    submitted = FormSubmitted(form_id="f1", form_name="Intake", form_version=1, submission_id="s1", customer_id=mine,
                              channel="portal", summary=[AnswerLine(key="k", label="K", answer="a")]
                              ).event(fresh_tenant.tenant_id)
    assert deliver_to(CONSUMERS["timeline_feed"], submitted) == "applied"
    portal_feed = feed(fresh_tenant.as_("portal"), f"/customers/{mine}/timeline")
    [form] = [e for e in portal_feed if e["kind"] == "Form.Submitted"]
    assert form["summary"] == "Form submitted: Intake"


def test_task_assignment_and_due_date_changes_join_the_feed(fresh_tenant: TenantWorld, deliver: Any) -> None:
    api, member = fresh_tenant.as_("owner"), fresh_tenant.users["member"]
    company = customer(api)
    project = ok(api.post(f"/customers/{company['id']}/projects", {"name": "Rollout"}), 201)
    task = ok(api.post(f"/projects/{project['id']}/tasks", {"title": "Train admins", "due_date": "2026-12-01"}), 201)
    ok(api.patch(f"/tasks/{task['id']}", {"version": task["version"], "assignee_ids": [member],
                                          "due_date": "2026-12-08"}))
    deliver()
    timeline = feed(api, f"/customers/{company['id']}/timeline?types=Task.Assigned,Task.DueDateChanged")
    by_kind = {entry["kind"]: entry for entry in timeline}
    assert set(by_kind) == {"Task.Assigned", "Task.DueDateChanged"}
    assert by_kind["Task.Assigned"]["summary"] == f"Task “Train admins” assigned to {member}"
    assert by_kind["Task.DueDateChanged"]["summary"] == "Task “Train admins” due date 2026-12-01 → 2026-12-08"
    assert {(e["visibility"], e["task_id"], e["project_id"]) for e in timeline} == {
        ("internal", task["id"], project["id"])}
    assert set(kinds(feed(api, f"/projects/{project['id']}/timeline"))) >= {"Task.Assigned", "Task.DueDateChanged"}


@pytest.mark.parametrize(("sample", "summary"), [
    ("task-assigned.json",
     "Task a task assigned to 01JZUSER000000000000000001; unassigned from 01JZUSER000000000000000000"),
    ("task-due-date-changed.json", "Task a task due date 2026-06-26 → 2026-07-03"),
])
def test_the_task_change_samples_are_projected_once(fresh_tenant: TenantWorld, sample: str, summary: str) -> None:
    """events/task-assigned.json, events/task-due-date-changed.json (a task of no board here: `a task`)."""
    from chalicelib.core.consumers import CONSUMERS, deliver
    from chalicelib.core.events import Event
    from templating import sample_event

    company = customer(fresh_tenant.as_("owner"))
    event = Event.from_bus(sample_event(sample, tenant_id=fresh_tenant.tenant_id, customer_id=company["id"]))
    assert [deliver(CONSUMERS["timeline_feed"], event) for _ in range(2)] == ["applied", "duplicate"]
    [entry] = feed(fresh_tenant.as_("owner"), f"/customers/{company['id']}/timeline")
    assert (entry["kind"], entry["summary"], entry["visibility"]) == (event.type, summary, "internal")
