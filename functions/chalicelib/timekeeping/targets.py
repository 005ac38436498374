"""What an entry or timer is on: a task, a ticket, an interaction or a customer — resolved to
its customer (always set), project, task type and suggested category, through the owning
rooms' service reads (work, tickets, customers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import NotFound, validation_error
from chalicelib.core.reads import ReadPlan
from chalicelib.customers import service as customers
from chalicelib.tickets import service as tickets
from chalicelib.work import service as work

from . import rules
from .settings import Context, context_for

TARGET_FIELDS = ("task_id", "ticket_id", "interaction_id", "customer_id")


@dataclass
class Target:
    customer_id: str
    project_id: str | None = None
    task_id: str | None = None
    ticket_id: str | None = None
    interaction_id: str | None = None
    task_type: str | None = None

    def fields(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_one(fields: dict[str, Any]) -> None:
    named = [name for name in ("task_id", "ticket_id") if fields.get(name)]
    if len(named) > 1:
        raise validation_error(named[1], "name one of task_id, ticket_id, interaction_id or customer_id")
    if not named and not fields.get("customer_id"):
        raise validation_error("customer_id", "name a task_id, ticket_id, or a customer_id "
                               "(an interaction_id comes with its customer_id)")


def resolve(principal: Principal, fields: dict[str, Any]) -> tuple[Target, Context]:
    """The target the fields name, and the room's context, in as few reads as the target allows:
    a task is one BatchGet (work's), a ticket one GetItem (tickets'), then one BatchGet of the
    customer with the settings, the rate rules and the tenant."""
    _check_one(fields)
    target: Target
    if fields.get("task_id"):
        try:
            task = work.task_for_time(principal, fields["task_id"])
        except NotFound as missing:
            raise validation_error("task_id", f"task {fields['task_id']} does not exist") from missing
        target = Target(task["customer_id"], task["project_id"], task["id"], task_type=task["task_type"])
    elif fields.get("ticket_id"):
        try:
            ticket = tickets.get_ticket(principal, fields["ticket_id"])
        except NotFound as missing:
            raise validation_error("ticket_id", f"ticket {fields['ticket_id']} does not exist") from missing
        target = Target(ticket.customer_id, ticket_id=ticket.id)
    else:
        target = Target(fields["customer_id"], interaction_id=fields.get("interaction_id"))
    if fields.get("customer_id") and fields["customer_id"] != target.customer_id:
        raise validation_error("customer_id", "is not the customer of the task or ticket named")
    plan = ReadPlan()
    customer = customers.customer_for(plan, principal, target.customer_id) if target.task_id is None \
        and target.ticket_id is None else None
    context = context_for(plan, principal.tenant_id)
    plan.run()
    if customer is not None:
        try:
            customer()
        except NotFound as missing:
            raise validation_error("customer_id", f"customer {target.customer_id} does not exist") from missing
    return target, context()


def billable_of(context: Context, target: Target, manual: bool | None) -> tuple[bool, str]:
    settings = context.settings
    task_type = (settings["task_types"].get(target.task_type) or {}).get("billable") if target.task_type else None
    project = settings["projects"].get(target.project_id) if target.project_id else None
    return rules.decide_billable(task_type=task_type, project=project,
                                 customer=settings["customers"].get(target.customer_id),
                                 tenant=bool(settings["default_billable"]), manual=manual)


def category_of(context: Context, target: Target, chosen: str | None, interaction_type: str | None = None) -> str:
    if chosen is not None:
        if chosen not in context.categories():
            raise validation_error("category", f"unknown category {chosen!r}; one of {', '.join(context.categories())}")
        return chosen
    settings = context.settings
    task_types = {name: spec["category"] for name, spec in settings["task_types"].items() if spec.get("category")}
    return rules.suggest_category(task_type=target.task_type, ticket=target.ticket_id is not None,
                                  interaction_type=interaction_type, task_types=task_types,
                                  interaction_types=settings["interaction_types"])


def rate_of(context: Context, target: Target, user_id: str) -> rules.Rate:
    return rules.resolve_rate(context.rules, user_id=user_id, customer_id=target.customer_id,
                              project_id=target.project_id, default_currency=context.currency)
