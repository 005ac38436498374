"""Tasks through the API: creating, changing (version-checked), moving, completing, deleting and
bulk-updating them; subtasks and dependencies; the Table view; the activity log — and who may
do which."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from foundation_helpers import EventLog, assert_problem
from work_helpers import column, customer, day, ids, move, ok, patch, project, read_all, task


@pytest.fixture(scope="module")
def events(aws: Any) -> Iterator[EventLog]:
    with EventLog.on_bus("work-task-events") as log:
        yield log


@pytest.fixture(scope="module")
def board(acme: Any) -> dict[str, Any]:
    """A project in acme, named for the contractor, on a customer the member owns."""
    owner = acme.as_("owner")
    client = customer(owner, owner_id=acme.users["member"])
    return project(owner, client["id"], member_ids=[acme.users["contractor"]])


def every_transition(statuses: list[str]) -> list[str]:
    """A walk from the first status taking every move from one status to another exactly once
    (an Eulerian circuit of the complete directed graph)."""
    moves = {status: [other for other in statuses if other != status] for status in statuses}
    stack, walk = [statuses[0]], []
    while stack:
        if moves[stack[-1]]:
            stack.append(moves[stack[-1]].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


# ---------- create and read ----------


def test_a_task_starts_in_the_first_column_with_defaults_and_is_logged(acme: Any, board: Any,
                                                                       events: EventLog) -> None:
    api = acme.as_("owner")
    created = task(api, board["id"], description="Say hello", due_date=day(3), tags=["kickoff"], task_type="qbr",
                   portal_visible=True, portal_status="in_progress", portal_due_date=day(5))
    assert (created["status"], created["status_category"], created["priority"], created["weight"]) == (
        "not_started", "todo", "normal", 1)
    assert created["customer_id"] == board["customer_id"] and created["position"]
    assert (created["portal_status"], created["portal_due_date"]) == ("in_progress", day(5))
    assert ok(api.get(f"/tasks/{created['id']}")) == created
    activity = ok(api.get(f"/tasks/{created['id']}/activity"))["items"]
    assert activity[0]["kinds"] == ["created"] and activity[0]["actor_id"] == acme.users["owner"]
    assert events.of("Task.Created", task_id=created["id"], project_id=board["id"])


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "someday"}, "status"),
    ({"portal_status": "someday"}, "portal_status"),
    ({"start_date": "2026-05-02", "due_date": "2026-05-01"}, "due_date"),
    ({"priority": "asap"}, "priority"),
    ({"weight": -1}, "weight"),
    ({"assignee_ids": ["not-a-user"]}, "assignee_ids"),
    ({"parent_id": "missing"}, "parent_id"),
    ({"depends_on": ["missing"]}, "depends_on"),
    ({"completed_at": "2026-01-01T00:00:00Z"}, "completed_at"),
])
def test_a_task_that_breaks_a_rule_is_refused_naming_the_field(acme: Any, board: Any, body: dict[str, Any],
                                                                field: str) -> None:
    assert_problem(acme.as_("owner").post(f"/projects/{board['id']}/tasks", {"title": "Bad", **body}), 422, field)


def test_a_parent_or_predecessor_in_another_project_is_refused(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    elsewhere = task(api, project(api)["id"])
    for field in ("parent_id", "depends_on"):
        value = elsewhere["id"] if field == "parent_id" else [elsewhere["id"]]
        assert_problem(api.post(f"/projects/{board['id']}/tasks", {"title": "X", field: value}), 422, field)


def test_subtasks_go_one_level_deep(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    parent = task(api, board["id"])
    child = task(api, board["id"], parent_id=parent["id"])
    answer = api.post(f"/projects/{board['id']}/tasks", {"title": "Grandchild", "parent_id": child["id"]})
    assert_problem(answer, 422, "parent_id")
    assert_problem(api.patch(f"/tasks/{parent['id']}", {"version": 1, "parent_id": task(api, board["id"])["id"]}),
                   422, "parent_id")


def test_another_tenant_cannot_reach_a_task(acme: Any, globex: Any, board: Any) -> None:
    item = task(acme.as_("owner"), board["id"])
    other = globex.as_("owner")
    assert_problem(other.get(f"/tasks/{item['id']}"), 404)
    assert_problem(other.patch(f"/tasks/{item['id']}", {"version": 1, "title": "Mine"}), 404)
    assert_problem(other.post(f"/tasks/{item['id']}/move", {"status": "complete"}), 404)
    assert_problem(other.delete(f"/tasks/{item['id']}"), 404)
    assert_problem(other.post(f"/projects/{board['id']}/tasks", {"title": "In"}), 404)
    assert item["id"] not in ids(read_all(other, "/tasks"))


# ---------- change ----------


def test_a_change_is_version_checked_and_a_stale_one_changes_nothing(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    item = task(api, board["id"])
    ok(api.patch(f"/tasks/{item['id']}", {"version": 1, "title": "First"}))
    assert_problem(api.patch(f"/tasks/{item['id']}", {"version": 1, "title": "Second"}), 409)
    assert ok(api.get(f"/tasks/{item['id']}"))["title"] == "First"
    assert ok(api.patch(f"/tasks/{item['id']}", {"priority": "urgent"}, headers={"If-Match": "2"}))["version"] == 3
    assert_problem(api.patch(f"/tasks/{item['id']}", {"title": "No version"}), 422, "version")


def test_every_status_can_move_to_every_other_and_completion_follows_the_category(acme: Any, board: Any,
                                                                                  events: EventLog) -> None:
    api = acme.as_("owner")
    item = task(api, board["id"])
    names = [status["name"] for status in board["task_statuses"]]
    walk = every_transition(names)
    assert set(itertools.pairwise(walk)) == set(itertools.permutations(names, 2)) and len(walk) == 31
    for source, target in itertools.pairwise(walk):
        moved = move(api, item["id"], status=target)
        assert moved["status"] == target, (source, target)
        assert (moved["completed_at"] is not None) == (target == "complete")
    assert events.of("Task.Completed", task_id=item["id"])
    assert events.of("Task.StatusChanged", task_id=item["id"], to="complete")
    kinds = [entry["kinds"] for entry in read_all(api, f"/tasks/{item['id']}/activity", limit=200)]
    assert ["status_changed", "completed", "moved"] in kinds and ["status_changed", "reopened", "moved"] in kinds


def test_a_move_to_a_status_the_project_lacks_is_refused(acme: Any, board: Any) -> None:
    item = task(acme.as_("owner"), board["id"])
    assert_problem(acme.as_("owner").post(f"/tasks/{item['id']}/move", {"status": "done"}), 422, "status")
    assert_problem(acme.as_("owner").post(f"/tasks/{item['id']}/move", {}), 422)


def test_a_parent_completes_only_when_its_subtasks_are_done_unless_forced(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    parent = task(api, board["id"], weight=4)
    first = task(api, board["id"], parent_id=parent["id"], weight=1)
    task(api, board["id"], parent_id=parent["id"], weight=3)
    assert_problem(api.post(f"/tasks/{parent['id']}/move", {"status": "complete"}), 409)
    move(api, first["id"], status="complete")
    assert ok(api.get(f"/tasks/{parent['id']}"))["progress"] == 25.0
    forced = move(api, parent["id"], status="complete", force=True)
    assert forced["status"] == "complete" and forced["progress"] == 100


def test_weighted_progress_counts_subtasks_through_their_parent(fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    board = project(api)
    parent = task(api, board["id"], weight=4)
    small = task(api, board["id"], parent_id=parent["id"], weight=1)
    task(api, board["id"], parent_id=parent["id"], weight=3)
    other = task(api, board["id"], weight=4)
    move(api, small["id"], status="complete")
    assert ok(api.get(f"/projects/{board['id']}"))["progress"] == 12.5  # 4 * 1/4 of 8
    move(api, other["id"], status="complete")
    assert ok(api.get(f"/projects/{board['id']}"))["progress"] == 62.5
    patch(api, parent["id"], weight=12)
    assert ok(api.get(f"/projects/{board['id']}"))["progress"] == 43.8  # (3 + 4) / 16


# ---------- dependencies ----------


def test_a_dependency_cycle_is_refused_naming_the_cycle(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    first = task(api, board["id"])
    second = task(api, board["id"], depends_on=[first["id"]])
    third = task(api, board["id"], depends_on=[second["id"]])
    answer = api.patch(f"/tasks/{first['id']}", {"version": 1, "depends_on": [third["id"]]})
    problem = assert_problem(answer, 422, "depends_on")
    assert all(t["id"] in problem["detail"] for t in (first, second, third)) and "cycle" in problem["detail"]
    assert_problem(api.patch(f"/tasks/{first['id']}", {"version": 1, "depends_on": [first["id"]]}), 422, "depends_on")


def test_starting_before_a_predecessor_is_due_is_flagged_and_no_date_moves(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    design = task(api, board["id"], start_date=day(0), due_date=day(5))
    build = task(api, board["id"], start_date=day(3), due_date=day(9), depends_on=[design["id"]])
    assert build["dependency_conflict"] is True and build["start_date"] == day(3)
    patch(api, design["id"], due_date=day(2))
    cleared = ok(api.get(f"/tasks/{build['id']}"))
    assert cleared["dependency_conflict"] is False and cleared["start_date"] == day(3)
    patch(api, build["id"], start_date=day(1))
    assert ok(api.get(f"/tasks/{build['id']}"))["dependency_conflict"] is True


def test_deleting_a_task_others_depend_on_removes_the_links_and_says_so(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    first = task(api, board["id"], due_date=day(4))
    second = task(api, board["id"], start_date=day(1), depends_on=[first["id"]])
    answer = ok(api.delete(f"/tasks/{first['id']}"))
    assert answer == {"id": first["id"], "removed_dependencies": [{"task_id": second["id"],
                                                                    "depended_on": first["id"]}]}
    survivor = ok(api.get(f"/tasks/{second['id']}"))
    assert survivor["depends_on"] == [] and survivor["dependency_conflict"] is False
    assert_problem(api.get(f"/tasks/{first['id']}"), 404)


def test_a_task_with_subtasks_cannot_be_deleted(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    parent = task(api, board["id"])
    task(api, board["id"], parent_id=parent["id"])
    assert_problem(api.delete(f"/tasks/{parent['id']}"), 409)


# ---------- positions ----------


def test_a_task_moves_between_two_neighbours_and_to_the_bottom_of_another_column(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    first, second, third = (task(api, board["id"]) for _ in range(3))
    move(api, third["id"], after_id=first["id"], before_id=second["id"])
    move(api, first["id"], before_id=third["id"])
    kanban = ok(api.get(f"/projects/{board['id']}/board"))
    assert column(kanban, "not_started") == [first["id"], third["id"], second["id"]]
    move(api, second["id"], status="in_review")
    move(api, first["id"], status="in_review")
    kanban = ok(api.get(f"/projects/{board['id']}/board"))
    assert column(kanban, "in_review") == [second["id"], first["id"]]


def test_a_neighbour_from_another_column_or_out_of_order_is_refused(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    first, second, third = (task(api, board["id"]) for _ in range(3))
    elsewhere = move(api, task(api, board["id"])["id"], status="blocked")
    assert_problem(api.post(f"/tasks/{first['id']}/move", {"after_id": elsewhere["id"]}), 422, "after_id")
    assert_problem(api.post(f"/tasks/{first['id']}/move", {"after_id": third["id"], "before_id": second["id"]}),
                   409)


def test_concurrent_moves_in_one_column_never_lose_a_task_or_share_a_position(fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    board = project(api)
    cards = [task(api, board["id"])["id"] for _ in range(8)]
    top, bottom = cards[0], cards[1]
    movers = cards[2:]

    def drop(task_id: str) -> int:
        # Every mover aims for the same gap, computed from the same (soon stale) board.
        return api.post(f"/tasks/{task_id}/move", {"after_id": top, "before_id": bottom}).status

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(drop, movers))
    assert set(statuses) == {200}
    kanban = ok(api.get(f"/projects/{board['id']}/board"))
    order = column(kanban, "not_started")
    assert sorted(order) == sorted(cards)
    assert order[0] == top and order[-1] == bottom
    positions = [t["position"] for c in kanban["columns"] for t in c["tasks"]]
    assert len(set(positions)) == len(positions) == len(cards)


def test_assignee_and_due_date_changes_are_published_with_the_change(fresh_tenant: Any, events: EventLog) -> None:
    api, member, owner = fresh_tenant.as_("owner"), fresh_tenant.users["member"], fresh_tenant.users["owner"]
    board = project(api)
    item = task(api, board["id"], assignee_ids=[owner], due_date=day(3))
    patch(api, item["id"], title="Renamed")  # neither moves: no event
    patch(api, item["id"], assignee_ids=[owner, member], due_date=day(5))
    patch(api, item["id"], due_date=None)
    other = task(api, board["id"])
    ok(api.post(f"/projects/{board['id']}/tasks/bulk", {"updates": [
        {"task_id": item["id"], "assignee_ids": [member]}, {"task_id": other["id"], "due_date": day(1)}]}))
    seen = [(e["detail-type"], e["detail"]["data"]) for e in events.drain()
            if e["detail"]["data"].get("task_id") in (item["id"], other["id"])
            and e["detail-type"] in ("Task.Assigned", "Task.DueDateChanged")]
    common = {"project_id": board["id"], "customer_id": board["customer_id"]}
    assert sorted(seen, key=str) == sorted([
        ("Task.Assigned", {**common, "task_id": item["id"], "before": [owner], "after": [owner, member],
                           "added": [member], "removed": []}),
        ("Task.DueDateChanged", {**common, "task_id": item["id"], "before": day(3), "after": day(5),
                                 "replanned": False}),
        ("Task.DueDateChanged", {**common, "task_id": item["id"], "before": day(5), "after": None,
                                 "replanned": False}),
        ("Task.Assigned", {**common, "task_id": item["id"], "before": [owner, member], "after": [member],
                           "added": [], "removed": [owner]}),
        ("Task.DueDateChanged", {**common, "task_id": other["id"], "before": None, "after": day(1),
                                 "replanned": False}),
    ], key=str)


# ---------- bulk ----------


def test_a_bulk_update_of_forty_tasks_is_one_change_with_an_activity_entry_each(fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    board = project(api)
    items = [task(api, board["id"], due_date=day(-2)) for _ in range(40)]
    updates = [{"task_id": t["id"], "status": "complete", "assignee_ids": [fresh_tenant.users["member"]],
                "due_date": day(1)} for t in items]
    answer = ok(api.post(f"/projects/{board['id']}/tasks/bulk", {"updates": updates}))
    assert {t["status"] for t in answer["items"]} == {"complete"}
    shown = ok(api.get(f"/projects/{board['id']}"))
    assert (shown["progress"], shown["counts"], shown["this_week"]["completed"]) == (100, {"complete": 40}, 40)
    assert shown["this_week"]["overdue_at_close"] == 0
    activity = read_all(api, f"/projects/{board['id']}/activity", limit=200)
    assert sum("completed" in entry["kinds"] and "assigned" in entry["kinds"] for entry in activity) == 40


def test_a_bulk_update_is_all_or_nothing(acme: Any, board: Any) -> None:
    api = acme.as_("owner")
    good, other = task(api, board["id"]), task(api, board["id"])
    bad = [{"task_id": good["id"], "status": "in_progress"}, {"task_id": other["id"], "status": "nowhere"}]
    assert_problem(api.post(f"/projects/{board['id']}/tasks/bulk", {"updates": bad}), 422, "status")
    stale = [{"task_id": good["id"], "status": "in_progress"}, {"task_id": other["id"], "version": 7,
                                                               "status": "in_progress"}]
    assert_problem(api.post(f"/projects/{board['id']}/tasks/bulk", {"updates": stale}), 409)
    assert ok(api.get(f"/tasks/{good['id']}"))["status"] == "not_started"


@pytest.mark.parametrize(("body", "field"), [
    ({"updates": [{"task_id": f"t{n}", "status": "complete"} for n in range(41)]}, "updates"),
    ({"updates": []}, "updates"),
    ({"updates": [{"task_id": "a", "status": "complete"}, {"task_id": "a", "status": "complete"}]}, "updates"),
    ({"updates": [{"task_id": "a", "title": "No"}]}, "updates.0.title"),
    ({"updates": [{"task_id": "a"}]}, "updates.0"),
    ({"updates": [{"task_id": "nope", "status": "complete"}]}, "updates.0.task_id"),
])
def test_a_bulk_update_that_breaks_a_rule_is_refused(acme: Any, board: Any, body: dict[str, Any],
                                                     field: str) -> None:
    assert_problem(acme.as_("owner").post(f"/projects/{board['id']}/tasks/bulk", body), 422, field)


# ---------- the table view ----------


def test_my_overdue_tasks_across_every_board_is_one_list(fresh_tenant: Any) -> None:
    api, me = fresh_tenant.as_("owner"), fresh_tenant.users["member"]
    first, second = project(api), project(api)
    late = task(api, first["id"], due_date=day(-3), assignee_ids=[me])
    shared = task(api, second["id"], due_date=day(-1), assignee_ids=[fresh_tenant.users["owner"], me])
    task(api, second["id"], due_date=day(2), assignee_ids=[me])
    done = task(api, first["id"], due_date=day(-5), assignee_ids=[me])
    move(api, done["id"], status="complete")
    unassigned = task(api, first["id"], due_date=day(-4))
    member = fresh_tenant.as_("member")
    assert ids(read_all(member, "/tasks?assignee_id=me&overdue=true")) == [late["id"], shared["id"]]
    assert len(read_all(member, "/tasks?assignee_id=me")) == 4
    assert ids(read_all(api, "/tasks?overdue=true", limit=1)) == [unassigned["id"], late["id"], shared["id"]]


def test_the_table_filters_by_project_customer_category_priority_tag_and_due_range(fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    client = customer(api)
    board, other = project(api, client["id"]), project(api)
    urgent = task(api, board["id"], priority="urgent", tags=["vip"], due_date=day(10))
    doing = move(api, task(api, board["id"], due_date=day(3))["id"], status="in_progress")
    finished = move(api, task(api, board["id"], due_date=day(1))["id"], status="complete")
    elsewhere = task(api, other["id"], priority="urgent")
    assert ids(read_all(api, f"/tasks?project_id={board['id']}")) == [doing["id"], urgent["id"], finished["id"]]
    assert ids(read_all(api, f"/tasks?customer_id={client['id']}&status_category=doing")) == [doing["id"]]
    assert ids(read_all(api, "/tasks?status_category=done")) == [finished["id"]]
    assert ids(read_all(api, "/tasks?priority=urgent")) == [urgent["id"], elsewhere["id"]]
    assert ids(read_all(api, "/tasks?tag=vip")) == [urgent["id"]]
    assert ids(read_all(api, f"/tasks?due_after={day(2)}&due_before={day(10)}")) == [doing["id"], urgent["id"]]
    by_priority = ids(read_all(api, f"/tasks?project_id={board['id']}&sort=priority", limit=1))
    assert by_priority[0] == urgent["id"] and set(by_priority) == {urgent["id"], doing["id"], finished["id"]}


def test_a_due_range_that_ends_before_it_starts_is_a_422_naming_the_field(fresh_tenant: Any) -> None:
    refused = fresh_tenant.as_("owner").get("/tasks?due_after=2000-01-01&due_before=1999-01-01")
    assert refused.status == 422, refused.body
    assert [e["field"] for e in refused.body["errors"]] == ["due_after"]


# ---------- who may do what ----------


def test_a_contractor_works_only_on_their_own_tasks_and_only_their_status_and_dates(acme: Any, board: Any) -> None:
    owner, contractor = acme.as_("owner"), acme.as_("contractor")
    theirs = task(owner, board["id"], assignee_ids=[acme.users["contractor"]])
    someone_elses = task(owner, board["id"], assignee_ids=[acme.users["member"]])
    assert ok(contractor.get(f"/tasks/{theirs['id']}"))["id"] == theirs["id"]
    assert_problem(contractor.get(f"/tasks/{someone_elses['id']}"), 404)
    assert_problem(contractor.patch(f"/tasks/{someone_elses['id']}", {"version": 1, "due_date": day(9)}), 404)
    changed = ok(contractor.patch(f"/tasks/{theirs['id']}", {"version": 1, "status": "in_progress",
                                                             "due_date": day(9)}))
    assert (changed["status"], changed["due_date"]) == ("in_progress", day(9))
    assert_problem(contractor.patch(f"/tasks/{theirs['id']}", {"version": 2, "title": "Mine now"}), 403)
    ok(contractor.post(f"/tasks/{theirs['id']}/move", {"status": "in_review"}))
    assert_problem(contractor.post(f"/projects/{board['id']}/tasks", {"title": "No"}), 403)
    assert_problem(contractor.delete(f"/tasks/{theirs['id']}"), 403)
    listed = ids(read_all(contractor, "/tasks"))
    assert theirs["id"] in listed and someone_elses["id"] not in listed


@pytest.mark.parametrize("side", ["after_id", "before_id"])
def test_a_contractor_cannot_place_a_task_next_to_one_it_cannot_see(acme: Any, board: Any, side: str) -> None:
    """A neighbour the contractor does not see answers exactly as one that does not exist: the
    move would otherwise prove the hidden task is there (and where it sits)."""
    owner, contractor = acme.as_("owner"), acme.as_("contractor")
    theirs = task(owner, board["id"], assignee_ids=[acme.users["contractor"]])
    unseen = task(owner, board["id"])
    absent = contractor.post(f"/tasks/{theirs['id']}/move", {side: "01hzzzzzzzzzzzzzzzzzzzzzzz"})
    hidden = contractor.post(f"/tasks/{theirs['id']}/move", {side: unseen["id"]})
    assert_problem(hidden, absent.status, side)
    assert absent.status == 422 and hidden.json["detail"] == absent.json["detail"].replace(
        "01hzzzzzzzzzzzzzzzzzzzzzzz", unseen["id"])
    assert ok(owner.get(f"/tasks/{theirs['id']}"))["version"] == theirs["version"]
    ok(owner.post(f"/tasks/{theirs['id']}/move", {side: unseen["id"]}))  # the owner sees both


def test_a_member_sees_tasks_of_their_customers_and_tasks_assigned_to_them(acme: Any, board: Any) -> None:
    owner, member = acme.as_("owner"), acme.as_("member")
    mine = task(owner, board["id"])
    outside = project(owner)
    assigned = task(owner, outside["id"], assignee_ids=[acme.users["member"]])
    hidden = task(owner, outside["id"])
    assert ok(member.get(f"/tasks/{mine['id']}"))["id"] == mine["id"]
    assert ok(member.get(f"/tasks/{assigned['id']}"))["id"] == assigned["id"]
    assert_problem(member.get(f"/tasks/{hidden['id']}"), 404)
    listed = ids(read_all(member, "/tasks", limit=200))
    assert mine["id"] in listed and hidden["id"] not in listed
    ok(member.patch(f"/tasks/{mine['id']}", {"version": 1, "title": "Member edit"}))


def test_readonly_reads_tasks_and_changes_none_and_portal_reaches_none(acme: Any, board: Any) -> None:
    item = task(acme.as_("owner"), board["id"])
    assert ok(acme.as_("readonly").get(f"/tasks/{item['id']}"))["id"] == item["id"]
    assert_problem(acme.as_("readonly").patch(f"/tasks/{item['id']}", {"version": 1, "title": "No"}), 403)
    assert_problem(acme.as_("portal").get(f"/tasks/{item['id']}"), 403)
    assert_problem(acme.as_("portal").get("/tasks"), 403)


# ---------- the activity log ----------


def test_the_project_activity_is_newest_first_and_paged(acme: Any) -> None:
    api = acme.as_("owner")
    board = project(api)
    item = task(api, board["id"])
    patch(api, item["id"], assignee_ids=[acme.users["member"]])
    patch(api, item["id"], start_date=day(1), due_date=day(2))
    move(api, item["id"], status="complete")
    entries = read_all(api, f"/projects/{board['id']}/activity", limit=1)
    # The done column was empty: the task keeps its rank there, so nothing says "moved".
    assert [e["kinds"] for e in entries] == [["status_changed", "completed"], ["dates_changed"], ["assigned"],
                                             ["created"]]
    assert entries[2]["changes"]["assignee_ids"] == {"from": [], "to": [acme.users["member"]]}
    assert ids(read_all(api, f"/tasks/{item['id']}/activity", limit=2)) == ids(entries)


def test_a_time_estimate_too_small_for_the_table_is_stored_to_six_decimals(acme: Any, board: Any) -> None:
    """DynamoDB numbers stop at 1e-130: 2.8e-192 (found by schemathesis) was a 500."""
    owner = acme.as_("owner")
    tiny = task(owner, board["id"], time_estimate=2.8e-192)
    assert ok(owner.get(f"/tasks/{tiny['id']}"))["time_estimate"] == 0.0
    assert task(owner, board["id"], time_estimate=1.25)["time_estimate"] == 1.25


# ---------- lists: bounded work and cursors bound to their query ----------


def _counting_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every DynamoDB Query the app makes, by index (PynamoDB's one entry point for Query)."""
    from pynamodb.connection.base import Connection

    made: list[str] = []
    original = Connection.query

    def query(self: Any, table_name: str, hash_key: str, *args: Any, **kwargs: Any) -> Any:
        made.append(str(kwargs.get("index_name")))
        return original(self, table_name, hash_key, *args, **kwargs)

    monkeypatch.setattr(Connection, "query", query)
    return made


