"""What the template API tests share: templates, customers and applied projects built through
the API, and the events the template handlers consume (from the samples in events/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tests.api.foundation_helpers import unique

EVENTS = Path(__file__).resolve().parents[2] / "events"

SMALL_TASKS = [
    {"key": "prep", "title": "Prepare", "day": -2, "duration_days": 2, "assignee_role": "csm"},
    {"key": "kickoff", "title": "Kickoff call", "day": 3, "is_milestone": True, "depends_on": ["prep"],
     "assignee_role": "csm", "weight": 3},
    {"key": "agenda", "title": "Agenda", "day": 3, "parent_key": "kickoff"},
    {"key": "import", "title": "Data import", "day": 4, "duration_days": 3, "depends_on": ["kickoff"],
     "assignee_role": "implementation_lead"},
    {"key": "go-live", "title": "Go-live", "day": 14, "depends_on": ["import"], "is_milestone": True},
]


def create_template(api: Any, tasks: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("Template "), "category": "onboarding", "roles": ["csm", "implementation_lead"],
            "tasks": SMALL_TASKS if tasks is None else tasks, **fields}
    created = api.post("/templates", body)
    assert created.status == 201, created.body
    return created.json


def numbered_tasks(count: int) -> list[dict[str, Any]]:
    return [{"key": f"t{n:03d}", "title": f"Step {n}", "day": 1 + n % 30} for n in range(count)]


def create_customer(api: Any, **fields: Any) -> dict[str, Any]:
    created = api.post("/customers", {"name": unique("Customer "), **fields})
    assert created.status == 201, created.body
    return created.json


def apply(api: Any, template_id: str, customer_id: str, anchor: str | dict[str, str] = "2026-06-12",
          headers: Any = None, **fields: Any) -> Any:
    """POST apply; `anchor` is a date, or the anchor object itself."""
    body = {"customer_id": customer_id, "anchor": anchor if isinstance(anchor, dict) else {"date": anchor}, **fields}
    return api.post(f"/templates/{template_id}/apply", body, headers=headers or {})


def job_of(api: Any, accepted: Any) -> dict[str, Any]:
    """The job a 202 points at (its Location), as it stands."""
    assert accepted.status == 202, accepted.body
    location = {name.lower(): value for name, value in accepted.headers.items()}["location"]
    assert location == f"/jobs/{accepted.json['id']}"
    polled = api.get(location)
    assert polled.status == 200, polled.body
    return polled.json


def result_of(api: Any, response: Any) -> dict[str, Any]:
    """The answer of a request, or of the job a 202 started (the tests run jobs inline)."""
    if response.status != 202:
        return response.json
    job = job_of(api, response)
    assert job["status"] == "succeeded", job
    return job["result"]


def applied(api: Any, template_id: str, customer_id: str, anchor: str | dict[str, str] = "2026-06-12",
            **fields: Any) -> dict:
    """Applied, through a job when the template is big (more than apply.JOB_THRESHOLD_TASKS)."""
    response = apply(api, template_id, customer_id, anchor, **fields)
    assert response.status in (201, 202), response.body
    return result_of(api, response)


def task_by_key(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["key"]: task for task in result["tasks"]}


def gantt_by_key(api: Any, result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    keys = result["task_keys"]
    board = api.get(f"/projects/{result['project']['id']}/gantt")
    assert board.status == 200, board.body
    return {keys[task["id"]]: task for task in board.json["tasks"] if task["id"] in keys}


def sample_event(name: str, tenant_id: str | None = None, occurred_at: str | None = None,
                 event_id: str | None = None, **data: Any) -> dict[str, Any]:
    """A sample EventBridge event from events/, its envelope with a new id (or `event_id`),
    this tenant and time, and these data fields."""
    from chalicelib.core.ids import new_id

    event = json.loads((EVENTS / name).read_text())
    envelope = event["detail"]
    envelope["id"] = event_id or new_id()
    envelope["tenant_id"] = tenant_id or envelope["tenant_id"]
    envelope["occurred_at"] = occurred_at or envelope["occurred_at"]
    envelope["data"].update(data)
    return event



@contextmanager
def second_commit_fails(what: str) -> Iterator[None]:
    """Transactions commit as usual, except the second one from here, which fails: a Lambda
    dying part way through `what`."""
    from chalicelib.core import table

    real_commit, commits = table.Transaction.commit, []

    def commit(self: Any) -> None:
        commits.append(len(self))
        if len(commits) == 2:
            raise RuntimeError(f"injected: {what} stops part way")
        real_commit(self)

    table.Transaction.commit = commit  # type: ignore[method-assign]
    try:
        yield
    finally:
        table.Transaction.commit = real_commit  # type: ignore[method-assign]


@contextmanager
def lambda_retries_later() -> Iterator[None]:
    """A job attempt that dies is not retried at once: the test retries it (`retry_job`) when
    it has looked at what the failed attempt left, as Lambda retries an invocation later."""
    from chalicelib.jobs import dispatch
    from chalicelib.jobs import service as jobs

    def one_attempt(tenant_id: str, job_id: str) -> None:
        with suppress(RuntimeError):
            jobs.execute(tenant_id, job_id)

    real, dispatch.run_locally = dispatch.run_locally, one_attempt  # type: ignore[assignment]
    try:
        yield
    finally:
        dispatch.run_locally = real  # type: ignore[assignment]


def retry_job(tenant: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Lambda's retry of a job's invocation; the job as it then stands."""
    from chalicelib.jobs import service as jobs

    jobs.execute(tenant.tenant_id, job["id"])
    return tenant.as_("owner").get(f"/jobs/{job['id']}").json
