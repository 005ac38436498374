"""Which tickets a caller reaches: the one rule every ticket route, list and filter asks.

| role (reach in the permission table) | reaches a ticket when |
|---|---|
| owner, admin, readonly (`ALL`) | always |
| member (`OWNED`) | they reach its customer (its owner or on its team), are its assignee, or work its queue |
| contractor (`ASSIGNED`) | they are its assignee |
| portal (`OWN_COMPANY`) | it is their company's and, unless it shares tickets, theirs (`customer_audience`) |

The customers room answers who reaches a customer, the queues room who works a queue.

A ticket out of reach is a 404 on every route, as if it did not exist.

Lists read index partitions (see models). `list_groups` turns the caller's reach and filters
into the partitions to read, in turn:
- when the filters already keep the list inside the caller's reach (everyone but members; a
  member filtering on their own assignee id, a customer they reach, a queue they work), one
  group: the partition of the most selective filter, as for anyone;
- otherwise a member reads each partition of their reach — assigned to them, each queue they
  work, each customer they reach — with every filter applied to the entries, and lists a
  ticket only in the first group that holds it. The order asked for holds within each group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import NotFound, validation_error
from chalicelib.core.permissions import Reach, require
from chalicelib.customers import service as customers
from chalicelib.portal import facts as portal_facts
from chalicelib.queues import service as queues

from .models import FilterFields, Ticket

# Who works a ticket and its SLA standing are the team's: portal users neither see these fields
# (absent from their answers, not null) nor filter or sort by them.
TEAM_ONLY_FILTERS = ("assignee_id", "queue_id", "sla_state")
TEAM_ONLY_SORTS = ("sla_due",)

# The facet a list reads by, most selective first; the other filters apply to its entries.
FACET_ORDER = ("customer_id", "assignee_id", "queue_id", "sla_state", "status", "category", "priority", "source")


# The author of a customer's email on a ticket (no token carries this user id): the mail room's
# Mail.Received, posted by tickets/consumers.py as the customer's words, with the customer's reach.
EMAIL_AUTHOR = "mail"


@dataclass(frozen=True)
class CustomerAudience:
    """Which of their company's tickets one of the customer's people reaches."""

    company: bool  # every ticket of the company
    contact_id: str | None  # the contact they are: the requester of their own tickets

    def sees(self, ticket: Any) -> bool:
        return self.company or (self.contact_id is not None
                                and getattr(ticket, "requester_contact_id", None) == self.contact_id)


def customer_audience(principal: Principal) -> CustomerAudience:
    """The one rule for a portal user's tickets, on /tickets and /portal/tickets alike: the
    company's tickets when the customer's `portal_ticket_sharing` is `company` or the user is a
    portal admin, else only those they are the requester of. Mail from the customer, routed to
    its ticket by the system (EMAIL_AUTHOR), acts for the company."""
    if principal.user_id == EMAIL_AUTHOR:
        return CustomerAudience(True, None)
    facts = portal_facts.portal_user(principal.tenant_id, principal.user_id)
    contact_id = facts.contact_id if facts else None
    if facts is not None and facts.portal_admin:
        return CustomerAudience(True, contact_id)
    customer = customers.get_customer(principal, principal.customer_id or "")
    return CustomerAudience(customer.portal_ticket_sharing == "company", contact_id)


def is_customer(principal: Principal) -> bool:
    """A portal user: one of the customer's own people."""
    return principal.role == "portal"


def sees_team_fields(principal: Principal) -> bool:
    """Everyone who reads tickets but the portal audience (the customer's own people)."""
    return require(principal, "tickets:read") is not Reach.OWN_COMPANY


def require_audience_filters(principal: Principal, filters: dict[str, Any], sort: str) -> None:
    """A 422 naming a team-only filter or order used by a portal user: answering it, even with
    an empty list, would tell who works their tickets."""
    if sees_team_fields(principal):
        return
    used = [name for name in TEAM_ONLY_FILTERS if filters.get(name) is not None]
    if used:
        raise validation_error(used[0], "is not a filter portal users may use")
    if sort in TEAM_ONLY_SORTS:
        raise validation_error("sort", f"{sort} is not an order portal users may use")


