"""Applying a template: one call makes the customer's whole project, every task on its Day from
the anchor; atomic from the client's view (never half-built, retries never make a second one);
and saving a project back as a template gives the same Days."""

import pytest

from tests.api.foundation_helpers import assert_problem, unique
from tests.api.templating import (
    applied,
    apply,
    create_customer,
    create_template,
    gantt_by_key,
    job_of,
    lambda_retries_later,
    numbered_tasks,
    retry_job,
    second_commit_fails,
    task_by_key,
)


@pytest.fixture(scope="module")
def template(acme):
    return create_template(acme.as_("owner"))


@pytest.fixture
def customer(acme):
    return create_customer(acme.as_("owner"), owner_id=acme.users["member"], contract_start="2026-03-02")


def test_applying_schedules_every_task_on_its_day_from_the_anchor(acme, template, customer):
    result = applied(acme.as_("owner"), template["id"], customer["id"], "2026-06-12")
    tasks = task_by_key(result)
    assert (tasks["prep"]["start_date"], tasks["prep"]["due_date"]) == ("2026-06-10", "2026-06-11")
    assert tasks["kickoff"]["start_date"] == "2026-06-14"
    assert (tasks["import"]["start_date"], tasks["import"]["due_date"]) == ("2026-06-15", "2026-06-17")
    assert tasks["go-live"]["start_date"] == "2026-06-25"
    assert result["template_id"] == template["id"] and result["template_version"] == 1
    assert result["anchor"] == {"source": "date", "date": "2026-06-12"}
    project = acme.as_("owner").get(f"/projects/{result['project']['id']}").json
    assert project["template_id"] == template["id"] and project["customer_id"] == customer["id"]
    board = gantt_by_key(acme.as_("owner"), result)
    assert set(board) == {"prep", "kickoff", "agenda", "import", "go-live"}
    assert board["agenda"]["parent_id"] == board["kickoff"]["id"]
    assert board["go-live"]["depends_on"] == [board["import"]["id"]]
    assert board["kickoff"]["is_milestone"] and board["kickoff"]["weight"] == 3


def test_anchor_on_the_customers_contract_start(acme, template, customer):
    result = applied(acme.as_("owner"), template["id"], customer["id"], {"source": "contract_start"})
    assert result["anchor"] == {"source": "contract_start", "date": "2026-03-02"}
    assert task_by_key(result)["kickoff"]["start_date"] == "2026-03-04"


def test_contract_start_anchor_needs_a_contract_start(acme, template):
    bare = create_customer(acme.as_("owner"))
    response = acme.as_("owner").post(f"/templates/{template['id']}/apply",
                                      {"customer_id": bare["id"], "anchor": {"source": "contract_start"}})
    assert_problem(response, 422, "anchor.source")


def test_working_day_templates_skip_weekends_and_tenant_holidays(fresh_tenant):
    api = fresh_tenant.as_("owner")
    api.put("/tenant/holidays", {"version": 0, "holidays": [{"date": "2026-06-16", "name": "Founders' day"}]})
    template = create_template(api, calendar="working_days")
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")  # a Friday
    tasks = task_by_key(result)
    assert (tasks["prep"]["start_date"], tasks["prep"]["due_date"]) == ("2026-06-10", "2026-06-11")
    assert tasks["kickoff"]["start_date"] == "2026-06-17"  # Mon 15, (Tue 16 holiday), Wed 17
    assert (tasks["import"]["start_date"], tasks["import"]["due_date"]) == ("2026-06-18", "2026-06-22")


def test_roles_go_to_the_named_people_and_the_rest_to_the_customers_owner(acme, template, customer):
    result = applied(acme.as_("owner"), template["id"], customer["id"],
                     role_assignments={"implementation_lead": acme.users["admin"]})
    tasks = task_by_key(result)
    assert tasks["import"]["assignee_ids"] == [acme.users["admin"]]
    assert tasks["kickoff"]["assignee_ids"] == [acme.users["member"]]  # csm unmapped: the customer's owner
    assert tasks["agenda"]["assignee_ids"] == []


