"""Who reads which feed, and which one Query answers each request (see feed.py).

- owner, admin, readonly (ALL): the customer's / project's / tenant's feed;
- member (OWNED): a customer they own or are on the team of (else 404); a project the work room
  lets them read; on /activity, a FilterExpression keeps their customers' entries and entries
  assigned to them;
- contractor (ASSIGNED): the entries assigned to them (`A#<me>`) — of that customer, on a
  customer timeline; a project naming them;
- portal (OWN_COMPANY): their own customer's `shared` entries only (`C#<id>#S`): nothing
  internal is even read. No project timeline, no /activity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import NotFound, validation_error
from chalicelib.core.pagination import Page
from chalicelib.core.permissions import Reach, require
from chalicelib.customers import service as customers
from chalicelib.work import service as work

from . import kinds, reports
from .feed import Plan, entry_view, read
from .registry import PROJECTIONS

MAX_REACH_IN_FILTER = 99  # DynamoDB's IN takes at most 100 operands


def known_types(tenant_id: str) -> set[str]:
    kinds_shown = {name for name in PROJECTIONS if not name.startswith("Interaction.")}
    return {entry["key"] for entry in kinds.all_types(tenant_id)} | kinds_shown


def _type_filters(principal: Principal, plan: Plan, filters: dict[str, Any]) -> None:
    known = known_types(principal.tenant_id)
    for name in ("types", "exclude_types"):
        for value in filters.get(name) or []:
            if value not in known:
                raise validation_error(name, f"{value!r} is not an interaction type or an entry kind")
    wanted = set(filters["types"]) if filters.get("types") else None
    excluded = set(filters.get("exclude_types") or [])
    if filters.get("customer_facing") is not None:
        facing = kinds.customer_facing_keys(principal.tenant_id)
        if filters["customer_facing"]:
            wanted = facing if wanted is None else wanted & facing
        else:
            excluded |= facing
    if wanted is not None:
        plan.etype_in = sorted(wanted - excluded)
    elif excluded:
        plan.etype_not_in = sorted(excluded)
    if filters.get("system") is not None and not plan.placement.endswith("#H"):
        plan.where["system"] = filters["system"]


def _range(filters: dict[str, Any]) -> tuple[str | None, str | None]:
    return filters.get("from"), filters.get("to")


def _page(principal: Principal, plan: Plan, filters: dict[str, Any], limit: int,
          cursor: str | None) -> Page[dict[str, Any]]:
    _type_filters(principal, plan, filters)
    start, end = _range(filters)
    page = read(principal.tenant_id, plan, start, end, limit, cursor)
    portal = principal.role == "portal"
    return Page([entry_view(item, portal) for item in page.items], page.next_cursor)


def customer_timeline(principal: Principal, customer_id: str, filters: dict[str, Any], limit: int,
                      cursor: str | None) -> Page[dict[str, Any]]:
    reach = require(principal, "timeline:read")
    if reach is Reach.OWN_COMPANY:
        if customer_id != principal.customer_id:
            raise NotFound(f"customer {customer_id} not found")
        plan = Plan(f"C#{customer_id}#S")  # shared entries only: nothing internal is even read
        _narrow(plan, filters, ("project_id", "ticket_id", "contact_id"))
        return _page(principal, plan, filters, limit, cursor)
    if reach is Reach.ASSIGNED:
        plan = Plan(f"A#{principal.user_id}", where={"customer_id": customer_id})
        _narrow(plan, filters, ("project_id", "ticket_id", "contact_id"))
        return _page(principal, plan, filters, limit, cursor)
    if not customers.reaches_customer(principal, customer_id):  # absent, another tenant's, out of reach
        raise NotFound(f"customer {customer_id} not found")
    plan = _customer_plan(customer_id, filters)
    return _page(principal, plan, filters, limit, cursor)


def _customer_plan(customer_id: str, filters: dict[str, Any]) -> Plan:
    """The most selective partition the filters name, the others filtered on it."""
    for name, prefix in (("ticket_id", "K"), ("contact_id", "CT"), ("project_id", "P")):
        if filters.get(name):
            plan = Plan(f"{prefix}#{filters[name]}", where={"customer_id": customer_id})
            _narrow(plan, filters, tuple(other for other in ("project_id", "ticket_id", "contact_id") if other != name))
            return plan
    return Plan(f"C#{customer_id}#H" if filters.get("system") is False else f"C#{customer_id}")


def _narrow(plan: Plan, filters: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if filters.get(name):
            if name == "contact_id":
                plan.contains["contact_ids"] = filters[name]
            else:
                plan.where[name] = filters[name]


def project_timeline(principal: Principal, project_id: str, filters: dict[str, Any], limit: int,
                     cursor: str | None) -> Page[dict[str, Any]]:
    require(principal, "timeline:read")
    work.get_project(principal, project_id)  # 404 unless the caller reaches the project
    plan = Plan(f"P#{project_id}")
    _narrow_activity(plan, filters)
    return _page(principal, plan, filters, limit, cursor)


def _narrow_activity(plan: Plan, filters: dict[str, Any]) -> None:
    if filters.get("customer_id") and not plan.placement.startswith("C#"):
        plan.where["customer_id"] = filters["customer_id"]
    if filters.get("actor_id") and not plan.placement.startswith("U#"):
        plan.where["actor_id"] = filters["actor_id"]


def activity(principal: Principal, filters: dict[str, Any], limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    reach = require(principal, "activity:read")
    customer_id, actor_id = filters.get("customer_id"), filters.get("actor_id")
    if reach is Reach.ASSIGNED:
        plan = Plan(f"A#{principal.user_id}")
    elif customer_id:
        if reach is Reach.OWNED and not customers.reaches_customer(principal, customer_id):
            return Page([], None)  # a customer out of reach holds nothing for them
        plan = Plan(f"C#{customer_id}")
    else:
        plan = Plan(f"U#{actor_id}" if actor_id else "ALL")
        if reach is Reach.OWNED:
            reached = customers.reachable_customer_ids(principal)
            if len(reached) > MAX_REACH_IN_FILTER:
                raise validation_error("customer_id", f"you reach more than {MAX_REACH_IN_FILTER} customers: "
                                       "name one with customer_id")
            plan.customer_in, plan.or_assigned = reached, principal.user_id
    _narrow_activity(plan, filters)
    return _page(principal, plan, filters, limit, cursor)


# ---------- reports ----------


def _days(filters: dict[str, Any]) -> tuple[date, date]:
    end = filters.get("to") or datetime.now(UTC).date()
    start = filters.get("from") or end - timedelta(days=89)
    if (end - start).days + 1 > reports.MAX_DAYS:
        raise validation_error("from", f"a heatmap spans at most {reports.MAX_DAYS} days")
    return start, end


def heatmap(principal: Principal, filters: dict[str, Any]) -> dict[str, Any]:
    reach = require(principal, "reports:activity")
    kind, _, scope_id = filters["scope"].partition(":")
    if reach is Reach.OWNED:
        _member_scope(principal, kind, scope_id)
    if kind == "customer":
        customers.get_customer(principal, scope_id)
    elif kind == "project":
        work.get_project(principal, scope_id)
    scope = {"org": "ORG", "customer": f"C#{scope_id}", "project": f"P#{scope_id}", "member": f"M#{scope_id}"}[kind]
    start, end = _days(filters)
    types = filters.get("types")
    if types:
        known = known_types(principal.tenant_id)
        unknown = [value for value in types if value not in known]
        if unknown:
            raise validation_error("types", f"{unknown[0]!r} is not an interaction type or an entry kind")
    answer = reports.heatmap(principal.tenant_id, scope, filters["rows"], filters["bucket"], start, end,
                             types or None, filters.get("system"))
    return {**answer, "scope": filters["scope"]}


def _member_scope(principal: Principal, kind: str, scope_id: str) -> None:
    """A member's heatmaps: of a customer or project they reach, or of themselves."""
    if kind == "org" or (kind == "member" and scope_id != principal.user_id):
        raise validation_error("scope", "a member's heatmap is of a customer or project they reach, "
                               "or member:<their own id>")


def quiet_customers(principal: Principal, days: int, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    reach = require(principal, "reports:activity")
    member = principal.user_id if reach is Reach.OWNED else None
    page = reports.quiet_customers(principal.tenant_id, days, member, limit, cursor)
    return Page([reports.touch_view(touch) for touch in page.items], page.next_cursor)
