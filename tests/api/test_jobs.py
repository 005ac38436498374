"""Jobs: an apply or a re-anchor bigger than one request should carry (more than
apply.JOB_THRESHOLD_TASKS template tasks) is validated in the request, answered `202 Accepted`
with a Location, and run by the job function; `GET /jobs/{job_id}` shows its status, progress
and result. Idempotent like every create, and a job attempt that dies is retried (as Lambda
retries an asynchronous invocation) and finishes what it began. The tests run jobs inline
(before the 202 is answered) except where a test says otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.core.auth import Principal
from chalicelib.core.scope import tenant_scope
from chalicelib.jobs import dispatch
from chalicelib.jobs import service as jobs
from chalicelib.jobs.models import Job
from chalicelib.templates.apply import JOB_THRESHOLD_TASKS
from chalicelib.templates.models import ApplyClaim

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
)

BIG = JOB_THRESHOLD_TASKS + 1


@pytest.fixture(scope="module")
def big_template(acme: Any) -> dict[str, Any]:
    return create_template(acme.as_("owner"), numbered_tasks(BIG), roles=[])


@pytest.fixture
def customer(acme: Any) -> dict[str, Any]:
    return create_customer(acme.as_("owner"), owner_id=acme.users["member"])


def projects_of(api: Any, customer: dict[str, Any]) -> list[str]:
    return [project["id"] for project in api.get(f"/customers/{customer['id']}/projects").json["items"]]


def test_an_apply_of_one_transactions_worth_of_tasks_answers_201_at_once(acme: Any, customer: Any) -> None:
    api = acme.as_("owner")
    small = create_template(api, numbered_tasks(JOB_THRESHOLD_TASKS), roles=[])
    assert apply(api, small["id"], customer["id"]).status == 201


def test_a_bigger_apply_answers_202_with_a_job_that_makes_the_project(acme: Any, big_template: Any,
                                                                      customer: Any) -> None:
    api = acme.as_("owner")
    response = apply(api, big_template["id"], customer["id"])
    assert response.status == 202, response.body
    assert response.json["operation"] == "templates.apply"
    job = job_of(api, response)
    assert (job["status"], job["progress"], job["attempts"], job["error"]) == (
        "succeeded", {"done": BIG, "total": BIG}, 1, None)
    assert job["created_by"] == acme.users["owner"] and job["finished_at"]
    assert projects_of(api, customer) == [job["result"]["project"]["id"]]
    assert len(gantt_by_key(api, job["result"])) == BIG


def test_a_big_apply_is_validated_in_the_request_and_starts_no_job(acme: Any, big_template: Any,
                                                                   customer: Any) -> None:
    api = acme.as_("owner")
    refused = apply(api, big_template["id"], customer["id"], role_assignments={"ghost": acme.users["member"]})
    assert_problem(refused, 422, "role_assignments")
    assert projects_of(api, customer) == []


def test_a_retried_big_apply_with_its_idempotency_key_gets_the_same_job_and_one_project(
        acme: Any, big_template: Any, customer: Any) -> None:
    api, key = acme.as_("owner"), {"Idempotency-Key": unique("big-")}
    first = apply(api, big_template["id"], customer["id"], headers=key)
    second = apply(api, big_template["id"], customer["id"], headers=key)
    assert first.status == second.status == 202
    assert first.json["id"] == second.json["id"]
    assert len(projects_of(api, customer)) == 1


def test_a_job_attempt_that_dies_is_retried_and_finishes_the_project_it_began(acme: Any, customer: Any) -> None:
    api = acme.as_("owner")
    biggest = create_template(api, numbered_tasks(200), roles=[])  # several transactions
    with second_commit_fails("the job's build"):
        response = apply(api, biggest["id"], customer["id"])
    job = job_of(api, response)
    assert (job["status"], job["attempts"]) == ("succeeded", 2)
    assert projects_of(api, customer) == [job["result"]["project"]["id"]]
    assert len(gantt_by_key(api, job["result"])) == 200


def test_without_an_idempotency_key_the_retry_still_finishes_the_project_its_first_attempt_began(
        acme: Any, customer: Any) -> None:
    api = acme.as_("owner")
    biggest = create_template(api, numbered_tasks(200), roles=[])
    with lambda_retries_later(), second_commit_fails("the job's build"):
        job = job_of(api, apply(api, biggest["id"], customer["id"]))
    with tenant_scope(acme.tenant_id):
        key = Job.get(Job.pk(acme.tenant_id, job["id"]), Job.SORT).arguments["request_key"]
        begun = ApplyClaim.get(ApplyClaim.pk(acme.tenant_id, acme.users["owner"], biggest["id"], key),
                               ApplyClaim.SORT).project_id
    retried = retry_job(acme, job)
    assert (retried["status"], retried["result"]["project"]["id"]) == ("succeeded", begun)


def test_a_job_that_keeps_dying_ends_failed_without_a_trace_of_why(acme: Any, big_template: Any, customer: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.templates import apply as template_apply

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected: secret internals")

    monkeypatch.setattr(template_apply, "_build", broken)
    job = job_of(acme.as_("owner"), apply(acme.as_("owner"), big_template["id"], customer["id"]))
    assert (job["status"], job["attempts"], job["result"]) == ("failed", jobs.MAX_ATTEMPTS, None)
    assert (job["error"]["status"], job["error"]["code"]) == (500, "internal_error")
    assert "secret" not in json.dumps(job)


def test_a_job_refused_by_a_rule_fails_with_its_problem_details(acme: Any, customer: Any) -> None:
    owner = acme.principal("owner")
    with tenant_scope(acme.tenant_id):
        job = jobs.start(owner, "templates.apply", {"template_id": "nosuchtemplate", "request_key": None,
                                                    "request": {"customer_id": customer["id"],
                                                                "anchor": {"source": "date", "date": "2026-06-12"}}},
                         BIG, "test")
    polled = acme.as_("owner").get(f"/jobs/{job.id}").json
    assert (polled["status"], polled["error"]["status"], polled["error"]["code"]) == ("failed", 404, "not_found")


def test_a_finished_job_delivered_again_changes_nothing(acme: Any, big_template: Any, customer: Any) -> None:
    api = acme.as_("owner")
    job = job_of(api, apply(api, big_template["id"], customer["id"]))
    assert jobs.execute(acme.tenant_id, job["id"]) == "succeeded"
    assert api.get(f"/jobs/{job['id']}").json == job
    assert len(projects_of(api, customer)) == 1


def test_a_big_reanchor_answers_202_and_its_job_moves_the_tasks(acme: Any, big_template: Any, customer: Any) -> None:
    api = acme.as_("owner")
    result = applied(api, big_template["id"], customer["id"], "2026-06-12")
    response = api.post(f"/projects/{result['project']['id']}/reanchor", {"anchor_date": "2026-06-22"})
    job = job_of(api, response)
    assert (job["operation"], job["status"]) == ("templates.reanchor", "succeeded"), job
    assert len(job["result"]["moved"]) == BIG
    assert gantt_by_key(api, result)["t000"]["start_date"] == "2026-06-22"
    assert api.get(f"/projects/{result['project']['id']}").json["anchor"]["date"] == "2026-06-22"


def test_members_see_their_own_jobs_and_owners_and_admins_every_job(acme: Any, big_template: Any) -> None:
    member = acme.as_("member")
    mine = create_customer(acme.as_("owner"), owner_id=acme.users["member"])
    job = job_of(member, apply(member, big_template["id"], mine["id"]))
    assert job["created_by"] == acme.users["member"]
    for role in ("owner", "admin"):
        assert acme.as_(role).get(f"/jobs/{job['id']}").status == 200
    owners = job_of(acme.as_("owner"), apply(acme.as_("owner"), big_template["id"], mine["id"]))
    assert_problem(member.get(f"/jobs/{owners['id']}"), 404)
    for role in ("contractor", "readonly", "portal"):
        assert_problem(acme.as_(role).get(f"/jobs/{job['id']}"), 403)


def test_another_tenants_job_is_not_found(acme: Any, globex: Any, big_template: Any, customer: Any) -> None:
    job = job_of(acme.as_("owner"), apply(acme.as_("owner"), big_template["id"], customer["id"]))
    assert_problem(globex.as_("owner").get(f"/jobs/{job['id']}"), 404)
    assert_problem(acme.as_("owner").get("/jobs/nosuchjob"), 404)


def test_on_a_thread_the_202_comes_first_and_the_job_finishes_after(acme: Any, big_template: Any, customer: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEHILL_LOCAL_JOBS", "thread")
    api = acme.as_("owner")
    response = apply(api, big_template["id"], customer["id"])
    assert response.status == 202 and response.json["status"] == "queued"
    dispatch.wait_for_local_jobs()
    assert job_of(api, response)["status"] == "succeeded"


def test_in_aws_a_job_is_an_asynchronous_invoke_of_the_job_function(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    class Lambda:
        def invoke(self, **kwargs: Any) -> None:
            calls.append(kwargs)

    monkeypatch.setenv("JOB_FUNCTION_NAME", "BlueHill-JobRunner")
    monkeypatch.setattr(dispatch, "_lambda", Lambda)
    dispatch.dispatch("acme", "job1")
    assert calls == [{"FunctionName": "BlueHill-JobRunner", "InvocationType": "Event",
                      "Payload": b'{"tenant_id": "acme", "job_id": "job1"}'}]


def test_the_job_function_runs_a_job_as_its_caller(acme: Any, customer: Any) -> None:
    from chalicelib.jobs.runner import job_runner

    owner: Principal = acme.principal("owner")
    with tenant_scope(acme.tenant_id), pytest.MonkeyPatch.context() as patch:
        patch.setattr(dispatch, "dispatch", lambda tenant_id, job_id: None)  # queued, not yet delivered
        job = jobs.start(owner, "templates.apply", {"template_id": "nosuchtemplate", "request_key": None,
                                                    "request": {"customer_id": customer["id"],
                                                                "anchor": {"source": "date", "date": "2026-06-12"}}},
                         BIG, "test")
    assert acme.as_("owner").get(f"/jobs/{job.id}").json["status"] == "queued"
    assert job_runner({"tenant_id": acme.tenant_id, "job_id": job.id}, None) == {"job_id": job.id,
                                                                                 "status": "failed"}


def test_archiving_a_board_past_the_request_limit_answers_202_and_its_job_unlists_the_tasks(
        acme: Any, customer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.work import service as work

    monkeypatch.setattr(work, "ARCHIVE_IN_REQUEST_TASKS", 3)
    api = acme.as_("owner")
    board = api.post(f"/customers/{customer['id']}/projects", {"name": unique("Big board ")}).json
    made = [api.post(f"/projects/{board['id']}/tasks", {"title": f"Step {n}"}).json["id"] for n in range(5)]
    response = api.delete(f"/projects/{board['id']}")
    assert response.status == 202, response.body
    assert response.json["operation"] == "work.archive"
    assert api.get(f"/projects/{board['id']}").json["archived"] is True  # archived in the request itself
    job = job_of(api, response)
    assert (job["status"], job["result"]) == ("succeeded", {"project_id": board["id"], "archived": True})
    listed = {task["id"] for task in api.get(f"/tasks?project_id={board['id']}&limit=200").json["items"]}
    assert listed.isdisjoint(made)
    assert api.get(f"/tasks/{made[0]}").status == 200  # still readable


def test_archiving_a_board_within_the_request_limit_answers_at_once(acme: Any, customer: Any) -> None:
    api = acme.as_("owner")
    board = api.post(f"/customers/{customer['id']}/projects", {"name": unique("Small board ")}).json
    api.post(f"/projects/{board['id']}/tasks", {"title": "Only step"})
    response = api.delete(f"/projects/{board['id']}")
    assert response.status == 200 and response.json["archived"] is True