def test_an_unknown_role_is_422(acme, template, customer):
    response = apply(acme.as_("owner"), template["id"], customer["id"], role_assignments={"wizard": "u1"})
    assert_problem(response, 422, "role_assignments")


def test_skipped_tasks_and_their_subtasks_and_links_are_left_out(acme, template, customer):
    result = applied(acme.as_("owner"), template["id"], customer["id"], skip_task_keys=["kickoff"])
    tasks = task_by_key(result)
    assert set(tasks) == {"prep", "import", "go-live"}
    assert tasks["import"]["depends_on"] == []


def test_skipping_an_unknown_task_is_422(acme, template, customer):
    assert_problem(apply(acme.as_("owner"), template["id"], customer["id"], skip_task_keys=["nope"]), 422,
                   "skip_task_keys")


def test_an_anchor_needs_a_date_or_the_contract_start(acme, template, customer):
    response = acme.as_("owner").post(f"/templates/{template['id']}/apply",
                                      {"customer_id": customer["id"], "anchor": {"source": "date"}})
    assert_problem(response, 422, "anchor")


def test_a_retry_with_the_same_idempotency_key_returns_the_same_project(acme, template, customer):
    api, key = acme.as_("owner"), {"Idempotency-Key": unique("apply-")}
    first = apply(api, template["id"], customer["id"], headers=key)
    second = apply(api, template["id"], customer["id"], headers=key)
    assert first.status == second.status == 201
    assert first.json["project"]["id"] == second.json["project"]["id"]
    listed = api.get(f"/customers/{customer['id']}/projects").json["items"]
    assert [p["id"] for p in listed] == [first.json["project"]["id"]]


def test_a_200_task_template_failing_mid_build_shows_nothing_and_its_retry_completes(acme, customer):
    """200 tasks apply as a job; its first attempt dies mid-build and Lambda retries it."""
    api = acme.as_("owner")
    big = create_template(api, numbered_tasks(200), roles=[])
    key = {"Idempotency-Key": unique("apply-")}
    with lambda_retries_later(), second_commit_fails("the build"):
        job = job_of(api, apply(api, big["id"], customer["id"], headers=key))
    assert (job["status"], job["attempts"]) == ("running", 1)
    assert api.get(f"/customers/{customer['id']}/projects").json["items"] == []
    assert api.get(f"/tasks?customer_id={customer['id']}").json["items"] == []
    retried = retry_job(acme, job)
    assert (retried["status"], retried["attempts"]) == ("succeeded", 2)
    listed = api.get(f"/customers/{customer['id']}/projects").json["items"]
    assert [p["id"] for p in listed] == [retried["result"]["project"]["id"]]
    assert len(gantt_by_key(api, retried["result"])) == 200
    assert api.get(f"/projects/{retried['result']['project']['id']}").json["task_count"] == 200


def test_an_archived_template_cannot_be_applied(acme, customer):
    api = acme.as_("owner")
    archived = create_template(api)
    api.delete(f"/templates/{archived['id']}")
    assert_problem(apply(api, archived["id"], customer["id"]), 409)


def test_saving_an_applied_project_as_a_template_gives_back_the_same_days(acme, template, customer):
    api = acme.as_("owner")
    result = applied(api, template["id"], customer["id"], "2026-12-30")
    saved = api.post(f"/projects/{result['project']['id']}/save-as-template",
                     {"name": unique("Saved "), "category": "onboarding"})
    assert saved.status == 201, saved.body
    original = {t["key"]: t for t in template["tasks"]}
    copy = {t["key"]: t for t in saved.json["tasks"]}
    assert {k: (t["day"], t["duration_days"]) for k, t in copy.items()} == {
        k: (t["day"], t["duration_days"]) for k, t in original.items()}
    assert copy["agenda"]["parent_key"] == "kickoff" and copy["go-live"]["depends_on"] == ["import"]
    assert copy["kickoff"]["is_milestone"] and copy["kickoff"]["weight"] == 3
    assert copy["kickoff"]["assignee_role"] == "csm" and saved.json["roles"] == ["csm", "implementation_lead"]


