"""Ticket rules: the status machine, messages (public replies, internal notes, customer
replies), assignment through queues, keyword escalation, the SLA clocks each change moves,
CSAT — each change one transaction with its audit entry and its domain events. The figures
derived from those events (the week's SLA rollup, queue loads) are moved by consumers
(tickets/consumers.py, queues/consumers.py), outside the change's transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pynamodb.expressions.condition import Condition

from chalicelib.audit import service as audit
from chalicelib.canned import service as canned
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, validation_error
from chalicelib.core.events import Event, new_event
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, PageReader, read_page
from chalicelib.core.permissions import require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import Transaction, query_reader, read_items, require_version
from chalicelib.customers import service as customers
from chalicelib.queues import service as queues
from chalicelib.sla import clock, tracker
from chalicelib.sla import service as sla
from chalicelib.team import service as team
from chalicelib.work import service as work

from . import access, csat
from . import events as _declared_events  # noqa: F401 (declares the types new_event names)
from .models import (
    FACETS,
    NO_DEADLINE,
    PRIORITY_RANK,
    UNASSIGNED,
    CsatResponse,
    Ticket,
    TicketIndexEntry,
    TicketMessage,
    due_pk,
    due_shard,
    tickets_pk,
)
from .rollups import iso_week, rollup  # noqa: F401 (the reports room's and tests' reader)

STATUSES = ("new", "open", "in_progress", "pending", "waiting_on_customer", "resolved", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open"}),
    "open": frozenset({"in_progress", "pending", "waiting_on_customer", "resolved"}),
    "in_progress": frozenset({"open", "pending", "waiting_on_customer", "resolved"}),
    "pending": frozenset({"open", "in_progress", "waiting_on_customer", "resolved"}),
    "waiting_on_customer": frozenset({"open", "in_progress", "pending", "resolved"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
DONE = frozenset({"resolved", "closed"})
REOPEN_WINDOW = timedelta(days=7)
CSAT_LIFETIME = timedelta(days=30)
ESCALATION_TAG = "escalated"
EDITABLE = ("subject", "description", "priority", "category", "tags", "related_project_id",
            "requester_contact_id", "assignee_id", "queue_id", "status")
PORTAL_CREATE_FIELDS = frozenset({"subject", "description", "priority", "category", "requester_contact_id"})
PORTAL_FIELDS = ("id", "subject", "description", "customer_id", "requester_contact_id", "status", "priority",
                 "category", "source", "first_response_at", "resolved_at", "closed_at", "follow_up_of",
                 "created_at", "updated_at")
TEAM_FIELDS = (*PORTAL_FIELDS, "assignee_id", "queue_id", "tags", "related_project_id", "escalation_level",
               "reopen_count", "sla_state", "csat", "version")
T = TypeVar("T")


def _is_customer(principal: Principal) -> bool:
    return principal.role == "portal"


# ---------- representation ----------


def ticket_view(principal: Principal, ticket: Ticket) -> dict[str, Any]:
    if _is_customer(principal):
        return {name: getattr(ticket, name) for name in PORTAL_FIELDS}
    now = sla.now()
    return {
        **{name: getattr(ticket, name) for name in TEAM_FIELDS},
        "sla": {target: tracker.view(state, now) for target, state in ticket.sla.items()},
    }


def message_view(message: TicketMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in (
        "id", "ticket_id", "visibility", "author_type", "author_id", "body", "canned_response_id", "created_at")}


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


def _save(tx: Transaction, before: Ticket | None, after: Ticket) -> None:
    _index(after)
    if before is None:
        tx.create(after, lambda: Conflict("ticket already exists"))
    else:
        tx.put(after, Ticket.version == before.version, _stale(after.id))
    old = _entries(before) if before is not None else {}
    new = _entries(after)
    for sort, entry in new.items():
        if sort not in old or old[sort].attribute_values != entry.attribute_values:
            tx.put(entry)
    for sort, entry in old.items():
        if sort not in new:
            tx.delete(entry)


def _load_of(ticket: Ticket) -> list[str] | None:
    """The (queue, assignee) an open ticket counts on in its queue's loads, or None."""
    if ticket.status in DONE or not ticket.queue_id or not ticket.assignee_id:
        return None
    return [ticket.queue_id, ticket.assignee_id]


