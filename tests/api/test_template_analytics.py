"""Templates that learn: projects created per version, completed, days to completion, on-time
rate, and per task the planned Day against the median actual Day, with a suggestion once at
least 5 projects show a median slip of 2 days or more. Counted from the apply and completion
events, once (the apply's through the registry: delivered before the analytics are read)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from chalicelib.core.scope import tenant_scope

from bluehill_dev.harness_env import event_bus
from tests.api.foundation_helpers import assert_problem
from tests.api.templating import (
    applied,
    create_customer,
    create_template,
    gantt_by_key,
    sample_event,
)

TASKS = [
    {"key": "welcome", "title": "Welcome email", "day": 1},
    {"key": "readiness", "title": "Admin readiness check", "day": 3, "is_milestone": True},
]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def complete(http, world, api, result, key):
    task = gantt_by_key(api, result)[key]
    done = api.patch(f"/tasks/{task['id']}", {"version": task["version"], "status": "complete"})
    assert done.status == 200, done.body
    event = sample_event("task-completed.json", tenant_id=world.tenant_id, project_id=result["project"]["id"],
                         task_id=task["id"], customer_id=result["project"]["customer_id"],
                         completed_at=done.json["completed_at"] or now(), late=True)
    http.lambda_.invoke("templates_count_task_completion", event)
    return event


def project_completed(http, world, result):
    event = sample_event("project-status-changed.json", tenant_id=world.tenant_id,
                         project_id=result["project"]["id"], occurred_at=now())
    http.lambda_.invoke("templates_count_project_completion", event)
    return event


@pytest.fixture(scope="module")
def learned(acme, http):
    """Six projects from one template, anchored ten days ago; the readiness check done today
    (Day 11, planned Day 3) in five of them, two projects complete."""
    api = acme.as_("owner")
    template = create_template(api, TASKS, roles=[])
    anchor = (date.today() - timedelta(days=10)).isoformat()
    results = [applied(api, template["id"], create_customer(api)["id"], anchor) for _ in range(6)]
    event_bus().drain()  # Template.Applied → templates_count_project_created
    events = [complete(http, acme, api, result, "readiness") for result in results[:4]]
    before_fifth = api.get(f"/templates/{template['id']}/analytics").json
    events.append(complete(http, acme, api, results[4], "readiness"))
    for result in results[:2]:
        project_completed(http, acme, result)
    return {"template": template, "results": results, "events": events, "before_fifth": before_fifth}


def insight(analytics, key):
    return next(task for task in analytics["tasks"] if task["key"] == key)


def test_analytics_count_projects_per_version_and_completions(acme, learned):
    analytics = acme.as_("readonly").get(f"/templates/{learned['template']['id']}/analytics")
    assert analytics.status == 200, analytics.body
    body = analytics.json
    assert body["projects_created"] == 6
    assert body["projects_by_version"] == [{"template_version": 1, "count": 6}]
    assert body["projects_completed"] == 2
    assert body["median_days_to_completion"] == 10
    assert body["on_time_rate"] == 0.0  # done Day 11, last task due Day 3


def test_a_task_slipping_in_five_projects_earns_a_suggestion(acme, learned):
    body = acme.as_("member").get(f"/templates/{learned['template']['id']}/analytics").json
    readiness = insight(body, "readiness")
    assert (readiness["planned_day"], readiness["completed"]) == (3, 5)
    assert (readiness["median_actual_day"], readiness["median_slip_days"], readiness["late_share"]) == (11, 8, 1.0)
    assert readiness["suggestion"] == "Admin readiness check: planned Day 3, typically done Day 11"
    welcome = insight(body, "welcome")
    assert (welcome["completed"], welcome["median_actual_day"], welcome["suggestion"]) == (0, None, None)


def test_four_projects_are_not_yet_enough_for_a_suggestion(learned):
    readiness = insight(learned["before_fifth"], "readiness")
    assert readiness["completed"] == 4 and readiness["suggestion"] is None


def test_replayed_completion_events_count_once(acme, http, learned):
    from chalicelib.core.events import Event
    from chalicelib.templates import consumers

    for event in learned["events"][:2]:
        http.lambda_.invoke("templates_count_task_completion", event)
        with tenant_scope(acme.tenant_id):  # the handler itself, past the registry's marker: counted once still
            assert consumers.count_task_completion(Event.from_bus(event)) is False
    with tenant_scope(acme.tenant_id):
        assert consumers.count_project_completion(
            Event.from_bus(project_completed(http, acme, learned["results"][0]))) is False
    body = acme.as_("owner").get(f"/templates/{learned['template']['id']}/analytics").json
    assert insight(body, "readiness")["completed"] == 5 and body["projects_completed"] == 2


def test_events_about_other_projects_and_statuses_are_ignored(acme):
    from chalicelib.core.events import Event
    from chalicelib.templates import consumers

    stray = sample_event("task-completed.json", tenant_id=acme.tenant_id)
    not_done = sample_event("project-status-changed.json", tenant_id=acme.tenant_id, to="at_risk")
    with tenant_scope(acme.tenant_id):
        assert consumers.count_task_completion(Event.from_bus(stray)) is False
        assert consumers.count_project_completion(Event.from_bus(not_done)) is False


def test_projects_are_counted_per_template_version(acme, deliver):
    api = acme.as_("owner")
    template = create_template(api, TASKS, roles=[])
    customer = create_customer(api)
    applied(api, template["id"], customer["id"])
    api.patch(f"/templates/{template['id']}", {"version": 1, "tasks": [*TASKS, {"key": "x", "title": "X", "day": 5}]})
    applied(api, template["id"], customer["id"])
    assert api.get(f"/templates/{template['id']}/analytics").json["projects_by_version"] == []
    deliver()
    body = api.get(f"/templates/{template['id']}/analytics").json
    assert body["projects_by_version"] == [{"template_version": 1, "count": 1}, {"template_version": 2, "count": 1}]


@pytest.mark.parametrize("role", ["contractor", "portal"])
def test_roles_without_template_access_are_refused(acme, learned, role):
    assert_problem(acme.as_(role).get(f"/templates/{learned['template']['id']}/analytics"), 403)


def test_another_tenants_analytics_are_not_found(globex, learned):
    assert_problem(globex.as_("owner").get(f"/templates/{learned['template']['id']}/analytics"), 404)
