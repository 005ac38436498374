"""Tickets, their messages, list index entries, CSAT responses and the SLA rollups.

| access pattern | index | key condition |
|---|---|---|
| ticket by id | table | PK = T#t#TICKET#<id>, SK = TICKET |
| all tickets, by deadline / priority / updated / created | GSI1..4 on Ticket | GSInPK = T#t#TICKETS |
| tickets by facet (below), same four orders | GSI1..4 on TicketIndexEntry | GSInPK = T#t#TICKETS#<facet>#<v> |
| created range (sort=created) | GSI4 | GSI4PK as above, GSI4SK between the bounds |
| messages of a ticket, oldest first (team) | table | PK = T#t#TICKET#<id>, SK begins_with MSG# |
| public messages, oldest first (portal) | GSI1 on TicketMessage | GSI1PK = T#t#TICKET#<id>#PUBLIC |
| CSAT answer of a resolution (single use) | table | PK = T#t#TICKET#<id>, SK = CSAT#<cycle> |
| SLA rollup of a week x priority x tier (sharded) | table | PK = T#t#SLAROLLUP#<week>, SK = <priority>#<tier>#<n> |
| due tickets of every tenant (sweep only) | SYSDUE on Ticket | SYSDUEPK = DUE#<shard>, SYSDUESK <= <now>#~ |

Facets: status, priority, category, assignee_id (`none` = unassigned), queue_id, customer_id,
sla_state, source. A list reads the partition of its most selective facet, then BatchGets the
tickets; the other filters apply to the entries, which carry the filterable fields.

The index entries carry the filterable fields, so a list picks the most selective facet as its
partition and the remaining filters apply to small entries before any ticket is fetched. The
SYSDUE keys exist only while a target's clock runs (sparse); SYSDUESK is
`<next deadline-or-warning ISO>#T#<tenant>#<ticket id>`, shard = hash(ticket id) mod 16.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import (
    GSI1,
    GSI2,
    GSI3,
    GSI4,
    SystemDueIndex,
    TableItem,
    VersionedItem,
    tenant_key,
)

DUE_SHARDS = 16
FACETS = ("status", "priority", "category", "assignee_id", "queue_id", "customer_id", "sla_state", "source")
UNASSIGNED = "none"
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
NO_DEADLINE = "~"  # sorts after every ISO instant


def tickets_pk(tenant_id: str, *facet: str) -> str:
    return tenant_key(tenant_id, "TICKETS", *facet)


def due_shard(ticket_id: str) -> int:
    return int(hashlib.sha256(ticket_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS


def due_pk(shard: int) -> str:
    return f"DUE#{shard}"


class FilterFields(TableItem):
    """The fields lists filter on, on a ticket and on each of its index entries alike."""

    status = UnicodeAttribute()
    priority = UnicodeAttribute()
    category = UnicodeAttribute()
    source = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)
    queue_id = UnicodeAttribute(null=True)
    sla_state = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_deadline = GSI1()
    by_priority = GSI2()
    by_updated = GSI3()
    by_created = GSI4()


class Ticket(VersionedItem, FilterFields):
    id = UnicodeAttribute()
    subject = UnicodeAttribute()
    description = UnicodeAttribute()
    customer_tier = UnicodeAttribute(null=True)
    requester_contact_id = UnicodeAttribute(null=True)
    tags = ListAttribute(default=list)
    related_project_id = UnicodeAttribute(null=True)
    follow_up_of = UnicodeAttribute(null=True)
    first_response_at = UnicodeAttribute(null=True)
    resolved_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    reopen_count = NumberAttribute(default=0)
    escalation_level = NumberAttribute(default=0)
    sla = JSONAttribute()
    csat = JSONAttribute(null=True)
    by_due = SystemDueIndex()

    SORT = "TICKET"

    @staticmethod
    def pk(tenant_id: str, ticket_id: str) -> str:
        return tenant_key(tenant_id, "TICKET", ticket_id)


class TicketIndexEntry(FilterFields):
    ticket_id = UnicodeAttribute()

    @staticmethod
    def sort(facet: str, value: str) -> str:
        return f"IDX#{facet}#{value}"


class TicketMessage(TableItem):
    id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    visibility = UnicodeAttribute()  # public | internal
    author_type = UnicodeAttribute()  # team | customer | system
    author_id = UnicodeAttribute(null=True)
    body = UnicodeAttribute()
    canned_response_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    public_messages = GSI1()

    PREFIX = "MSG#"

    @staticmethod
    def public_pk(tenant_id: str, ticket_id: str) -> str:
        return tenant_key(tenant_id, "TICKET", ticket_id, "PUBLIC")


class CsatResponse(TableItem):
    ticket_id = UnicodeAttribute()
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    submitted_at = UnicodeAttribute()

    @staticmethod
    def sort(cycle: int) -> str:
        return f"CSAT#{cycle}"


class SlaRollup(TableItem):
    week = UnicodeAttribute()
    priority = UnicodeAttribute()
    tier = UnicodeAttribute()
    created = NumberAttribute(default=0)
    first_response_met = NumberAttribute(default=0)
    first_response_missed = NumberAttribute(default=0)
    resolution_met = NumberAttribute(default=0)
    resolution_missed = NumberAttribute(default=0)
    reopened = NumberAttribute(default=0)
    csat_responses = NumberAttribute(default=0)
    csat_satisfied = NumberAttribute(default=0)

    @staticmethod
    def pk(tenant_id: str, week: str) -> str:
        return tenant_key(tenant_id, "SLAROLLUP", week)
