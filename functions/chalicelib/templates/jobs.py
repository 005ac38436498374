"""Event handlers: projects follow their customer's contract_start, and completions of
template-made work are counted for the template's analytics. Each is idempotent under replay."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint
from chalice.app import CloudWatchEvent

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py)
from chalicelib.core.auth import Principal
from chalicelib.core.observability import logger
from chalicelib.core.scope import tenant_scope
from chalicelib.jobs import service as jobs

from . import apply

bp = Blueprint(__name__)

AUTOMATION_USER = "automation"
DONE_STATUS = "complete"


def automation(tenant_id: str) -> Principal:
    """Who a handler acts as: the tenant's automation, with the owner's reach (audited as such)."""
    return Principal(tenant_id=tenant_id, user_id=AUTOMATION_USER, role="owner", email="")


def follow_contract_start(detail: dict[str, Any]) -> int:
    change = (detail.get("changes") or {}).get("contract_start")
    if not change or not change.get("after"):
        return 0
    tenant = detail["tenant_id"]
    with tenant_scope(tenant):
        moved = apply.follow_contract_start(automation(tenant), detail["customer_id"], int(detail["version"]),
                                            change["after"])
    logger().info("projects re-anchored on contract_start", extra={"tenant_id": tenant, "projects": moved})
    return moved


def count_task_completion(detail: dict[str, Any]) -> bool:
    with tenant_scope(detail["tenant_id"]):
        return apply.count_task_completed(detail["tenant_id"], detail["project_id"], detail["task_id"],
                                          detail["completed_at"], bool(detail.get("late")))


def count_project_completion(detail: dict[str, Any]) -> bool:
    if detail.get("to") != DONE_STATUS:
        return False
    with tenant_scope(detail["tenant_id"]):
        return apply.count_project_completed(detail["tenant_id"], detail["project_id"],
                                             date.fromisoformat(detail["occurred_at"][:10]))


@bp.on_cw_event({"source": ["bluehill.customers"], "detail-type": ["Customer.Updated"]})
def templates_follow_contract_start(event: CloudWatchEvent) -> None:
    follow_contract_start(event.detail)


@bp.on_cw_event({"source": ["bluehill.work"], "detail-type": ["Task.Completed"]})
def templates_count_task_completion(event: CloudWatchEvent) -> None:
    count_task_completion(event.detail)


@bp.on_cw_event({"source": ["bluehill.work"], "detail-type": ["Project.StatusChanged"]})
def templates_count_project_completion(event: CloudWatchEvent) -> None:
    count_project_completion(event.detail)


# ---------- jobs: applies and re-anchors too big for one request (apply.JOB_THRESHOLD_TASKS) ----------

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


jobs.register(apply.APPLY_JOB, run_apply, "templates:apply")
jobs.register(apply.REANCHOR_JOB, run_reanchor, "templates:apply")
