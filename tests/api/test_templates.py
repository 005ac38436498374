"""Templates through the API: CRUD, versions made by task edits, the diff, the built-in
library every tenant starts with, and who may do what."""

import pytest

from tests.api.foundation_helpers import assert_problem, unique

TASKS = [
    {"key": "kickoff", "title": "Kickoff call", "day": 3, "is_milestone": True, "assignee_role": "csm"},
    {"key": "prep", "title": "Prepare", "day": 1, "duration_days": 2},
    {"key": "go-live", "title": "Go-live", "day": 14, "depends_on": ["kickoff", "prep"]},
]


def new_template(api, **fields):
    body = {"name": unique("Playbook "), "category": "implementation", "roles": ["csm"], "tasks": TASKS, **fields}
    created = api.post("/templates", body)
    assert created.status == 201, created.body
    return created.json


def test_a_new_tenant_starts_with_the_built_in_library(fresh_tenant):
    listed = fresh_tenant.as_("member").get("/templates?limit=200")
    assert listed.status == 200, listed.body
    by_key = {t["library_key"]: t for t in listed.json["items"]}
    assert set(by_key) == {"saas-onboarding-14-days", "agency-client-onboarding-4-weeks", "customer-kickoff",
                           "qbr-preparation"}
    saas = {task["key"]: task for task in by_key["saas-onboarding-14-days"]["tasks"]}
    assert saas["kickoff-call"]["day"] == 3 and saas["kickoff-call"]["is_milestone"]
    assert saas["admin-readiness-check"]["day"] == 7 and saas["admin-readiness-check"]["is_milestone"]
    assert {key for key, task in saas.items() if task["day"] == 14} == {
        "go-live", "exec-status-update", "schedule-30-day-check-in"}
    agency = by_key["agency-client-onboarding-4-weeks"]["tasks"]
    assert sorted(task["day"] for task in agency if task["is_milestone"]) == [1, 7, 14, 28]


def test_library_templates_are_the_tenants_own_copies(acme, globex):
    def saas_id(world):
        items = world.as_("owner").get("/templates?category=onboarding").json["items"]
        return next(t["id"] for t in items if t["library_key"] == "saas-onboarding-14-days")

    acme_copy = saas_id(acme)
    assert acme_copy != saas_id(globex)
    renamed = acme.as_("owner").patch(f"/templates/{acme_copy}", {"version": 1, "name": "Our onboarding"})
    assert renamed.status == 200, renamed.body
    assert globex.as_("owner").get(f"/templates/{saas_id(globex)}").json["name"] == "SaaS onboarding — 14 days"


def test_create_fills_defaults_and_reads_back(acme):
    created = new_template(acme.as_("admin"), calendar="working_days")
    assert created["template_version"] == 1 and created["calendar"] == "working_days"
    assert created["project"] == {"task_statuses": None, "status_mode": "auto", "portal_visible": False}
    prep = next(task for task in created["tasks"] if task["key"] == "prep")
    assert prep["weight"] == 1 and prep["depends_on"] == [] and prep["parent_key"] is None
    assert acme.as_("readonly").get(f"/templates/{created['id']}").json["name"] == created["name"]


def test_calendar_defaults_to_calendar_days(acme):
    assert new_template(acme.as_("member"))["calendar"] == "calendar_days"


@pytest.mark.parametrize(
    ("tasks", "field"),
    [
        ([{"key": "a", "title": "A", "day": 1, "depends_on": ["b"]}, {"key": "b", "title": "B", "day": 1,
                                                                     "depends_on": ["a"]}], "tasks.a.depends_on"),
        ([{"key": "a", "title": "A", "day": 1, "depends_on": ["nope"]}], "tasks.a.depends_on"),
        ([{"key": "a", "title": "A", "day": 1}, {"key": "b", "title": "B", "day": 1, "parent_key": "a"},
          {"key": "c", "title": "C", "day": 1, "parent_key": "b"}], "tasks.c.parent_key"),
        ([{"key": "a", "title": "A", "day": 5}, {"key": "b", "title": "B", "day": 2, "depends_on": ["a"]}],
         "tasks.b.depends_on"),
        ([{"key": "a", "title": "A", "day": 0}], "tasks.a.day"),
        ([{"key": "a", "title": "A", "day": 1, "colour": "red"}], "tasks.0.colour"),
    ],
    ids=["cycle", "unknown-key", "subtask-of-subtask", "predecessor-later", "day-zero", "unknown-field"],
)
def test_invalid_task_lists_are_422_naming_the_task(acme, tasks, field):
    response = acme.as_("owner").post("/templates", {"name": "Bad", "category": "onboarding", "tasks": tasks})
    assert_problem(response, 422, field)


