"""What one ticket change writes: the derived attributes and list index entries of the ticket,
its messages, what its events say (the rollup's measure, SLA outcomes, the open load), and the
commit of an update — one transaction with its audit entry and its domain events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, validation_error
from chalicelib.core.events import new_event
from chalicelib.core.ids import new_id
from chalicelib.core.table import Transaction, sync_derived
from chalicelib.customers import service as customers
from chalicelib.queues import service as queues
from chalicelib.sla import clock, tracker
from chalicelib.sla import service as sla
from chalicelib.team import service as team
from chalicelib.work import service as work

from . import events as _declared_events  # noqa: F401 (declares the types new_event names)
from . import machine
from .machine import DONE, Change
from .models import (
    FACETS,
    NO_DEADLINE,
    PRIORITY_RANK,
    UNASSIGNED,
    Ticket,
    TicketIndexEntry,
    TicketMessage,
    due_pk,
    due_shard,
    tickets_pk,
)

EDITABLE = ("subject", "description", "priority", "category", "tags", "related_project_id",
            "requester_contact_id", "assignee_id", "queue_id", "status")


# ---------- derived keys and items ----------


def _next_due(ticket: Ticket) -> str | None:
    dues = [s["due_at"] for s in ticket.sla.values() if tracker.is_running(s) and s["due_at"]]
    return min(dues, default=None)


def _filter_values(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in (*FACETS, "created_at")}


def _sort_keys(ticket: Ticket, partition: str) -> dict[str, str]:
    deadline, tid = _next_due(ticket) or NO_DEADLINE, ticket.id
    return {
        "GSI1PK": partition, "GSI1SK": f"{deadline}#{tid}",
        "GSI2PK": partition, "GSI2SK": f"{PRIORITY_RANK[ticket.priority]}#{deadline}#{tid}",
        "GSI3PK": partition, "GSI3SK": f"{ticket.updated_at}#{tid}",
        "GSI4PK": partition, "GSI4SK": f"{ticket.created_at}#{tid}",
    }


def _index(ticket: Ticket) -> None:
    """Set every derived attribute: the list keys, sla_state and the sweep's SYSDUE keys."""
    ticket.sla_state = tracker.overall_state(ticket.sla)
    for name, value in _sort_keys(ticket, tickets_pk(ticket.tenant_id)).items():
        setattr(ticket, name, value)
    upcoming = [i for i in (tracker.next_instant(s) for s in ticket.sla.values()) if i is not None]
    if upcoming:
        ticket.SYSDUEPK = due_pk(due_shard(ticket.id))
        ticket.SYSDUESK = f"{clock.format_instant(min(upcoming))}#T#{ticket.tenant_id}#{ticket.id}"
    else:
        ticket.SYSDUEPK = ticket.SYSDUESK = None


def _entries(ticket: Ticket) -> dict[str, TicketIndexEntry]:
    entries = {}
    for facet in FACETS:
        value = getattr(ticket, facet) or (UNASSIGNED if facet == "assignee_id" else None)
        if value is None:
            continue
        sort = TicketIndexEntry.sort(facet, value)
        entries[sort] = TicketIndexEntry(
            ticket.PK, sort, type="TicketIndexEntry", tenant_id=ticket.tenant_id, ticket_id=ticket.id,
            **_filter_values(ticket), **_sort_keys(ticket, tickets_pk(ticket.tenant_id, facet, value)),
        )
    return entries


def _stale(ticket_id: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"ticket {ticket_id} was changed by someone else; reload and retry")


def save(tx: Transaction, before: Ticket | None, after: Ticket) -> None:
    _index(after)
    if before is None:
        tx.create(after, lambda: Conflict("ticket already exists"))
    else:
        tx.put(after, Ticket.version == before.version, _stale(after.id))
    sync_derived(tx, _entries(before) if before is not None else {}, _entries(after))


def load_of(ticket: Ticket) -> list[str] | None:
    """The (queue, assignee) an open ticket counts on in its queue's loads, or None."""
    if ticket.status in DONE or not ticket.queue_id or not ticket.assignee_id:
        return None
    return [ticket.queue_id, ticket.assignee_id]