def reaches(principal: Principal, reach: Reach, ticket: Ticket) -> bool:
    if reach is Reach.ALL:
        return True
    if reach is Reach.OWN_COMPANY:
        return ticket.customer_id == principal.customer_id and customer_audience(principal).sees(ticket)
    if ticket.assignee_id == principal.user_id:
        return True
    if reach is not Reach.OWNED:
        return False
    if customers.reaches_customer(principal, ticket.customer_id):
        return True
    return bool(ticket.queue_id) and queues.works_queue(principal.tenant_id, ticket.queue_id, principal.user_id)


def load(principal: Principal, ticket_id: str, action: str) -> Ticket:
    """The ticket, if the role may do `action` (403 otherwise) and the caller reaches it (404)."""
    reach = require(principal, action)
    try:
        ticket = Ticket.get(Ticket.pk(principal.tenant_id, ticket_id), Ticket.SORT)
    except Ticket.DoesNotExist as missing:
        raise NotFound(f"ticket {ticket_id} not found") from missing
    if not reaches(principal, reach, ticket):
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


@dataclass(frozen=True)
class Group:
    """One partition a list reads: a facet's value (None: every ticket of the tenant), and
    which of its index entries to list (an entry an earlier group already listed is skipped)."""

    facet: str | None
    value: str | None
    keep: Callable[[FilterFields], bool] | None = None  # None: the group drops nothing


def _narrowest(filters: dict[str, Any]) -> Group:
    facet = next((name for name in FACET_ORDER if filters.get(name) is not None), None)
    return Group(facet, str(filters[facet]) if facet else None)


def _within_reach(principal: Principal, filters: dict[str, Any]) -> bool:
    """Whether a member's filters already keep the list to tickets they reach."""
    if filters.get("assignee_id") == principal.user_id:
        return True
    if filters.get("customer_id") and customers.reaches_customer(principal, filters["customer_id"]):
        return True
    queue_id = filters.get("queue_id")
    return bool(queue_id) and queues.works_queue(principal.tenant_id, queue_id, principal.user_id)


def _first_holder(earlier: list[tuple[str, str]]) -> Callable[[FilterFields], bool] | None:
    if not earlier:
        return None
    return lambda entry: not any(getattr(entry, facet) == value for facet, value in earlier)


def _reach_groups(principal: Principal, filters: dict[str, Any]) -> list[Group]:
    me, tenant = principal.user_id, principal.tenant_id
    partitions = [("assignee_id", me), *(("queue_id", q) for q in queues.queues_worked_by(tenant, me)),
                  *(("customer_id", c) for c in customers.reachable_customer_ids(principal))]
    # a partition the filters contradict holds nothing the list wants
    partitions = [(facet, value) for facet, value in partitions if filters.get(facet) in (None, value)]
    return [Group(facet, value, _first_holder(partitions[:n])) for n, (facet, value) in enumerate(partitions)]


def list_groups(principal: Principal, reach: Reach, filters: dict[str, Any]) -> tuple[dict[str, Any], list[Group]]:
    """(the filters as the list applies them, the partitions it reads in turn); no groups: an
    empty list (a portal user or contractor filtering on someone else's)."""
    filters = dict(filters)
    if reach is Reach.OWN_COMPANY:
        if filters.get("customer_id", principal.customer_id) != principal.customer_id:
            return filters, []
        filters["customer_id"] = principal.customer_id
        audience = customer_audience(principal)
        if audience.company:
            return filters, [_narrowest(filters)]
        if audience.contact_id is None:
            return filters, []
        return filters, [Group("customer_id", principal.customer_id, audience.sees)]
    elif reach is Reach.ASSIGNED:
        if filters.get("assignee_id", principal.user_id) != principal.user_id:
            return filters, []
        filters["assignee_id"] = principal.user_id
    elif reach is Reach.OWNED and not _within_reach(principal, filters):
        return filters, _reach_groups(principal, filters)
    return filters, [_narrowest(filters)]
