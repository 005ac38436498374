"""Jobs of the templates room: applies and re-anchors too big for one request
(apply.JOB_THRESHOLD_TASKS) run on the job function (chalicelib.jobs). Registered on import:
the routes that start them import this module, and so does the job function."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.jobs import service as jobs

from . import apply

APPLY_JOB, REANCHOR_JOB = "templates.apply", "templates.reanchor"


def run_apply(principal: Principal, arguments: dict[str, Any]) -> dict[str, Any]:
    """The apply, keyed by the request's Idempotency-Key (else a key of its own), so a retried
    invocation finishes the project its first attempt began. The result names each task by
    key, id and dates; the tasks themselves are read from the project."""
    request = dict(arguments["request"])
    if request["anchor"].get("date"):
        request["anchor"] = {**request["anchor"], "date": date.fromisoformat(request["anchor"]["date"])}
    result = apply.apply_template(principal, arguments["template_id"], request, arguments["request_key"])
    tasks = [{name: task[name] for name in ("key", "id", "start_date", "due_date")} for task in result["tasks"]]
    return {**result, "tasks": tasks}


def run_reanchor(principal: Principal, arguments: dict[str, Any]) -> dict[str, Any]:
    return apply.reanchor(principal, arguments["project_id"], date.fromisoformat(arguments["anchor_date"]),
                          bool(arguments["include_edited"]))


jobs.register(APPLY_JOB, run_apply, "templates:apply")
jobs.register(REANCHOR_JOB, run_reanchor, "templates:apply")