def test_editing_tasks_makes_a_new_version_and_keeps_the_old_one(acme):
    api = acme.as_("owner")
    template = new_template(api)
    renamed = api.patch(f"/templates/{template['id']}", {"version": 1, "description": "Only words"}).json
    assert renamed["template_version"] == 1 and renamed["version"] == 2
    new_tasks = [{**TASKS[0], "day": 4, "title": "Kickoff"}, {**TASKS[2], "depends_on": ["kickoff"]},
                 {"key": "extra", "title": "Extra", "day": 20}]
    edited = api.patch(f"/templates/{template['id']}", {"version": 2, "tasks": new_tasks})
    assert edited.status == 200, edited.body
    assert edited.json["template_version"] == 2
    versions = api.get(f"/templates/{template['id']}/versions").json["items"]
    assert [v["template_version"] for v in versions] == [1, 2]
    assert [t["key"] for t in versions[0]["tasks"]] == ["kickoff", "prep", "go-live"]
    diff = api.get(f"/templates/{template['id']}/diff?from=1&to=2")
    assert diff.status == 200, diff.body
    assert [t["key"] for t in diff.json["added"]] == ["extra"]
    assert [t["key"] for t in diff.json["removed"]] == ["prep"]
    changed = {c["key"]: c["fields"] for c in diff.json["changed"]}
    assert changed["kickoff"]["day"] == {"before": 3, "after": 4}
    assert changed["go-live"]["depends_on"] == {"before": ["kickoff", "prep"], "after": ["kickoff"]}


def test_diff_of_a_version_that_does_not_exist_is_422(acme):
    template = new_template(acme.as_("owner"))
    assert_problem(acme.as_("owner").get(f"/templates/{template['id']}/diff?from=1&to=7"), 422, "to")


def test_a_stale_version_is_409_and_changes_nothing(acme):
    api = acme.as_("owner")
    template = new_template(api)
    api.patch(f"/templates/{template['id']}", {"version": 1, "name": "First"})
    assert_problem(api.patch(f"/templates/{template['id']}", {"version": 1, "name": "Second"}), 409)
    assert api.get(f"/templates/{template['id']}").json["name"] == "First"


def test_archive_hides_a_template_from_the_list_and_freezes_it(acme):
    api = acme.as_("owner")
    template = new_template(api, category="renewal")
    archived = api.delete(f"/templates/{template['id']}")
    assert archived.status == 200 and archived.json["archived"]
    assert template["id"] not in [t["id"] for t in api.get("/templates?category=renewal").json["items"]]
    everything = api.get("/templates?category=renewal&include_archived=true").json["items"]
    assert template["id"] in [t["id"] for t in everything]
    assert_problem(api.patch(f"/templates/{template['id']}", {"version": 2, "name": "x"}), 409)


def test_filter_by_a_tenants_own_category(acme):
    api = acme.as_("owner")
    template = new_template(api, category="partner_launch")
    assert [t["id"] for t in api.get("/templates?category=partner_launch").json["items"]] == [template["id"]]


@pytest.mark.parametrize("role", ["contractor", "portal"])
def test_roles_without_template_access_are_refused(acme, role):
    assert_problem(acme.as_(role).get("/templates"), 403)


@pytest.mark.parametrize("role", ["readonly", "contractor", "portal"])
def test_roles_that_may_not_write_templates_are_refused(acme, role):
    body = {"name": "Nope", "category": "onboarding", "tasks": TASKS, "roles": ["csm"]}
    assert_problem(acme.as_(role).post("/templates", body), 403)


def test_another_tenants_template_is_not_found(acme, globex):
    template = new_template(acme.as_("owner"))
    for call in (lambda api: api.get(f"/templates/{template['id']}"),
                 lambda api: api.patch(f"/templates/{template['id']}", {"version": 1, "name": "Stolen"}),
                 lambda api: api.delete(f"/templates/{template['id']}"),
                 lambda api: api.get(f"/templates/{template['id']}/versions"),
                 lambda api: api.get(f"/templates/{template['id']}/diff")):
        assert_problem(call(globex.as_("owner")), 404)
    assert template["id"] not in [t["id"] for t in globex.as_("owner").get("/templates?limit=200").json["items"]]


def large_tasks(letter):
    """24 tasks of 9,000-character descriptions: a template of ~220 KB, within the body limit."""
    return [{"key": f"step-{n}", "title": f"Step {n}", "day": n + 1, "description": letter * 9_000} for n in range(24)]


def test_updating_a_large_template_keeps_its_audit_entry_under_the_item_limit(acme):
    """Before and after of a ~220 KB task list would make a ~440 KB audit entry, past DynamoDB's
    400 KB: the entry keeps the small changes whole and summarises the large values."""
    import json

    api = acme.as_("owner")
    template = new_template(api, tasks=large_tasks("a"))
    changed = api.patch(f"/templates/{template['id']}", {"version": 1, "tasks": large_tasks("b"), "name": "Renamed"})
    assert changed.status == 200, changed.body
    assert changed.json["tasks"][0]["description"] == "b" * 9_000
    entries = api.get(f"/audit?entity_id={template['id']}").json["items"]
    update = next(entry for entry in entries if entry["action"] == "update")
    assert len(json.dumps(update).encode()) < 400_000
    assert update["changes"]["name"] == {"before": template["name"], "after": "Renamed"}
    tasks = update["changes"]["tasks"]
    assert tasks["after"]["summarised"] is True and tasks["after"]["length"] == 24
    assert tasks["after"]["bytes"] > 200_000 and len(tasks["after"]["sha256"]) == 64