def _copy(ticket: Ticket) -> Ticket:
    values = {k: v for k, v in ticket.attribute_values.items() if k not in {"PK", "SK"}}
    copy = Ticket(ticket.PK, ticket.SK, **values)
    copy.sla = {target: dict(state) for target, state in ticket.sla.items()}
    copy.tags = list(ticket.tags or [])
    return copy


def _message(ticket: Ticket, visibility: str, author_type: str, author_id: str | None, body: str,
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


def _measured(ticket: Ticket, at: datetime) -> dict[str, Any]:
    """What the rollup consumer counts an event under: the change's instant, priority, tier."""
    return {"at": clock.format_instant(at), "priority": ticket.priority, "customer_tier": ticket.customer_tier}


def _outcomes(before: Ticket, after: Ticket) -> dict[str, str]:
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


# ---------- SLA clocks ----------


def _refresh_clocks(ticket: Ticket, status_before: str, at: datetime, change: Change) -> None:
    """Apply the policy from `at` on — when this change read it; otherwise the clocks' own terms
    stand and the commit checks they are still the policy's — then the current status's pauses."""
    for target, state in ticket.sla.items():
        if change.policy is not None:
            terms = sla.terms(change.policy, ticket.customer_tier, ticket.priority, target)
            state = tracker.refresh(state, terms, status_before, at)
        ticket.sla[target] = tracker.on_status(state, ticket.status, at)


def _assumed_policy_version(ticket: Ticket) -> int | None:
    running = [s["policy_version"] for s in ticket.sla.values() if tracker.is_running(s)]
    return max(running) if running else None


def _stop(ticket: Ticket, target: str, at: datetime) -> None:
    ticket.sla[target] = tracker.stop(ticket.sla[target], at)


# ---------- the status machine ----------


@dataclass
class Change:
    """What one change did besides the fields (its events), and the SLA policy if it had to
    read it (a new priority, a reopen, a customer's words, a policy that moved)."""

    tenant_id: str
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    policy: dict[str, Any] | None = None

    def load_policy(self) -> dict[str, Any]:
        if self.policy is None:
            self.policy = sla.policy_in_force(self.tenant_id)
        return self.policy


def _with_current_policy(run: Callable[[bool], T]) -> T:
    """Run a change on its clocks' own terms; if the policy moved meanwhile, run it again on
    the policy in force (so the common change costs no policy read)."""
    try:
        return run(False)
    except sla.PolicyChanged:
        return run(True)


def require_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise Conflict(f"a ticket cannot move from {current} to {target}")


def _enter_status(ticket: Ticket, status: str, at: datetime, change: Change) -> None:
    """Move to `status` (already checked legal) and do what the move means."""
    previous, iso = ticket.status, clock.format_instant(at)
    ticket.status = status
    if status == "resolved":
        for target in tracker.TARGETS:
            _stop(ticket, target, at)
        ticket.resolved_at = iso
        cycle = ticket.sla[tracker.RESOLUTION]["cycle"]
        expires = clock.format_instant(at + CSAT_LIFETIME)
        ticket.csat = {"cycle": cycle, "expires_at": expires, "score": None, "comment": None, "submitted_at": None}
        change.events.append(("Ticket.Resolved", {"resolved_at": iso}))
    elif status == "closed":
        ticket.closed_at = iso
        change.events.append(("Ticket.Closed", {"closed_at": iso}))
    elif previous == "resolved":
        _reopen(ticket, at, change)
    change.events.append(("Ticket.StatusChanged", {"from": previous, "to": status}))


def _reopen(ticket: Ticket, at: datetime, change: Change) -> None:
    """A reopen starts a new resolution clock (the first resolution's outcome stands)."""
    old = ticket.sla[tracker.RESOLUTION]
    terms = sla.terms(change.load_policy(), ticket.customer_tier, ticket.priority, tracker.RESOLUTION)
    ticket.sla[tracker.RESOLUTION] = tracker.start(terms, ticket.status, at, cycle=old["cycle"] + 1)
    ticket.reopen_count = int(ticket.reopen_count or 0) + 1
    ticket.resolved_at = None
    if ticket.csat and not ticket.csat.get("submitted_at"):
        ticket.csat = None  # the survey of the closed cycle dies with it; the next resolution sends its own
    change.events.append(("Ticket.Reopened", {"reopen_count": ticket.reopen_count, **_measured(ticket, at)}))


_WORD = re.compile(r"[\w']+")


def _escalate_on_keywords(ticket: Ticket, text: str, change: Change) -> None:
    terms = set(change.load_policy()["escalation_terms"])
    found = sorted(terms & {word.casefold() for word in _WORD.findall(text)})
    if not found:
        return
    ticket.escalation_level = int(ticket.escalation_level or 0) + 1
    if ESCALATION_TAG not in ticket.tags:
        ticket.tags = [*ticket.tags, ESCALATION_TAG]
    change.events.append(("Ticket.Escalated", {"reason": "keyword", "terms": found,
                                               "escalation_level": ticket.escalation_level}))


# ---------- create ----------


def _customer_fields(principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    if not _is_customer(principal):
        if not fields.get("customer_id"):
            raise validation_error("customer_id", "is required")
        return fields
    refused = sorted(name for name, value in fields.items()
                     if value is not None and name not in PORTAL_CREATE_FIELDS | {"customer_id", "source"})
    if refused:
        raise validation_error(refused[0], "may not be set by a portal user")
    if fields.get("customer_id") not in (None, principal.customer_id):
        raise validation_error("customer_id", "portal users open tickets for their own company only")
    return {**fields, "customer_id": principal.customer_id, "source": "portal"}


def _require_contact(principal: Principal, contact_id: str, customer_id: str) -> None:
    try:
        contact = customers.get_contact(principal, contact_id)
    except NotFound as missing:
        raise validation_error("requester_contact_id", f"contact {contact_id} does not exist") from missing
    if contact.customer_id != customer_id:
        raise validation_error("requester_contact_id", "the contact belongs to another customer")


def _require_project(principal: Principal, project_id: str, customer_id: str) -> None:
    """A related project is one of the ticket's customer's projects that the caller may read
    (asked of the work room); anything else — another tenant's, unknown, unseen — is a 422."""
    try:
        project = work.get_project(principal, project_id)
    except (NotFound, Forbidden) as missing:
        raise validation_error("related_project_id", f"project {project_id} does not exist") from missing
    if project.customer_id != customer_id:
        raise validation_error("related_project_id", "the project belongs to another customer")


def _tier_and_policy(principal: Principal, customer_id: str,
                     contact_id: str | None) -> tuple[str | None, dict[str, Any]]:
    """The customer's tier (a 422 unless the caller reaches the customer), the requester's
    check and the SLA policy in force: the customer, the contact, the policy, the tenant's
    settings and holidays in one BatchGetItem."""
    plan = ReadPlan()
    customer = customers.customer_for(plan, principal, customer_id)
    contact = customers.contact_record_for(plan, principal.tenant_id, contact_id) if contact_id else None
    policy = sla.policy_in_force_for(plan, principal.tenant_id)
    plan.run()
    try:
        tier = customer().tier
    except NotFound as missing:
        raise validation_error("customer_id", f"customer {customer_id} does not exist") from missing
    found = contact() if contact else None
    if contact_id and (found is None or found.customer_id != customer_id):
        _require_contact(principal, contact_id, customer_id)  # names why, without revealing what is unseen
    return tier, policy()


def create_ticket(principal: Principal, fields: dict[str, Any]) -> Ticket:
    ticket, _ = _open(principal, fields, None)
    return ticket


def _open_follow_up(principal: Principal, earlier: Ticket, body: str) -> TicketMessage:
    """A customer's words on a ticket past reopening open a linked ticket; the answer is the
    message as written (never read back: through GSI1 it may not be visible yet)."""
    fields = {"subject": f"Re: {earlier.subject}"[:200], "description": body, "priority": earlier.priority,
              "category": earlier.category, "requester_contact_id": earlier.requester_contact_id}
    _, message = _open(principal, fields, earlier.id)
    assert message is not None
    return message


def _open(principal: Principal, fields: dict[str, Any],
          follow_up_of: str | None) -> tuple[Ticket, TicketMessage | None]:
    require(principal, "tickets:create")
    fields = _customer_fields(principal, fields)
    tier, policy = _tier_and_policy(principal, fields["customer_id"], fields.get("requester_contact_id"))
    if fields.get("related_project_id"):
        _require_project(principal, fields["related_project_id"], fields["customer_id"])
    return _create(principal, fields, tier, policy, follow_up_of)


def _create(principal: Principal, fields: dict[str, Any], tier: str | None, policy: dict[str, Any],
            follow_up_of: str | None) -> tuple[Ticket, TicketMessage | None]:
    tenant, now = principal.tenant_id, sla.now()
    iso, ticket_id = clock.format_instant(now), new_id()
    tx = Transaction()
    assignee = fields.get("assignee_id")
    if assignee:
        team.require_active_users(tx, tenant, [assignee], "assignee_id")
    if fields.get("queue_id"):
        assignee = queues.route_new_ticket(tenant, fields["queue_id"], assignee)
    status = "open" if assignee else "new"
    priority = fields.get("priority") or "normal"
    ticket = Ticket(
        Ticket.pk(tenant, ticket_id), Ticket.SORT, type="Ticket", tenant_id=tenant, id=ticket_id, version=1,
        created_at=iso, updated_at=iso, subject=fields["subject"], description=fields["description"],
        customer_id=fields["customer_id"], customer_tier=tier, requester_contact_id=fields.get("requester_contact_id"),
        status=status, priority=priority, category=fields.get("category") or "general",
        source=fields.get("source") or "manual", assignee_id=assignee, queue_id=fields.get("queue_id"),
        tags=list(fields.get("tags") or []), related_project_id=fields.get("related_project_id"),
        follow_up_of=follow_up_of, reopen_count=0, escalation_level=0,
        sla={t: tracker.start(sla.terms(policy, tier, priority, t), status, now) for t in tracker.TARGETS},
    )
    change = Change(tenant, policy=policy)
    if _is_customer(principal):
        _escalate_on_keywords(ticket, f"{ticket.subject}\n{ticket.description}", change)
    _save(tx, None, ticket)
    first = _message(ticket, "public", "customer", principal.user_id, ticket.description, now) if follow_up_of else None
    if first is not None:
        tx.put(first)
    audit.record(tx, principal, "create", "ticket", ticket_id, audit.diff({}, _audited(ticket)))
    _publish(tx, ticket, [("Ticket.Created", {"status": status, "priority": priority,
                                              "customer_id": ticket.customer_id, "assignee_id": assignee,
                                              "queue_id": ticket.queue_id, "follow_up_of": follow_up_of,
                                              "at": iso, "customer_tier": tier}),
                          *change.events])
    tx.commit()
    return ticket, first


def _audited(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in (*EDITABLE, "customer_id", "source", "escalation_level")}


def _publish(tx: Transaction, ticket: Ticket, events: list[tuple[str, dict[str, Any]]]) -> None:
    tx.publish(*(new_event(ticket.tenant_id, kind, {"ticket_id": ticket.id, **detail}) for kind, detail in events))


# ---------- read ----------


def get_ticket(principal: Principal, ticket_id: str) -> Ticket:
    return access.load(principal, ticket_id, "tickets:read")


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
    if _is_customer(principal):
        source = query_reader(TicketMessage.public_messages, TicketMessage.public_pk(ticket.tenant_id, ticket.id))
    else:
        source = query_reader(TicketMessage, ticket.PK, TicketMessage.SK.startswith(TicketMessage.PREFIX))
    return read_page([source], limit, cursor)


def explain_sla(principal: Principal, ticket_id: str) -> dict[str, Any]:
    ticket = access.load(principal, ticket_id, "tickets:sla")
    now = sla.now()
    return {"ticket_id": ticket.id, "sla_state": ticket.sla_state, "as_of": clock.format_instant(now),
            "targets": {target: tracker.explanation(state, now) for target, state in ticket.sla.items()}}


# ---------- update ----------


def _validate_changes(principal: Principal, ticket: Ticket, changes: dict[str, Any], tx: Transaction) -> None:
    if changes.get("assignee_id"):
        team.require_active_users(tx, principal.tenant_id, [changes["assignee_id"]], "assignee_id")
    if changes.get("queue_id"):
        queues.require_queue(principal.tenant_id, changes["queue_id"])
    if changes.get("requester_contact_id"):
        _require_contact(principal, changes["requester_contact_id"], ticket.customer_id)
    if changes.get("related_project_id"):
        _require_project(principal, changes["related_project_id"], ticket.customer_id)


def update_ticket(principal: Principal, ticket_id: str, changes: dict[str, Any], expected_version: int) -> Ticket:
    return _with_current_policy(lambda fresh: _update(principal, ticket_id, dict(changes), expected_version, fresh))


def _update(principal: Principal, ticket_id: str, changes: dict[str, Any], expected_version: int,
            fresh_policy: bool) -> Ticket:
    current = access.load(principal, ticket_id, "tickets:update")
    require_version(current, expected_version, "ticket")
    status = changes.pop("status", None)
    if status is not None and status != current.status:
        require_transition(current.status, status)
    after, now, change = _copy(current), sla.now(), Change(principal.tenant_id)
    if fresh_policy or changes.get("priority", current.priority) != current.priority:
        change.load_policy()
    for name, value in changes.items():
        setattr(after, name, value)
    if status is None and after.status == "new" and after.assignee_id:
        status = "open"  # assigning a new ticket opens it
    if status in ("open", "in_progress") and not after.assignee_id:
        raise validation_error("assignee_id", f"a ticket needs an assignee to be {status}")
    _refresh_clocks(after, current.status, now, change)
    if status is not None and status != current.status:
        _enter_status(after, status, now, change)
        _refresh_clocks(after, current.status, now, change)
    changed = audit.diff(_audited(current), _audited(after))
    if not changed:
        return current
    return _commit_change(principal, current, after, now, change, changed)


def _commit_change(principal: Principal, before: Ticket, after: Ticket, at: datetime, change: Change,
                   changed: dict[str, Any], extra: Callable[[Transaction], None] | None = None) -> Ticket:
    after.version = before.version + 1
    after.updated_at = clock.format_instant(at)
    tx = Transaction()
    _validate_changes(principal, before, {k: v["after"] for k, v in changed.items()}, tx)
    _save(tx, before, after)
    assumed = _assumed_policy_version(before)
    if change.policy is None and assumed is not None:
        sla.require_policy_version(tx, before.tenant_id, assumed)
    if extra:
        extra(tx)
    audit.record(tx, principal, "update", "ticket", after.id, changed)
    updated = {"version": after.version, "changes": changed, **_measured(after, at),
               "sla_outcomes": _outcomes(before, after), "open_load": {"before": _load_of(before),
                                                                      "after": _load_of(after)}}
    _publish(tx, after, [("Ticket.Updated", updated), *change.events])
    tx.commit()
    return after


# ---------- messages ----------


def _canned_values(principal: Principal, ticket: Ticket) -> dict[str, str | None]:
    customer, contact = customers.display_names(ticket.tenant_id, ticket.customer_id, ticket.requester_contact_id)
    return {
        "customer.name": customer,
        "contact.first_name": contact.split()[0] if contact and contact.split() else None,
        "ticket.id": ticket.id,
        "agent.name": team.me(principal)[0].name,
    }


def post_message(principal: Principal, ticket_id: str, fields: dict[str, Any]) -> TicketMessage:
    return _with_current_policy(lambda fresh: _post_message(principal, ticket_id, fields, fresh))


def _post_message(principal: Principal, ticket_id: str, fields: dict[str, Any], fresh_policy: bool) -> TicketMessage:
    current = access.load(principal, ticket_id, "tickets:reply")
    customer_side = _is_customer(principal)
    visibility = fields.get("visibility") or "public"
    if customer_side and (visibility != "public" or fields.get("canned_response_id")):
        raise Forbidden("portal users post public replies only")
    canned_id, body = fields.get("canned_response_id"), fields.get("body")
    if canned_id:
        canned_id, body = canned.render_for(principal, canned_id, _canned_values(principal, current))
    now = sla.now()
    if customer_side and _starts_new_ticket(current, now):
        return _open_follow_up(principal, current, body or "")
    after, change = _copy(current), Change(principal.tenant_id)
    if fresh_policy:
        change.load_policy()
    _refresh_clocks(after, current.status, now, change)
    author_type = "customer" if customer_side else "team"
    message = _message(after, visibility, author_type, principal.user_id, body or "", now, canned_id)
    if customer_side:
        _customer_replied(after, now, change)
        _escalate_on_keywords(after, message.body, change)
    elif visibility == "public" and after.first_response_at is None:
        after.first_response_at = clock.format_instant(now)
        _stop(after, tracker.FIRST_RESPONSE, now)
    change.events.append(("Ticket.MessagePosted", {"message_id": message.id, "visibility": visibility,
                                                   "author_type": author_type}))
    changed = audit.diff(_audited(current), _audited(after)) or {"messages": {"before": None, "after": message.id}}
    _commit_change(principal, current, after, now, change, changed, lambda tx: tx.put(message))
    return message


def _starts_new_ticket(ticket: Ticket, now: datetime) -> bool:
    if ticket.status == "closed":
        return True
    resolved = clock.parse_instant(ticket.resolved_at) if ticket.resolved_at else None
    return ticket.status == "resolved" and resolved is not None and now - resolved > REOPEN_WINDOW


def _customer_replied(ticket: Ticket, at: datetime, change: Change) -> None:
    if ticket.status in ("waiting_on_customer", "resolved"):
        _enter_status(ticket, "open", at, change)
        _refresh_clocks(ticket, ticket.status, at, change)


# ---------- CSAT ----------


def csat_link(principal: Principal, ticket_id: str) -> dict[str, Any]:
    ticket = access.load(principal, ticket_id, "tickets:csat")
    survey = ticket.csat
    if not survey:
        raise Conflict("a ticket has a CSAT survey once it is resolved")
    if survey.get("submitted_at"):
        raise Conflict("the customer already answered this ticket's survey")
    expires = clock.parse_instant(survey["expires_at"])
    token = csat.sign(csat.SurveyToken(ticket.tenant_id, ticket.id, survey["cycle"], int(expires.timestamp())))
    return {"token": token, "path": f"/csat/{token}", "expires_at": survey["expires_at"]}


def _survey_gone() -> NotFound:
    return NotFound("this survey link is not valid")


def _survey_superseded() -> Conflict:
    return Conflict("the ticket was reopened after this survey was sent; this link no longer takes answers")


def submit_csat(token_text: str, score: int, comment: str | None) -> dict[str, Any]:
    """Public: the token alone identifies tenant, ticket and resolution (404 if forged or
    expired). A survey belongs to one resolution cycle: once the ticket is reopened its link
    is a 409, and a second answer is a 409 — one score per cycle."""
    now = sla.now()
    token = csat.verify(token_text, now)
    if token is None:
        raise _survey_gone()
    with tenant_scope(token.tenant_id):
        try:
            ticket = Ticket.get(Ticket.pk(token.tenant_id, token.ticket_id), Ticket.SORT)
        except Ticket.DoesNotExist as missing:
            raise _survey_gone() from missing
        if ticket.status not in DONE or not ticket.csat or ticket.csat["cycle"] != token.cycle:
            raise _survey_superseded()
        return _record_csat(ticket, token, score, comment, now)


def _record_csat(ticket: Ticket, token: csat.SurveyToken, score: int, comment: str | None,
                 now: datetime) -> dict[str, Any]:
    iso = clock.format_instant(now)
    answered = lambda: Conflict("this survey was already answered")  # noqa: E731
    survey = {**ticket.csat, "score": score, "comment": comment, "submitted_at": iso}
    tx = Transaction()
    tx.create(CsatResponse(ticket.PK, CsatResponse.sort(token.cycle), type="CsatResponse",
                           tenant_id=ticket.tenant_id, ticket_id=ticket.id, score=score, comment=comment,
                           submitted_at=iso), answered)
    still_resolved = Ticket.status.is_in(*DONE) & (Ticket.reopen_count == ticket.reopen_count)
    tx.update(ticket, [Ticket.csat.set(survey), Ticket.version.add(1)], still_resolved, _survey_superseded)
    customer = Principal(tenant_id=ticket.tenant_id, user_id=ticket.requester_contact_id or "customer",
                         role="customer", email="")
    audit.record(tx, customer, "csat", "ticket", ticket.id, {"csat": {"before": None, "after": score}})
    _publish(tx, ticket, [("Ticket.CsatSubmitted", {"score": score, "cycle": token.cycle, **_measured(ticket, now)})])
    tx.commit()
    return {"ticket_id": ticket.id, "score": score, "comment": comment, "submitted_at": iso}


# ---------- the SLA sweep (system scope) ----------

SYSTEM = "system"


def due_in_shard(shard: int, now: datetime) -> Any:
    """Tickets of every tenant whose next deadline or warning in this shard is at or before now."""
    bound = f"{clock.format_instant(now)}#~"
    return Ticket.by_due.query(due_pk(shard), Ticket.SYSDUESK <= bound)  # noqa: SIM300


def apply_due(ticket: Ticket, now: datetime) -> list[Event]:
    """Mark what is due on one ticket, exactly once: the write is conditional on the version the
    sweep read, so a replay or a concurrent sweep finds nothing left to do."""
    after, marks = _copy(ticket), []
    for target, state in ticket.sla.items():
        for kind in tracker.marks_due(state, now):
            after.sla[target] = tracker.mark(after.sla[target], kind)
            marks.append((target, kind, state["due_at"]))
    if not marks:
        return []
    after.escalation_level = int(ticket.escalation_level or 0) + len(marks)
    after.version = ticket.version + 1
    system = Principal(tenant_id=ticket.tenant_id, user_id=SYSTEM, role=SYSTEM, email="")
    tx = Transaction()
    _save(tx, ticket, after)
    for target, kind, due in marks:
        text = f"SLA {target.replace('_', ' ')} {'breached' if kind == 'breached' else 'warning'}: due {due}"
        tx.put(_message(after, "internal", SYSTEM, None, text, now))
    audit.record(tx, system, "sla_mark", "ticket", ticket.id,
                 {"escalation_level": {"before": ticket.escalation_level, "after": after.escalation_level}})
    events = [
        new_event(ticket.tenant_id, "Ticket.SLABreached" if kind == "breached" else "Ticket.SLAWarning",
                  {"ticket_id": ticket.id, "target": target, "due_at": due, "escalation_level": after.escalation_level,
                   **_measured(after, now)})
        for target, kind, due in marks
    ]
    tx.publish(*events)
    try:
        tx.commit()
    except Conflict:
        return []  # changed since it was read: whoever changed it owns the next deadline
    return events
