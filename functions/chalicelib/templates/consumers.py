"""What the templates room does on other rooms' events (see core/consumers.py): seed a new
tenant's library, move projects that follow their customer's contract_start, and count
projects made from a template and completions of template-made work for its analytics.

Each runs once per event id (the registry's processed marker) and tolerates any order: a
re-anchor applies only a customer version newer than the one its link followed; the counters
are additive and count each task and project once."""

from __future__ import annotations

from datetime import date

from chalicelib.core.auth import Principal
from chalicelib.core.consumers import consumer
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.events import Event
from chalicelib.core.observability import logger
from chalicelib.customers.events import CustomerUpdated
from chalicelib.forms.events import FormSubmitted
from chalicelib.team.events import TenantCreated
from chalicelib.templates.events import TemplateApplied
from chalicelib.work.events import ProjectStatusChanged, TaskCompleted

from . import apply, service

AUTOMATION_USER = "automation"
DONE_STATUS = "complete"


def automation(tenant_id: str) -> Principal:
    """Who a handler acts as: the tenant's automation, with the owner's reach (audited as such)."""
    return Principal(tenant_id=tenant_id, user_id=AUTOMATION_USER, role="owner", email="")


@consumer("templates_seed_library", TenantCreated)
def seed_library(event: Event) -> bool:
    """A new tenant starts with its own copies of the built-in templates."""
    created = event.data_as(TenantCreated)
    founder = Principal(tenant_id=event.tenant_id, user_id=created.owner_id, role="owner", email="")
    return service.seed_library(founder, event.id)


@consumer("templates_follow_contract_start", CustomerUpdated)
def follow_contract_start(event: Event) -> int:
    """Projects that follow their customer's contract_start move with it."""
    updated = event.data_as(CustomerUpdated)
    change = updated.changes.get("contract_start")
    if change is None or not change.after:
        return 0
    moved = apply.follow_contract_start(automation(event.tenant_id), updated.customer_id, updated.version,
                                        change.after)
    logger().info("projects re-anchored on contract_start", extra={"tenant_id": event.tenant_id, "projects": moved})
    return moved


@consumer("templates_count_project_created", TemplateApplied)
def count_project_created(event: Event) -> bool:
    """A project made from a template counts in its analytics (projects created per version)."""
    made = event.data_as(TemplateApplied)
    return service.count_project_created(event.tenant_id, made.template_id, made.project_id, made.template_version)


@consumer("templates_count_task_completion", TaskCompleted)
def count_task_completion(event: Event) -> bool:
    """A template task's completion counts in its template's analytics (actual vs planned Day)."""
    completed = event.data_as(TaskCompleted)
    return apply.count_task_completed(event.tenant_id, completed.project_id, completed.task_id,
                                      completed.completed_at, completed.late)


@consumer("templates_count_project_completion", ProjectStatusChanged)
def count_project_completion(event: Event) -> bool:
    """A template-made project's completion counts in its template's analytics."""
    moved = event.data_as(ProjectStatusChanged)
    if moved.to != DONE_STATUS:
        return False
    return apply.count_project_completed(event.tenant_id, moved.project_id, date.fromisoformat(event.occurred_at[:10]))


@consumer("templates_apply_from_form", FormSubmitted)
def apply_from_form(event: Event) -> int:
    """A submitted form's apply_template actions build the customer's onboarding board, anchored
    on the date answered, owned by whoever published the form; once per submission (the apply's
    claim is keyed by the event)."""
    submitted = event.data_as(FormSubmitted)
    built = 0
    for index, action in enumerate(submitted.actions):
        if action.type != "apply_template" or not submitted.customer_id:
            continue
        request = {"customer_id": submitted.customer_id, "anchor": {"source": "date",
                                                                 "date": date.fromisoformat(str(action.anchor_date))}}
        publisher = Principal(tenant_id=event.tenant_id, user_id=action.on_behalf_of or AUTOMATION_USER, role="owner",
                              email="")
        try:
            apply.apply_template(publisher, str(action.template_id), request,
                                 request_key=f"form-{event.id}-{index}")
            built += 1
        except (NotFound, ValidationFailed, Conflict) as refused:  # template archived or removed since
            logger().warning("form template not applied", extra={"tenant_id": event.tenant_id,
                                                                 "reason": str(refused)})
    return built