def copy_ticket(ticket: Ticket) -> Ticket:
    values = {k: v for k, v in ticket.attribute_values.items() if k not in {"PK", "SK"}}
    copy = Ticket(ticket.PK, ticket.SK, **values)
    copy.sla = {target: dict(state) for target, state in ticket.sla.items()}
    copy.tags = list(ticket.tags or [])
    return copy


def new_message(ticket: Ticket, visibility: str, author_type: str, author_id: str | None, body: str,
             at: datetime, canned_id: str | None = None) -> TicketMessage:
    message_id = new_id()
    public = visibility == "public"
    return TicketMessage(
        ticket.PK, f"{TicketMessage.PREFIX}{message_id}", type="TicketMessage", tenant_id=ticket.tenant_id,
        id=message_id, ticket_id=ticket.id, visibility=visibility, author_type=author_type, author_id=author_id,
        body=body, canned_response_id=canned_id, created_at=clock.format_instant(at),
        GSI1PK=TicketMessage.public_pk(ticket.tenant_id, ticket.id) if public else None,
        GSI1SK=f"{TicketMessage.PREFIX}{message_id}" if public else None,
    )


# ---------- rollups ----------


def outcomes(before: Ticket, after: Ticket) -> dict[str, str]:
    """The SLA targets that became met or missed in this change (the rollup counts them)."""
    outcomes = {}
    for target, new in after.sla.items():
        old = before.sla[target]
        if old["cycle"] != new["cycle"]:
            continue
        if new["breached"] and not old["breached"]:
            outcomes[target] = "missed"
        elif new["outcome"] == "met" and old["outcome"] != "met":
            outcomes[target] = "met"
    return outcomes


def require_contact(principal: Principal, contact_id: str, customer_id: str) -> None:
    try:
        contact = customers.get_contact(principal, contact_id)
    except NotFound as missing:
        raise validation_error("requester_contact_id", f"contact {contact_id} does not exist") from missing
    if contact.customer_id != customer_id:
        raise validation_error("requester_contact_id", "the contact belongs to another customer")


def require_project(principal: Principal, project_id: str, customer_id: str) -> None:
    """A related project is one of the ticket's customer's projects that the caller may read
    (asked of the work room); anything else — another tenant's, unknown, unseen — is a 422."""
    try:
        project = work.get_project(principal, project_id)
    except (NotFound, Forbidden) as missing:
        raise validation_error("related_project_id", f"project {project_id} does not exist") from missing
    if project.customer_id != customer_id:
        raise validation_error("related_project_id", "the project belongs to another customer")


def audited(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in (*EDITABLE, "customer_id", "source", "escalation_level")}


def publish(tx: Transaction, ticket: Ticket, events: list[tuple[str, dict[str, Any]]]) -> None:
    tx.publish(*(new_event(ticket.tenant_id, kind, {"ticket_id": ticket.id, **detail}) for kind, detail in events))


def _validate_changes(principal: Principal, ticket: Ticket, changes: dict[str, Any], tx: Transaction) -> None:
    if changes.get("assignee_id"):
        team.require_active_users(tx, principal.tenant_id, [changes["assignee_id"]], "assignee_id")
    if changes.get("queue_id"):
        queues.require_queue(principal.tenant_id, changes["queue_id"])
    if changes.get("requester_contact_id"):
        require_contact(principal, changes["requester_contact_id"], ticket.customer_id)
    if changes.get("related_project_id"):
        require_project(principal, changes["related_project_id"], ticket.customer_id)


def commit_change(principal: Principal, before: Ticket, after: Ticket, at: datetime, change: Change,
                   changed: dict[str, Any], extra: Callable[[Transaction], None] | None = None) -> Ticket:
    after.version = before.version + 1
    after.updated_at = clock.format_instant(at)
    tx = Transaction()
    _validate_changes(principal, before, {k: v["after"] for k, v in changed.items()}, tx)
    save(tx, before, after)
    assumed = machine.assumed_policy_version(before)
    if change.policy is None and assumed is not None:
        sla.require_policy_version(tx, before.tenant_id, assumed)
    if extra:
        extra(tx)
    audit.record(tx, principal, "update", "ticket", after.id, changed)
    updated = {"version": after.version, "changes": changed, **machine.measured(after, at),
               "sla_outcomes": outcomes(before, after), "open_load": {"before": load_of(before),
                                                                      "after": load_of(after)}}
    publish(tx, after, [("Ticket.Updated", updated), *change.events])
    tx.commit()
    return after


