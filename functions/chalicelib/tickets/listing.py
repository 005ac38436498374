"""Ticket lists: the partition of the most selective facet the caller may read (access.py),
the remaining filters on the index entries, the tickets BatchGot; and a ticket's messages."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.core.auth import Principal
from chalicelib.core.pagination import Page, PageReader, read_page
from chalicelib.core.permissions import require
from chalicelib.core.table import query_reader, read_items
from chalicelib.customers import service as customers

from . import access
from .models import (
    FACETS,
    UNASSIGNED,
    Ticket,
    TicketIndexEntry,
    TicketMessage,
    tickets_pk,
)


def _condition(filters: dict[str, Any], skip: str | None, created_in_key: bool) -> Condition | None:
    terms: list[Condition] = []
    for name in FACETS:
        value = filters.get(name)
        if value is None or name == skip:
            continue
        attribute = getattr(Ticket, name)
        terms.append(attribute.does_not_exist() if name == "assignee_id" and value == UNASSIGNED
                     else attribute == value)
    if not created_in_key and filters.get("created_after"):
        terms.append(Ticket.created_at >= filters["created_after"])
    if not created_in_key and filters.get("created_before"):
        terms.append(Ticket.created_at < filters["created_before"])
    condition: Condition | None = None
    for term in terms:
        condition = term if condition is None else condition & term
    return condition


def _created_range(filters: dict[str, Any]) -> Condition | None:
    """On the created order the range is a key condition: nothing outside it is read."""
    after, before = filters.get("created_after"), filters.get("created_before")
    sort_key = Ticket.GSI4SK
    if after and before:
        return sort_key.between(after, before)
    if after:
        return sort_key >= after
    return sort_key < before if before else None


SORTS = {"sla_due": ("by_deadline", False), "priority": ("by_priority", False), "updated": ("by_updated", True),
         "created": ("by_created", True)}


def list_tickets(principal: Principal, filters: dict[str, Any], sort: str, limit: int,
                 cursor: str | None) -> Page[Ticket]:
    reach = require(principal, "tickets:read")
    filters = {k: v for k, v in filters.items() if v is not None}
    access.require_audience_filters(principal, filters, sort)
    if filters.get("assignee_id") == "me":
        filters["assignee_id"] = principal.user_id
    filters, groups = access.list_groups(principal, reach, filters)
    sources = [_group_source(principal.tenant_id, group, filters, sort) for group in groups]
    return read_page(sources, limit, cursor)


def _group_source(tenant_id: str, group: access.Group, filters: dict[str, Any], sort: str) -> PageReader[Ticket]:
    index_name, newest_first = SORTS[sort]
    by_created = sort == "created"
    model = Ticket if group.facet is None else TicketIndexEntry
    partition = tickets_pk(tenant_id, *((group.facet, group.value) if group.facet and group.value else ()))
    return query_reader(getattr(model, index_name), partition, _created_range(filters) if by_created else None,
                        _condition(filters, group.facet, by_created), newest_first,
                        resolve=None if group.facet is None else _tickets_of, keep=group.keep)


def _tickets_of(entries: list[TicketIndexEntry]) -> list[Ticket | None]:
    """The tickets index entries point at (one BatchGet), aligned with the entries."""
    keys = [(entry.PK, Ticket.SORT) for entry in entries]
    by_pk = {t.PK: t for t in read_items(keys, [Ticket])} if keys else {}
    return [by_pk.get(entry.PK) for entry in entries]


def list_customer_tickets(principal: Principal, customer_id: str, sort: str, limit: int,
                          cursor: str | None) -> Page[Ticket]:
    customers.get_customer(principal, customer_id)  # 404 unless the caller may see the customer
    return list_tickets(principal, {"customer_id": customer_id}, sort, limit, cursor)


def list_messages(principal: Principal, ticket_id: str, limit: int, cursor: str | None) -> Page[TicketMessage]:
    ticket = access.load(principal, ticket_id, "tickets:read")
    if access.is_customer(principal):
        source = query_reader(TicketMessage.public_messages, TicketMessage.public_pk(ticket.tenant_id, ticket.id))
    else:
        source = query_reader(TicketMessage, ticket.PK, TicketMessage.SK.startswith(TicketMessage.PREFIX))
    return read_page([source], limit, cursor)