def test_saving_a_hand_made_project_uses_its_start_date(acme, customer):
    api = acme.as_("owner")
    project = api.post(f"/customers/{customer['id']}/projects", {"name": "Hand made", "start_date": "2026-02-27"})
    assert project.status == 201, project.body
    api.post(f"/projects/{project.json['id']}/tasks", {"title": "First", "start_date": "2026-03-01",
                                                      "due_date": "2026-03-02"})
    saved = api.post(f"/projects/{project.json['id']}/save-as-template", {"name": unique("Hand "), "category": "x"})
    assert saved.status == 201, saved.body
    assert [(t["day"], t["duration_days"]) for t in saved.json["tasks"]] == [(3, 2)]


@pytest.mark.parametrize("role", ["contractor", "readonly", "portal"])
def test_roles_that_may_not_apply_are_refused(acme, template, customer, role):
    assert_problem(apply(acme.as_(role), template["id"], customer["id"]), 403)


def test_a_member_applies_only_to_customers_they_own(acme, template, customer):
    assert applied(acme.as_("member"), template["id"], customer["id"])["project"]["customer_id"] == customer["id"]
    someone_elses = create_customer(acme.as_("owner"))
    assert_problem(apply(acme.as_("member"), template["id"], someone_elses["id"]), 422, "customer_id")


def test_another_tenants_template_and_customer_are_out_of_reach(acme, globex, template, customer):
    assert_problem(apply(globex.as_("owner"), template["id"], customer["id"]), 404)
    own = create_template(globex.as_("owner"))
    assert_problem(apply(globex.as_("owner"), own["id"], customer["id"]), 422, "customer_id")


def _counting_commits(monkeypatch) -> list[int]:
    """The size of every transaction committed from now on."""
    from chalicelib.core import table

    sizes, real_commit = [], table.Transaction.commit

    def counting(self):
        sizes.append(len(self))
        real_commit(self)

    monkeypatch.setattr(table.Transaction, "commit", counting)
    return sizes


def test_30_tasks_apply_in_one_transaction_and_200_in_three_plus_a_one_item_reveal(acme, customer, monkeypatch):
    api = acme.as_("owner")
    small, big = (create_template(api, numbered_tasks(count), roles=[]) for count in (30, 200))
    sizes = _counting_commits(monkeypatch)
    assert len(gantt_by_key(api, applied(api, small["id"], customer["id"]))) == 30
    assert len(sizes) == 1
    other = create_customer(api)
    sizes.clear()
    result = applied(api, big["id"], other["id"])  # as a job
    builds, reveal = sizes[:-1], sizes[-1]
    assert len(builds) == 3 and sum(builds) < 300
    assert reveal <= 6  # the project item, its audit entry, the template's counter and audit: no task
    assert len(gantt_by_key(api, result)) == 200


def test_a_retry_with_the_same_key_but_another_body_is_409(acme, customer):
    api = acme.as_("owner")
    big = create_template(api, numbered_tasks(200), roles=[])
    key = {"Idempotency-Key": unique("apply-")}
    with lambda_retries_later(), second_commit_fails("the build"):
        first = apply(api, big["id"], customer["id"], headers=key)
    assert first.status == 202
    assert_problem(apply(api, big["id"], customer["id"], headers=key, project_name="Another"), 409)
    again = apply(api, big["id"], customer["id"], headers=key)
    assert (again.status, again.json["id"]) == (202, first.json["id"])