def test_a_filter_that_matches_nothing_answers_short_pages_of_bounded_work(fresh_tenant: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core import table

    api = fresh_tenant.as_("owner")
    board = project(api)
    made = [task(api, board["id"], tags=["kept" if n % 2 else "other"], due_date=day(n)) for n in range(14)]
    monkeypatch.setattr(table, "READ_AHEAD", 2, raising=False)  # a Query reads 2 items: 14 need 7
    queries = _counting_queries(monkeypatch)
    pages, cursor = 0, None
    while True:
        before = len(queries)
        page = ok(api.get(f"/tasks?project_id={board['id']}&tag=nomatch&limit=2" +
                          (f"&cursor={cursor}" if cursor else "")))
        assert page["items"] == [] and len(queries) - before <= 3
        pages, cursor = pages + 1, page["next_cursor"]
        if not cursor:
            break
    assert pages >= 3  # the partition was walked over several short pages, never in one request
    # A Query reading ahead finds more than a page holds: the next page continues after the last one kept.
    monkeypatch.setattr(table, "READ_AHEAD", 6)
    kept = read_all(api, f"/tasks?project_id={board['id']}&tag=kept", limit=2)
    assert ids(kept) == [t["id"] for n, t in enumerate(made) if n % 2]


def test_a_tasks_cursor_is_refused_with_another_filter_sort_project_or_reader(fresh_tenant: Any) -> None:
    owner = fresh_tenant.as_("owner")
    board, other = project(owner), project(owner)
    for _ in range(3):
        task(owner, board["id"], tags=["a"])
        task(owner, other["id"], tags=["a"])
    path = f"/tasks?project_id={board['id']}&limit=1"
    cursor = ok(owner.get(path))["next_cursor"]
    assert ok(owner.get(f"{path}&cursor={cursor}"))["items"]
    for replay in (f"{path}&tag=a", f"{path}&sort=priority", f"/tasks?project_id={other['id']}&limit=1",
                   "/tasks?limit=1", f"{path}&overdue=true"):
        assert_problem(owner.get(f"{replay}&cursor={cursor}"), 400)
    for role in ("admin", "readonly"):
        assert_problem(fresh_tenant.as_(role).get(f"{path}&cursor={cursor}"), 400)
