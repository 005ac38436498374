"""Pushing a template's new version into a running project: a dry run shows what would change,
a real run does it; completed and person-edited tasks are left alone, started tasks are not
removed, and nothing changes in a project until someone upgrades it."""

import pytest

from tests.api.foundation_helpers import assert_problem
from tests.api.templating import (
    SMALL_TASKS,
    applied,
    create_customer,
    create_template,
    gantt_by_key,
)

V2_TASKS = [
    {**SMALL_TASKS[1], "title": "Kickoff meeting", "depends_on": []},
    {**SMALL_TASKS[3], "day": 5, "duration_days": 4},
    {**SMALL_TASKS[4], "weight": 5},
    {"key": "training", "title": "End-user training", "day": 10, "depends_on": ["kickoff"]},
]


@pytest.fixture
def running(acme):
    """A project made from version 1, with one task done and one re-dated by a person; then the
    template moves to version 2."""
    api = acme.as_("owner")
    template = create_template(api)
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    tasks = gantt_by_key(api, result)
    api.patch(f"/tasks/{tasks['prep']['id']}", {"version": tasks["prep"]["version"], "status": "complete"})
    api.patch(f"/tasks/{tasks['go-live']['id']}", {"version": tasks["go-live"]["version"], "due_date": "2026-06-30"})
    edited = api.patch(f"/templates/{template['id']}", {"version": 1, "tasks": V2_TASKS})
    assert edited.status == 200 and edited.json["template_version"] == 2, edited.body
    return result


def upgrade(api, result, dry_run):
    return api.post(f"/projects/{result['project']['id']}/upgrade-template", {"dry_run": dry_run})


def test_a_dry_run_shows_the_upgrade_and_changes_nothing(acme, running):
    api = acme.as_("owner")
    before = gantt_by_key(api, running)
    preview = upgrade(api, running, True)
    assert preview.status == 200, preview.body
    plan = preview.json
    assert (plan["from_version"], plan["to_version"], plan["dry_run"]) == (1, 2, True)
    assert [(t["key"], t["start_date"], t["due_date"]) for t in plan["added"]] == [
        ("training", "2026-06-21", "2026-06-21")]
    changed = {c["key"]: c for c in plan["changed"]}
    assert set(changed) == {"kickoff", "import"}
    assert changed["kickoff"]["fields"]["title"] == {"before": "Kickoff call", "after": "Kickoff meeting"}
    assert (changed["import"]["start_date"], changed["import"]["due_date"]) == ("2026-06-16", "2026-06-19")
    assert [r["key"] for r in plan["removed"]] == ["agenda"]
    assert {(k["key"], k["reason"]) for k in plan["kept"]} == {
        ("prep", "already started"), ("go-live", "dates edited by a person")}
    assert gantt_by_key(api, running) == before


def test_upgrading_applies_the_plan_and_moves_the_project_to_the_new_version(acme, running):
    api = acme.as_("owner")
    done = upgrade(api, running, False)
    assert done.status == 200, done.body
    after = gantt_by_key(api, running)
    assert "agenda" not in after
    assert after["kickoff"]["title"] == "Kickoff meeting"
    assert (after["import"]["start_date"], after["import"]["due_date"]) == ("2026-06-16", "2026-06-19")
    assert after["go-live"]["weight"] == 1 and after["go-live"]["due_date"] == "2026-06-30"
    assert after["prep"]["status"] == "complete"
    board = api.get(f"/projects/{running['project']['id']}/gantt").json["tasks"]
    training = next(task for task in board if task["title"] == "End-user training")
    assert training["start_date"] == "2026-06-21" and training["depends_on"] == [after["kickoff"]["id"]]
    again = upgrade(api, running, True).json
    assert (again["from_version"], again["added"], again["changed"], again["removed"]) == (2, [], [], [])


def test_a_project_stays_on_its_version_until_upgraded(acme, running):
    api = acme.as_("owner")
    assert gantt_by_key(api, running)["kickoff"]["title"] == "Kickoff call"


def test_dry_run_must_be_a_boolean(acme, running):
    api = acme.as_("owner")
    response = api.post(f"/projects/{running['project']['id']}/upgrade-template", {"dry_run": "maybe"})
    assert_problem(response, 422, "dry_run")


@pytest.mark.parametrize("role", ["contractor", "readonly", "portal"])
def test_roles_that_may_not_upgrade_are_refused(acme, running, role):
    assert_problem(upgrade(acme.as_(role), running, True), 403)


def test_another_tenants_project_is_not_found(globex, running):
    assert_problem(upgrade(globex.as_("owner"), running, True), 404)


def test_an_upgrade_that_fails_changes_nothing(acme, running, monkeypatch):
    from chalicelib.core import table

    api = acme.as_("owner")
    before = gantt_by_key(api, running)

    def failing(self):
        raise RuntimeError("injected: the upgrade's transaction fails")

    monkeypatch.setattr(table.Transaction, "commit", failing)
    assert upgrade(api, running, False).status == 500
    monkeypatch.undo()
    assert gantt_by_key(api, running) == before
    assert upgrade(api, running, True).json["from_version"] == 1
    project = api.get(f"/projects/{running['project']['id']}").json
    assert project["template_version"] == 1 and project["task_count"] == len(before)


def test_upgrading_records_the_new_version_on_the_project(acme, running):
    api = acme.as_("owner")
    assert upgrade(api, running, False).status == 200
    project = api.get(f"/projects/{running['project']['id']}").json
    assert project["template_version"] == 2
    board = api.get(f"/projects/{running['project']['id']}/gantt").json["tasks"]
    assert {task["template_key"] for task in board} == {"prep", "kickoff", "import", "go-live", "training"}


def test_an_upgrade_too_big_for_one_transaction_is_422_and_changes_nothing(acme):
    api = acme.as_("owner")
    tasks = [{"key": f"t{n:02d}", "title": f"Step {n}", "day": 1 + n % 20} for n in range(60)]
    template = create_template(api, tasks, roles=[])
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    renamed = [{**task, "title": f"{task['title']} (v2)"} for task in tasks]
    assert api.patch(f"/templates/{template['id']}", {"version": 1, "tasks": renamed}).status == 200
    assert_problem(upgrade(api, result, False), 422, "dry_run")
    assert {task["title"] for task in gantt_by_key(api, result).values()} == {task["title"] for task in tasks}
    assert api.get(f"/projects/{result['project']['id']}").json["template_version"] == 1


def test_upgrading_moves_the_projects_dates_to_its_tasks_span(acme):
    api = acme.as_("owner")
    template = create_template(api)
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    later = [*SMALL_TASKS, {"key": "review", "title": "Thirty-day review", "day": 30, "duration_days": 2}]
    assert api.patch(f"/templates/{template['id']}", {"version": 1, "tasks": later}).status == 200
    done = upgrade(api, result, False)
    assert done.status == 200, done.body
    tasks = api.get(f"/projects/{result['project']['id']}/gantt").json["tasks"]
    due = max(task["due_date"] for task in tasks)
    assert due > result["project"]["due_date"]  # the new task ends later than the project did
    project = api.get(f"/projects/{result['project']['id']}").json
    assert (project["start_date"], project["due_date"]) == (min(task["start_date"] for task in tasks), due)
