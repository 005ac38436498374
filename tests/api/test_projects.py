"""Projects (boards) through the API: creating one on a customer, the portfolio, the board
status (computed in auto mode, set with a reason in manual mode, every change kept), archiving,
the Kanban and Gantt views — and who may see and change which project."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalicelib.core import pagination
from chalicelib.core.scope import tenant_scope
from chalicelib.work import service
from foundation_helpers import EventLog, assert_problem, unique
from work_helpers import column, customer, day, ids, move, ok, patch, project, read_all, task

STATUSES = ("on_track", "at_risk", "delayed", "ahead", "on_hold", "complete")


@pytest.fixture(scope="module")
def events(aws: Any) -> Iterator[EventLog]:
    with EventLog.on_bus("work-project-events") as log:
        yield log


# ---------- create and read ----------


def test_a_project_is_created_on_a_customer_with_the_default_columns_and_auto_status(acme: Any) -> None:
    api = acme.as_("owner")
    client = customer(api)
    created = project(api, client["id"], start_date=day(-1), due_date=day(30), portal_visible=True)
    assert created["customer_id"] == client["id"] and created["owner_id"] == acme.users["owner"]
    assert [s["name"] for s in created["task_statuses"]] == [
        "not_started", "in_progress", "waiting_on_customer", "in_review", "blocked", "complete"]
    assert created["status_mode"] == "auto" and created["status"] == "on_track"
    assert created["progress"] == 0 and created["counts"] == {} and created["portal_visible"] is True
    assert ok(api.get(f"/projects/{created['id']}")) == created
    history = ok(api.get(f"/projects/{created['id']}/status-history"))["items"]
    assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in history] == [(None, "on_track", "auto")]


@pytest.mark.parametrize(("body", "field"), [
    ({"start_date": "2026-05-02", "due_date": "2026-05-01"}, "due_date"),
    ({"task_statuses": [{"name": "open", "category": "todo"}, {"name": "doing", "category": "doing"}]},
     "task_statuses"),
    ({"task_statuses": [{"name": "a", "category": "done"}, {"name": "a", "category": "todo"}]}, "task_statuses"),
    ({"status": "on_hold"}, "status"),
    ({"status_mode": "manual", "status": "on_hold"}, "status_reason"),
    ({"progress": 50}, "progress"),
    ({"owner_id": "nobody-here"}, "owner_id"),
])
def test_a_project_that_breaks_a_rule_is_refused_naming_the_field(acme: Any, body: dict[str, Any],
                                                                   field: str) -> None:
    api = acme.as_("owner")
    answer = api.post(f"/customers/{customer(api)['id']}/projects", {"name": "Bad", **body})
    assert_problem(answer, 422, field)


def test_a_project_on_a_missing_or_foreign_customer_is_not_found(acme: Any, globex: Any) -> None:
    assert_problem(acme.as_("owner").post("/customers/nope/projects", {"name": "X"}), 404)
    foreign = customer(globex.as_("owner"))
    assert_problem(acme.as_("owner").post(f"/customers/{foreign['id']}/projects", {"name": "X"}), 404)


def test_an_archived_customer_takes_no_new_projects(acme: Any) -> None:
    api = acme.as_("owner")
    client = customer(api)
    ok(api.delete(f"/customers/{client['id']}"))
    assert_problem(api.post(f"/customers/{client['id']}/projects", {"name": "Late"}), 409)


def test_another_tenant_cannot_read_change_or_archive_a_project(acme: Any, globex: Any) -> None:
    board = project(acme.as_("owner"))
    other = globex.as_("owner")
    assert_problem(other.get(f"/projects/{board['id']}"), 404)
    assert_problem(other.patch(f"/projects/{board['id']}", {"version": 1, "name": "Mine"}), 404)
    assert_problem(other.delete(f"/projects/{board['id']}"), 404)
    assert board["id"] not in ids(read_all(other, "/projects"))


# ---------- who sees which project ----------


def test_a_member_works_on_the_projects_of_customers_they_own_and_no_others(acme: Any) -> None:
    owner, member = acme.as_("owner"), acme.as_("member")
    theirs = customer(owner, owner_id=acme.users["member"])
    mine = project(member, theirs["id"])
    hidden = project(owner)
    assert ok(member.get(f"/projects/{mine['id']}"))["id"] == mine["id"]
    assert_problem(member.get(f"/projects/{hidden['id']}"), 404)
    assert_problem(member.post(f"/customers/{hidden['customer_id']}/projects", {"name": "No"}), 404)
    listed = ids(read_all(member, "/projects"))
    assert mine["id"] in listed and hidden["id"] not in listed
    ok(member.patch(f"/projects/{mine['id']}", {"version": 1, "name": "Renamed by member"}))


def test_a_contractor_sees_only_projects_that_name_them_and_changes_none(acme: Any) -> None:
    owner, contractor = acme.as_("owner"), acme.as_("contractor")
    named = project(owner, member_ids=[acme.users["contractor"]])
    other = project(owner)
    assert ok(contractor.get(f"/projects/{named['id']}"))["id"] == named["id"]
    assert_problem(contractor.get(f"/projects/{other['id']}"), 404)
    listed = ids(read_all(contractor, "/projects"))
    assert named["id"] in listed and other["id"] not in listed
    assert_problem(contractor.patch(f"/projects/{named['id']}", {"version": 1, "name": "No"}), 403)
    assert_problem(contractor.post(f"/customers/{named['customer_id']}/projects", {"name": "No"}), 403)


def test_readonly_reads_every_project_and_changes_none_and_portal_sees_nothing(acme: Any) -> None:
    board = project(acme.as_("owner"))
    readonly, portal = acme.as_("readonly"), acme.as_("portal")
    assert ok(readonly.get(f"/projects/{board['id']}/board"))["project"]["id"] == board["id"]
    assert_problem(readonly.delete(f"/projects/{board['id']}"), 403)
    for path in (f"/projects/{board['id']}", "/projects", f"/projects/{board['id']}/gantt"):
        assert_problem(portal.get(path), 403)


# ---------- the portfolio ----------


def test_the_portfolio_filters_by_customer_owner_status_and_due_range_and_pages(fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    client = customer(api)
    early = project(api, client["id"], due_date=day(5))
    late = project(api, customer(api)["id"], due_date=day(60), owner_id=fresh_tenant.users["member"])
    undated = project(api, client["id"])
    held = project(api, client["id"], due_date=day(20), status_mode="manual", status="on_hold",
                   status_reason="customer paused")
    assert ids(read_all(api, "/projects", limit=2)) == [early["id"], held["id"], late["id"], undated["id"]]
    assert ids(read_all(api, f"/projects?customer_id={client['id']}")) == [early["id"], held["id"], undated["id"]]
    assert ids(read_all(api, f"/customers/{client['id']}/projects")) == [early["id"], held["id"], undated["id"]]
    assert ids(read_all(api, f"/projects?owner_id={fresh_tenant.users['member']}")) == [late["id"]]
    assert ids(read_all(api, "/projects?status=on_hold")) == [held["id"]]
    assert ids(read_all(api, f"/projects?due_after={day(6)}&due_before={day(60)}")) == [held["id"], late["id"]]
    assert ids(read_all(api, f"/projects?customer_id={client['id']}&due_before={day(10)}")) == [early["id"]]


def test_a_due_range_that_ends_before_it_starts_is_a_422_naming_due_before(fresh_tenant: Any) -> None:
    """DynamoDB refuses a BETWEEN whose bounds are inverted (a 500 on DynamoDB Local; moto
    answered an empty page)."""
    refused = fresh_tenant.as_("owner").get("/projects?due_after=2000-01-01&due_before=1999-01-01")
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["due_before"]
    assert fresh_tenant.as_("owner").get("/projects?due_after=2000-01-01&due_before=2000-01-01").status == 200


def test_the_portfolio_sorts_by_progress_and_by_risk(fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    halfway = project(api, start_date=day(-10), due_date=day(10))
    done = task(api, halfway["id"])
    task(api, halfway["id"])
    move(api, done["id"], status="complete")
    idle = project(api, start_date=day(-1), due_date=day(30))
    late = project(api, start_date=day(-30), due_date=day(-1))
    task(api, late["id"])
    assert ids(read_all(api, "/projects?sort=progress")) == [idle["id"], late["id"], halfway["id"]]
    assert ids(read_all(api, "/projects?sort=risk", limit=1)) == [late["id"], idle["id"], halfway["id"]]
    assert_problem(api.get("/projects?sort=name"), 422, "sort")


def test_a_projects_cursor_is_refused_with_another_filter_sort_or_reader(fresh_tenant: Any) -> None:
    owner = fresh_tenant.as_("owner")
    client = customer(owner)
    for _ in range(3):
        project(owner, client["id"])
    path = "/projects?limit=1"
    cursor = ok(owner.get(path))["next_cursor"]
    assert ok(owner.get(f"{path}&cursor={cursor}"))["items"]
    for replay in (f"{path}&customer_id={client['id']}", f"{path}&status=on_track", f"{path}&sort=risk",
                   f"{path}&include_archived=true", f"/customers/{client['id']}/projects?limit=1"):
        assert_problem(owner.get(f"{replay}&cursor={cursor}"), 400)
    for role in ("admin", "readonly"):
        assert_problem(fresh_tenant.as_(role).get(f"{path}&cursor={cursor}"), 400)


def test_a_bad_cursor_is_a_400(acme: Any) -> None:
    assert_problem(acme.as_("owner").get("/projects?cursor=bogus"), 400)


# ---------- the board status ----------


@pytest.mark.parametrize("status", STATUSES)
def test_in_manual_mode_a_person_sets_any_status_with_a_reason_and_it_is_kept(acme: Any, events: EventLog,
                                                                              status: str) -> None:
    api = acme.as_("owner")
    board = project(api, status_mode="manual", status="at_risk" if status != "at_risk" else "on_track",
                    status_reason="set at kickoff")
    changed = ok(api.patch(f"/projects/{board['id']}", {"version": 1, "status": status, "status_reason": "call"}))
    assert changed["status"] == status and changed["status_reason"] == "call"
    latest = ok(api.get(f"/projects/{board['id']}/status-history"))["items"][0]
    assert (latest["from_status"], latest["to_status"], latest["changed_by"], latest["reason"]) == (
        board["status"], status, acme.users["owner"], "call")
    assert events.of("Project.StatusChanged", project_id=board["id"], to=status)


def test_in_auto_mode_the_status_cannot_be_set_by_hand(acme: Any) -> None:
    board = project(acme.as_("owner"))
    answer = acme.as_("owner").patch(f"/projects/{board['id']}", {"version": 1, "status": "on_hold"})
    assert_problem(answer, 422, "status")


def test_a_status_set_by_hand_needs_a_reason(acme: Any) -> None:
    board = project(acme.as_("owner"), status_mode="manual", status="on_track", status_reason="kickoff")
    answer = acme.as_("owner").patch(f"/projects/{board['id']}", {"version": 1, "status": "delayed"})
    assert_problem(answer, 422, "status_reason")


def test_back_in_auto_mode_the_status_is_computed_at_once_and_recorded_as_auto(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api, start_date=day(-20), due_date=day(-2), status_mode="manual", status="on_track",
                    status_reason="trust me")
    task(api, board["id"])
    changed = ok(api.patch(f"/projects/{board['id']}", {"version": 1, "status_mode": "auto"}))
    assert changed["status"] == "delayed" and "due date" in changed["status_reason"]
    assert ok(api.get(f"/projects/{board['id']}/status-history"))["items"][0]["changed_by"] == "auto"


def test_the_auto_status_follows_the_tasks_overdue_blocked_and_done(acme: Any, events: EventLog) -> None:
    api = acme.as_("owner")
    board = project(api, start_date=day(-1), due_date=day(60))
    first, second = task(api, board["id"], due_date=day(30)), task(api, board["id"], due_date=day(40))
    for _ in range(3):
        task(api, board["id"], due_date=day(50))
    assert ok(api.get(f"/projects/{board['id']}"))["status"] == "on_track"
    move(api, first["id"], status="blocked")
    assert ok(api.get(f"/projects/{board['id']}"))["status"] == "at_risk"
    patch(api, second["id"], due_date=day(-1), start_date=day(-2))
    blocked_and_overdue = ok(api.get(f"/projects/{board['id']}"))
    assert blocked_and_overdue["status"] == "at_risk" and blocked_and_overdue["overdue_count"] == 1
    for item in ok(api.get(f"/tasks?project_id={board['id']}"))["items"]:
        move(api, item["id"], status="complete")
    finished = ok(api.get(f"/projects/{board['id']}"))
    assert finished["status"] == "complete" and finished["progress"] == 100
    history = [h["to_status"] for h in ok(api.get(f"/projects/{board['id']}/status-history"))["items"]]
    assert history[0] == "complete" and "at_risk" in history
    assert events.of("Project.StatusChanged", project_id=board["id"], to="complete", changed_by="auto")


def test_a_stale_version_changes_nothing(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    ok(api.patch(f"/projects/{board['id']}", {"version": 1, "name": "First"}))
    assert_problem(api.patch(f"/projects/{board['id']}", {"version": 1, "name": "Second"}), 409)
    assert ok(api.get(f"/projects/{board['id']}"))["name"] == "First"
    ok(api.patch(f"/projects/{board['id']}", {"name": "Third"}, headers={"If-Match": '"2"'}))


def test_columns_can_be_added_but_a_column_with_tasks_keeps_its_place_and_category(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    task(api, board["id"])
    statuses = board["task_statuses"]
    grown = ok(api.patch(f"/projects/{board['id']}", {"version": 1, "task_statuses": [
        *statuses[:-1], {"name": "qa", "category": "doing"}, statuses[-1]]}))
    assert [s["name"] for s in grown["task_statuses"]][-2:] == ["qa", "complete"]
    without_first = [s for s in grown["task_statuses"] if s["name"] != "not_started"]
    assert_problem(api.patch(f"/projects/{board['id']}", {"version": 2, "task_statuses": without_first}), 409)
    recategorised = [{**s, "category": "doing"} if s["name"] == "not_started" else s for s in grown["task_statuses"]]
    assert_problem(api.patch(f"/projects/{board['id']}", {"version": 2, "task_statuses": recategorised}), 409)


# ---------- archive ----------


def test_archiving_takes_the_project_and_its_tasks_out_of_every_list_but_keeps_them_readable(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api, due_date=day(-1))
    item = task(api, board["id"], due_date=day(-3), assignee_ids=[acme.users["owner"], acme.users["member"]])
    archived = ok(api.delete(f"/projects/{board['id']}"))
    assert archived["archived"] is True
    assert board["id"] not in ids(read_all(api, "/projects"))
    assert board["id"] in ids(read_all(api, f"/projects?include_archived=true&customer_id={board['customer_id']}"))
    assert item["id"] not in ids(read_all(api, "/tasks?overdue=true"))
    assert item["id"] not in ids(read_all(acme.as_("member"), "/tasks?assignee_id=me"))
    assert ok(api.get(f"/tasks/{item['id']}"))["id"] == item["id"]
    assert_problem(api.patch(f"/projects/{board['id']}", {"version": 2, "name": "X"}), 409)
    assert_problem(api.post(f"/projects/{board['id']}/tasks", {"title": "Late"}), 409)
    assert_problem(api.post(f"/tasks/{item['id']}/move", {"status": "complete"}), 409)
    assert ok(api.delete(f"/projects/{board['id']}"))["version"] == archived["version"]


# ---------- weekly counters ----------


def test_this_weeks_counters_count_created_completed_and_closed_late(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    on_time, late, reopened = (task(api, board["id"], due_date=day(offset)) for offset in (3, -3, 5))
    for item in (on_time, late, reopened):
        move(api, item["id"], status="complete")
    move(api, reopened["id"], status="in_progress")
    ok(api.delete(f"/tasks/{on_time['id']}"))
    week = ok(api.get(f"/projects/{board['id']}"))["this_week"]
    assert week == {"created": 3, "completed": 2, "overdue_at_close": 1}


# ---------- Kanban and Gantt ----------


def test_the_kanban_board_has_the_columns_in_order_and_tasks_by_position(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    first, second, third = (task(api, board["id"]) for _ in range(3))
    sub = task(api, board["id"], parent_id=first["id"])
    move(api, sub["id"], status="complete")
    move(api, third["id"], after_id=first["id"], before_id=second["id"])
    move(api, second["id"], status="in_progress")
    kanban = ok(api.get(f"/projects/{board['id']}/board"))
    assert [c["name"] for c in kanban["columns"]] == [s["name"] for s in board["task_statuses"]]
    assert column(kanban, "not_started") == [first["id"], third["id"]]
    assert column(kanban, "in_progress") == [second["id"]]
    card = kanban["columns"][0]["tasks"][0]
    assert (card["subtask_count"], card["subtasks_done"], card["progress"]) == (1, 1, 100)
    assert {c["name"]: c["count"] for c in kanban["columns"]}["complete"] == 1


def test_a_contractor_sees_only_their_own_tasks_and_their_activity_on_a_board_that_names_them(acme: Any) -> None:
    owner = acme.as_("owner")
    board = project(owner, member_ids=[acme.users["contractor"]])
    theirs = task(owner, board["id"], assignee_ids=[acme.users["contractor"]])
    task(owner, board["id"])
    kanban = ok(acme.as_("contractor").get(f"/projects/{board['id']}/board"))
    assert [t["id"] for c in kanban["columns"] for t in c["tasks"]] == [theirs["id"]]
    activity = read_all(acme.as_("contractor"), f"/projects/{board['id']}/activity")
    assert {entry["task_id"] for entry in activity} == {theirs["id"]}


def test_the_gantt_shows_dependencies_conflicts_and_the_critical_path(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    design = task(api, board["id"], start_date=day(0), due_date=day(4))
    build = task(api, board["id"], start_date=day(2), due_date=day(11), depends_on=[design["id"]])
    docs = task(api, board["id"], start_date=day(5), due_date=day(6), depends_on=[design["id"]])
    launch = task(api, board["id"], due_date=day(12), is_milestone=True, depends_on=[build["id"], docs["id"]])
    gantt = ok(api.get(f"/projects/{board['id']}/gantt"))
    assert gantt["critical_path"] == {"task_ids": [design["id"], build["id"], launch["id"]], "duration_days": 15}
    assert gantt["conflicts"] == [build["id"]]
    assert {(e["predecessor_id"], e["successor_id"]) for e in gantt["dependencies"]} == {
        (design["id"], build["id"]), (design["id"], docs["id"]), (build["id"], launch["id"]),
        (docs["id"], launch["id"])}
    milestone = ok(api.get(f"/projects/{board['id']}"))["next_milestone"]
    assert milestone["task_id"] == launch["id"] and milestone["due_date"] == day(12)


def test_board_and_gantt_send_descriptions_only_when_asked(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    described = task(api, board["id"], description="Long notes " * 100)
    for view in ("board", "gantt"):
        plain = ok(api.get(f"/projects/{board['id']}/{view}"))
        cards = plain["tasks"] if view == "gantt" else [t for c in plain["columns"] for t in c["tasks"]]
        assert [card["id"] for card in cards] == [described["id"]] and "description" not in cards[0]
        assert plain["next_cursor"] is None
        full = ok(api.get(f"/projects/{board['id']}/{view}?include=description"))
        cards = full["tasks"] if view == "gantt" else [t for c in full["columns"] for t in c["tasks"]]
        assert cards[0]["description"] == described["description"]
        assert_problem(api.get(f"/projects/{board['id']}/{view}?include=everything"), 422, "include")


def _envelope(response: Any) -> int:
    """The body's size as Lambda returns it (its compact JSON, as a string inside Lambda's JSON
    answer)."""
    return len(json.dumps(json.dumps(response.body, separators=(",", ":"))))


@pytest.mark.parametrize("view", ["board", "gantt"])
def test_no_board_or_gantt_response_passes_the_size_budget(acme: Any, monkeypatch: pytest.MonkeyPatch,
                                                            view: str) -> None:
    """With the budget shrunk to 150 KB, a board of 12 tasks with 10,000-character descriptions
    (non-ASCII: JSON escapes each character to 6 bytes, 60 KB a task, twice that in Lambda's
    answer) comes in pages that each fit, and together hold every task once with its links;
    at the real budget (5 MB, under Lambda's 6 MB) the same holds by the same arithmetic."""
    api = acme.as_("owner")
    board = project(api)
    made = [task(api, board["id"], description="é" * 10_000, start_date=day(n), due_date=day(n + 1))
            for n in range(12)]
    linked = task(api, board["id"], start_date=day(20), due_date=day(21), depends_on=[made[0]["id"], made[5]["id"]])
    monkeypatch.setattr(pagination, "RESPONSE_BUDGET", 150_000)
    seen, links, cursor, pages, first_cursor = [], set(), None, 0, None
    while True:
        path = f"/projects/{board['id']}/{view}?include=description"
        response = api.get(path + (f"&cursor={cursor}" if cursor else ""))
        body = ok(response)
        assert _envelope(response) <= 150_000
        cards = body["tasks"] if view == "gantt" else [t for c in body["columns"] for t in c["tasks"]]
        assert all(card["description"] for card in cards if card["id"] != linked["id"])
        seen += [card["id"] for card in cards]
        links |= {(e["predecessor_id"], e["successor_id"]) for e in body.get("dependencies", [])}
        pages, cursor = pages + 1, body["next_cursor"]
        first_cursor = first_cursor or cursor
        if not cursor:
            break
    assert pages > 1 and sorted(seen) == sorted([t["id"] for t in made] + [linked["id"]])
    if view == "gantt":
        assert links == {(made[0]["id"], linked["id"]), (made[5]["id"], linked["id"])}
    assert api.get(f"/projects/{board['id']}/{'gantt' if view == 'board' else 'board'}?cursor={cursor or ''}x").status \
        in (200, 400)


# ---------- creating with tasks (the service the templates room calls) ----------


def _specs(count: int) -> list[dict[str, Any]]:
    specs = [{"key": "parent", "title": "Parent", "weight": 4, "start_date": day(0), "due_date": day(3)}]
    specs += [{"key": f"t{n}", "title": f"Step {n}", "parent_key": "parent" if n < 3 else None,
               "depends_on": [f"t{n - 1}"] if n > 3 else [], "start_date": day(n), "due_date": day(n + 1)}
              for n in range(count - 1)]
    return specs


def test_a_project_too_big_for_one_transaction_is_written_hidden_in_batches_then_revealed(acme: Any) -> None:
    with tenant_scope(acme.tenant_id):
        client = customer(acme.as_("owner"))
        made, task_ids = service.create_project_with_tasks(
            acme.principal("owner"), client["id"], {"name": unique("Big ")}, _specs(120), template_id="tmpl-1")
    api = acme.as_("owner")
    shown = ok(api.get(f"/projects/{made.id}"))
    assert shown["task_count"] == 120 and shown["template_id"] == "tmpl-1"
    assert len(ids(read_all(api, f"/tasks?project_id={made.id}", limit=200))) == 120
    parent = ok(api.get(f"/tasks/{task_ids['parent']}"))
    assert parent["subtask_count"] == 3 and ok(api.get(f"/tasks/{task_ids['t5']}"))["depends_on"] == [task_ids["t4"]]
    assert made.id in ids(read_all(api, "/projects?template_id=tmpl-1"))


def test_a_project_still_being_provisioned_is_invisible_everywhere(acme: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(service, "_show", lambda principal, project, build, events: project)  # written, not yet shown
    with tenant_scope(acme.tenant_id):
        client = customer(acme.as_("owner"))
        made, task_ids = service.create_project_with_tasks(acme.principal("owner"), client["id"], {"name": "Hidden"},
                                                           _specs(120))
    api = acme.as_("owner")
    assert made.provisioning is True
    for path in (f"/projects/{made.id}", f"/projects/{made.id}/board", f"/projects/{made.id}/gantt",
                 f"/tasks/{task_ids['t7']}"):
        assert_problem(api.get(path), 404)
    assert read_all(api, f"/customers/{client['id']}/projects") == []
    assert read_all(api, f"/tasks?customer_id={client['id']}") == []
    assert read_all(api, f"/tasks?project_id={made.id}") == []
    assert not set(task_ids.values()) & set(ids(read_all(api, "/tasks", limit=200)))
    assert made.id not in ids(read_all(api, "/projects", limit=200))
    assert_problem(api.post(f"/projects/{made.id}/tasks", {"title": "Too early"}), 404)


def test_task_specs_with_a_cycle_or_an_unknown_key_are_refused(acme: Any) -> None:
    with tenant_scope(acme.tenant_id):
        client = customer(acme.as_("owner"))
        cyclic = [{"key": "a", "title": "A", "depends_on": ["b"]}, {"key": "b", "title": "B", "depends_on": ["a"]}]
        with pytest.raises(Exception, match="cycle"):
            service.create_project_with_tasks(acme.principal("owner"), client["id"], {"name": "C"}, cyclic)
        unknown = [{"key": "a", "title": "A", "parent_key": "zzz"}]
        with pytest.raises(Exception, match="zzz"):
            service.create_project_with_tasks(acme.principal("owner"), client["id"], {"name": "U"}, unknown)


def test_a_name_that_reads_like_a_key_is_only_a_name(acme: Any) -> None:
    """The tenant guard inspects key attributes only: a project renamed `T#<another tenant>#...`
    is an ordinary UpdateItem, not an isolation violation (and not a 500)."""
    api = acme.as_("owner")
    board = project(api)
    renamed = ok(api.patch(f"/projects/{board['id']}", {"version": board["version"], "name": "T#globex#PROJECT#1"}))
    assert renamed["name"] == "T#globex#PROJECT#1"
    assert api.get(f"/projects/{board['id']}").json["name"] == "T#globex#PROJECT#1"