def test_the_project_and_its_tasks_remember_the_template(acme, template, customer):
    api = acme.as_("owner")
    result = applied(api, template["id"], customer["id"], {"source": "contract_start"})
    project = api.get(f"/projects/{result['project']['id']}").json
    assert project["template_version"] == 1
    assert project["anchor"] == {"source": "contract_start", "date": "2026-03-02"}
    task = api.get(f"/tasks/{task_by_key(result)['import']['id']}").json
    assert (task["template_key"], task["dates_edited"]) == ("import", False)
    retitled = api.patch(f"/tasks/{task['id']}", {"version": task["version"], "title": "Import the data"})
    assert retitled.json["dates_edited"] is False
    redated = api.patch(f"/tasks/{task['id']}", {"version": retitled.json["version"], "due_date": "2026-03-20"})
    assert redated.json["dates_edited"] is True


def test_a_templated_build_logs_one_activity_entry_for_the_project(acme, template, customer):
    api = acme.as_("owner")
    result = applied(api, template["id"], customer["id"])
    entries = api.get(f"/projects/{result['project']['id']}/activity").json["items"]
    assert [(e["task_id"], e["kinds"], e["changes"]) for e in entries] == [
        (None, ["created"], {"task_count": {"from": 0, "to": 5}})]


def test_a_retry_finishes_from_what_the_first_attempt_decided_whatever_changed_since(acme, customer):
    api = acme.as_("owner")
    big = create_template(api, numbered_tasks(200), roles=[])
    key = {"Idempotency-Key": unique("apply-")}
    with lambda_retries_later(), second_commit_fails("the build"):
        job = job_of(api, apply(api, big["id"], customer["id"], headers=key, skip_task_keys=["t000"]))
    edited = api.patch(f"/templates/{big['id']}", {"version": big["version"], "tasks": numbered_tasks(200)[50:]})
    assert edited.status == 200, edited.body
    assert api.delete(f"/templates/{big['id']}").status == 200
    retried = retry_job(acme, job)
    assert retried["status"] == "succeeded", retried["error"]
    result = retried["result"]
    assert result["template_version"] == 1 and len(gantt_by_key(api, result)) == 199
    assert api.get(f"/projects/{result['project']['id']}").json["task_count"] == 199


def test_an_upgrade_that_only_adds_a_task_adds_it(acme):
    api = acme.as_("owner")
    template = create_template(api)
    result = applied(api, template["id"], create_customer(api)["id"], "2026-06-12")
    more = [*template["tasks"], {"key": "extra", "title": "Extra step", "day": 20, "parent_key": "kickoff"}]
    assert api.patch(f"/templates/{template['id']}", {"version": 1, "tasks": more}).status == 200
    done = api.post(f"/projects/{result['project']['id']}/upgrade-template", {"dry_run": False})
    assert done.status == 200, done.body
    board = api.get(f"/projects/{result['project']['id']}/gantt").json["tasks"]
    extra = next(task for task in board if task["template_key"] == "extra")
    kickoff = next(task for task in board if task["template_key"] == "kickoff")
    assert extra["parent_id"] == kickoff["id"] and extra["start_date"] == "2026-07-01"


@pytest.mark.parametrize("anchor", [{"date": "9999-12-25"}, {"date": "0001-01-01"}, {"source": "contract_start"}])
def test_an_anchor_whose_days_leave_the_calendar_is_refused_naming_it(acme, anchor):
    """Go-live is Day 14 and prep Day -2: from 9999-12-25 or 0001-01-01 they would fall outside
    the dates there are — a 422 naming the anchor, and no project."""
    api = acme.as_("owner")
    template = create_template(api)
    customer = create_customer(api, contract_start="9999-12-28")
    field = "anchor.source" if "source" in anchor else "anchor.date"
    assert_problem(apply(api, template["id"], customer["id"], anchor), 422, field)
    assert api.get(f"/customers/{customer['id']}/projects").json["items"] == []
