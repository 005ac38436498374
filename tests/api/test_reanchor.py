"""Re-anchoring a template-made project: untouched incomplete tasks move to their Day from the
new anchor, tasks a person re-dated stay (unless include_edited), completed tasks never move;
projects following contract_start re-anchor themselves on Customer.Updated, once per change."""

import pytest
from chalicelib.core.scope import tenant_scope

from tests.api.foundation_helpers import assert_problem
from tests.api.templating import (
    applied,
    create_customer,
    create_template,
    gantt_by_key,
    sample_event,
    second_commit_fails,
)


@pytest.fixture(scope="module")
def template(acme):
    return create_template(acme.as_("owner"))


def set_task(api, task, **changes):
    response = api.patch(f"/tasks/{task['id']}", {"version": task["version"], **changes})
    assert response.status == 200, response.body
    return response.json


def test_reanchoring_moves_untouched_tasks_and_leaves_edited_and_completed_ones(acme, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    tasks = gantt_by_key(api, result)
    set_task(api, tasks["import"], start_date="2026-06-20", due_date="2026-06-22")  # a person re-dated it
    set_task(api, tasks["prep"], status="complete")
    moved = api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": "2026-06-19"})
    assert moved.status == 200, moved.body
    assert {m["key"]: m["to"]["start_date"] for m in moved.json["moved"]} == {
        "kickoff": "2026-06-21", "agenda": "2026-06-21", "go-live": "2026-07-02"}
    assert [(k["key"], k["reason"]) for k in moved.json["kept"]] == [("import", "dates edited by a person")]
    assert moved.json["anchor"] == {"source": "date", "date": "2026-06-19"}
    after = gantt_by_key(api, result)
    assert after["prep"]["start_date"] == "2026-06-10"  # completed: never moves
    assert after["import"]["start_date"] == "2026-06-20"
    assert after["go-live"]["start_date"] == "2026-07-02"


def test_include_edited_moves_re_dated_tasks_too(acme, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    set_task(api, gantt_by_key(api, result)["import"], start_date="2026-06-20", due_date="2026-06-22")
    moved = api.post(f"/projects/{result['project']['id']}/reanchor",
                     {"anchor_date": "2026-07-01", "include_edited": True})
    assert moved.status == 200, moved.body
    assert {m["key"]: (m["to"]["start_date"], m["to"]["due_date"]) for m in moved.json["moved"]}["import"] == (
        "2026-07-04", "2026-07-06")
    assert moved.json["kept"] == []


def test_a_task_moved_by_reanchoring_still_counts_as_untouched(acme, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": "2026-06-15"})
    again = api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": "2026-06-12"})
    assert again.json["kept"] == [] and len(again.json["moved"]) == 5


def test_a_project_not_made_from_a_template_cannot_be_reanchored(acme):
    api = acme.as_("owner")
    project = api.post(f"/customers/{create_customer(api)['id']}/projects", {"name": "By hand"}).json
    assert_problem(api.post(f"/projects/{project['id']}/reanchor", {"anchor_date": "2026-06-12"}), 409)


def test_reanchor_needs_a_date(acme, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"])
    assert_problem(api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": "June"}), 422,
                   "anchor_date")


@pytest.mark.parametrize("role", ["contractor", "readonly", "portal"])
def test_roles_that_may_not_reanchor_are_refused(acme, template, role):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"])
    assert_problem(acme.as_(role).post(f"/projects/{result['project']['id']}/reanchor",
                                       {"anchor_date": "2026-06-19"}), 403)


def test_another_tenants_project_is_not_found(acme, globex, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"])
    assert_problem(globex.as_("owner").post(f"/projects/{result['project']['id']}/reanchor",
                                            {"anchor_date": "2026-06-19"}), 404)


def customer_updated(http, world, customer, version, before, after):
    """Deliver a Customer.Updated event to the templates handler, as EventBridge would."""
    event = sample_event("customer-updated.json", tenant_id=world.tenant_id, customer_id=customer["id"],
                         version=version, changes={"contract_start": {"before": before, "after": after}})
    return http.lambda_.invoke("templates_follow_contract_start", event)


def test_following_projects_reanchor_when_contract_start_changes_once_per_change(acme, http, template):
    api = acme.as_("owner")
    customer = create_customer(api, contract_start="2026-06-12")
    follower = applied(api, template["id"], customer["id"], {"source": "contract_start"}, follow_anchor=True)
    bystander = applied(api, template["id"], customer["id"], {"source": "contract_start"})
    updated = api.patch(f"/customers/{customer['id']}", {"version": customer["version"],
                                                         "contract_start": "2026-06-19"}).json
    customer_updated(http, acme, customer, updated["version"], "2026-06-12", "2026-06-19")
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-21"
    assert gantt_by_key(api, bystander)["kickoff"]["start_date"] == "2026-06-14"
    task = gantt_by_key(api, follower)["kickoff"]
    set_task(api, task, title="Kickoff (moved by hand? no, renamed)")
    customer_updated(http, acme, customer, updated["version"], "2026-06-12", "2026-06-19")  # a replay
    customer_updated(http, acme, customer, updated["version"] - 1, "2026-06-01", "2026-06-05")  # an older one
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-21"
    from chalicelib.core.events import Event
    from chalicelib.templates import consumers

    replayed = sample_event("customer-updated.json", tenant_id=acme.tenant_id, customer_id=customer["id"],
                            version=updated["version"], changes={"contract_start": {"after": "2026-06-19"}})
    with tenant_scope(acme.tenant_id):
        assert consumers.follow_contract_start(Event.from_bus(replayed)) == 0


def test_an_archived_follower_does_not_stop_the_others(acme, http, template):
    api = acme.as_("owner")
    customer = create_customer(api, contract_start="2026-06-12")
    archived = applied(api, template["id"], customer["id"], {"source": "contract_start"}, follow_anchor=True)
    live = applied(api, template["id"], customer["id"], {"source": "contract_start"}, follow_anchor=True)
    assert api.delete(f"/projects/{archived['project']['id']}").status == 200
    updated = api.patch(f"/customers/{customer['id']}", {"version": customer["version"],
                                                         "contract_start": "2026-06-19"}).json
    customer_updated(http, acme, customer, updated["version"], "2026-06-12", "2026-06-19")
    assert gantt_by_key(api, live)["kickoff"]["start_date"] == "2026-06-21"


def test_customer_updates_without_a_contract_start_change_move_nothing(acme):
    from chalicelib.core.events import Event
    from chalicelib.templates import consumers

    other = sample_event("customer-updated.json", tenant_id=acme.tenant_id,
                         changes={"tier": {"before": None, "after": "smb"}})
    with tenant_scope(acme.tenant_id):
        assert consumers.follow_contract_start(Event.from_bus(other)) == 0


def test_reanchoring_keeps_template_dates_unedited_and_records_the_anchor_on_the_project(acme, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    tasks = gantt_by_key(api, result)
    set_task(api, tasks["import"], start_date="2026-06-20", due_date="2026-06-22")
    moved = api.post(f"/projects/{result['project']['id']}/reanchor",
                     {"anchor_date": "2026-07-01", "include_edited": True})
    assert moved.status == 200, moved.body
    after = gantt_by_key(api, result)
    assert not any(task["dates_edited"] for task in after.values())  # all on their template Days again
    project = api.get(f"/projects/{result['project']['id']}").json
    assert project["anchor"] == {"source": "date", "date": "2026-07-01"}


def test_a_reanchor_that_fails_part_way_leaves_the_anchor_and_its_retry_finishes(acme, monkeypatch):
    from chalicelib.work import tasks as work_tasks

    api = acme.as_("owner")
    big = create_template(api, [{"key": f"t{n:03d}", "title": f"Step {n}", "day": 1 + n % 30} for n in range(90)],
                          roles=[])
    result = applied(api, big["id"], create_customer(api)["id"], "2026-06-12")
    monkeypatch.setattr(work_tasks, "REPLAN_CHUNK", 40)
    path = f"/projects/{result['project']['id']}/reanchor"
    with second_commit_fails("the re-anchor"):
        assert api.post(path, {"anchor_date": "2026-06-22"}).status == 500
    assert api.get(f"/projects/{result['project']['id']}").json["anchor"]["date"] == "2026-06-12"
    retried = api.post(path, {"anchor_date": "2026-06-22"})
    assert retried.status == 200, retried.body
    assert retried.json["kept"] == []  # the tasks moved by the failed attempt are not "edited by a person"
    assert len(retried.json["moved"]) < 90  # only what the failed attempt left
    assert gantt_by_key(api, result)["t000"]["start_date"] == "2026-06-22"
    assert api.get(f"/projects/{result['project']['id']}").json["anchor"]["date"] == "2026-06-22"


def test_reanchoring_many_linked_tasks_takes_as_many_transactions_as_it_needs(acme):
    api = acme.as_("owner")
    tasks = [{"key": f"a{n:02d}", "title": f"First {n}", "day": 1} for n in range(40)]
    tasks += [{"key": f"r{n:02d}", "title": f"Then {n}", "day": 2, "depends_on": [f"a{n:02d}"]} for n in range(40)]
    template = create_template(api, tasks, roles=[])
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    moved = api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": "2026-06-22"})
    assert moved.status == 200, moved.body
    assert len(moved.json["moved"]) == 80
    assert {task["start_date"] for task in gantt_by_key(api, result).values()} == {"2026-06-22", "2026-06-23"}


@pytest.mark.parametrize("anchor_date", ["9999-12-31", "0001-01-02"])
def test_reanchoring_past_the_end_of_the_calendar_is_refused_naming_anchor_date(acme, template, anchor_date):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    before = gantt_by_key(api, result)
    assert_problem(api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": anchor_date}),
                   422, "anchor_date")
    assert gantt_by_key(api, result) == before


def test_patching_contract_start_moves_the_following_project_through_the_registry(acme, template, deliver):
    api = acme.as_("owner")
    customer = create_customer(api, contract_start="2026-06-12")
    follower = applied(api, template["id"], customer["id"], {"source": "contract_start"}, follow_anchor=True)
    patched = api.patch(f"/customers/{customer['id']}",
                        {"version": customer["version"], "contract_start": "2026-06-19"})
    assert patched.status == 200, patched.body
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-14"  # nothing until delivered
    delivered = {d.event.type: d.outcomes for d in deliver()}
    assert delivered["Customer.Updated"]["templates_follow_contract_start"] == "applied"  # the timeline's too
    assert "Project.Reanchored" in delivered  # the consumer's own change published its event
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-21"


# ---------- the project's own dates follow its plan ----------


def days_from_today(days):
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def task_span(api, result):
    tasks = gantt_by_key(api, result).values()
    return min(task["start_date"] for task in tasks), max(task["due_date"] for task in tasks)


def stored_project(tenant_id, project_id):
    from chalicelib.work.models import Project, due_sort, project_pk

    with tenant_scope(tenant_id):
        item = Project.get(project_pk(tenant_id, project_id), Project.SORT, consistent_read=True)
    return item, due_sort


def test_reanchoring_moves_the_projects_dates_with_its_tasks_so_it_is_no_longer_delayed(acme, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"], days_from_today(-60))
    project_id = result["project"]["id"]
    assert api.get(f"/projects/{project_id}").json["status"] == "delayed"  # past its due date, nothing done
    moved = api.post(f"/projects/{project_id}/reanchor", {"anchor_date": days_from_today(10)})
    assert moved.status == 200, moved.body
    start, due = task_span(api, result)
    assert moved.json["project_dates"] == {"followed": True, "start_date": start, "due_date": due}
    project = api.get(f"/projects/{project_id}").json
    assert (project["start_date"], project["due_date"]) == (start, due)
    assert project["status"] != "delayed", project["status_reason"]
    item, due_sort = stored_project(acme.tenant_id, project_id)
    assert item.GSI1SK == item.GSI3SK == item.GSI4SK == due_sort(due, project_id)  # the lists by due date
    assert item.GSI4PK.endswith(f"STATUS#{project['status']}")


def test_a_project_whose_dates_a_person_set_keeps_them_on_reanchoring(acme, template):
    api = acme.as_("owner")
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    project_id = result["project"]["id"]
    project = api.get(f"/projects/{project_id}").json
    edited = api.patch(f"/projects/{project_id}", {"version": project["version"], "start_date": "2026-06-01",
                                                   "due_date": "2027-03-31"})
    assert edited.status == 200, edited.body
    moved = api.post(f"/projects/{project_id}/reanchor", {"anchor_date": "2026-07-01"})
    assert moved.status == 200, moved.body
    assert moved.json["project_dates"] == {"followed": False, "reason": "dates edited by a person"}
    assert len(moved.json["moved"]) == 5
    after = api.get(f"/projects/{project_id}").json
    assert (after["start_date"], after["due_date"]) == ("2026-06-01", "2027-03-31")


def test_following_contract_start_moves_the_projects_dates(acme, template, deliver):
    api = acme.as_("owner")
    customer = create_customer(api, contract_start=days_from_today(-60))
    follower = applied(api, template["id"], customer["id"], {"source": "contract_start"}, follow_anchor=True)
    project_id = follower["project"]["id"]
    patched = api.patch(f"/customers/{customer['id']}",
                        {"version": customer["version"], "contract_start": days_from_today(10)})
    assert patched.status == 200, patched.body
    deliver()
    start, due = task_span(api, follower)
    assert start > days_from_today(0)  # the tasks moved
    project = api.get(f"/projects/{project_id}").json
    assert (project["start_date"], project["due_date"]) == (start, due)
    assert project["status"] != "delayed", project["status_reason"]


def test_reanchoring_publishes_each_moved_due_date_as_replanned_and_keeps_them_off_the_timeline(acme, template,
                                                                                               deliver):
    api = acme.as_("owner")
    customer = create_customer(api)
    result = applied(api, template["id"], customer["id"], "2026-06-12")
    before = {task["id"]: task["due_date"] for task in gantt_by_key(api, result).values()}
    deliver()
    moved = api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": "2026-06-19"})
    assert moved.status == 200, moved.body
    redated = {d.event.data["task_id"]: d.event.data for d in deliver() if d.event.type == "Task.DueDateChanged"}
    after = {task["id"]: task["due_date"] for task in gantt_by_key(api, result).values()}
    assert redated and set(redated) == {task_id for task_id in after if after[task_id] != before[task_id]}
    assert all((data["before"], data["after"], data["replanned"]) == (before[task_id], after[task_id], True)
               for task_id, data in redated.items())
    timeline = api.get(f"/customers/{customer['id']}/timeline?types=Task.DueDateChanged")
    assert timeline.status == 200 and timeline.json["items"] == []
