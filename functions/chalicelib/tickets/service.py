"""Ticket rules: creating tickets (assignment through queues, a portal user's own company), the
update and message flows (public replies, internal notes, customer replies, follow-ups) — each
change one transaction with its audit entry and its domain events — and the room's API for its
routes and jobs. By concern: the status machine and SLA clocks (machine.py), what a change
writes (ledger.py), lists (listing.py), CSAT (surveys.py), the SLA sweep (sweep.py). The figures
derived from those events (the week's SLA rollup, queue loads) are moved by consumers
(tickets/consumers.py, queues/consumers.py), outside the change's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.canned import service as canned
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.table import Transaction, require_version
from chalicelib.customers import service as customers
from chalicelib.queues import service as queues
from chalicelib.sla import clock, tracker
from chalicelib.sla import service as sla
from chalicelib.team import service as team

from . import access, ledger, machine
from .listing import list_customer_tickets, list_messages, list_tickets  # noqa: F401 (the routes' API)
from .machine import REOPEN_WINDOW, Change, require_transition
from .models import Ticket, TicketMessage
from .rollups import iso_week, rollup  # noqa: F401 (the reports room's and tests' reader)
from .surveys import csat_link, submit_csat  # noqa: F401 (the routes' API)
from .sweep import apply_due, due_in_shard  # noqa: F401 (the sweep job's API)

PORTAL_CREATE_FIELDS = frozenset({"subject", "description", "priority", "category", "requester_contact_id"})
PORTAL_FIELDS = ("id", "subject", "description", "customer_id", "requester_contact_id", "status", "priority",
                 "category", "source", "first_response_at", "resolved_at", "closed_at", "follow_up_of",
                 "created_at", "updated_at")
EMAIL_AUTHOR = access.EMAIL_AUTHOR
TEAM_FIELDS = (*PORTAL_FIELDS, "assignee_id", "queue_id", "tags", "related_project_id", "escalation_level",
               "reopen_count", "sla_state", "csat", "version")


# ---------- representation ----------


def ticket_view(principal: Principal, ticket: Ticket) -> dict[str, Any]:
    if access.is_customer(principal):
        return {name: getattr(ticket, name) for name in PORTAL_FIELDS}
    now = sla.now()
    return {
        **{name: getattr(ticket, name) for name in TEAM_FIELDS},
        "sla": {target: tracker.view(state, now) for target, state in ticket.sla.items()},
    }


def message_view(message: TicketMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in (
        "id", "ticket_id", "visibility", "author_type", "author_id", "body", "canned_response_id", "created_at")}


# ---------- create ----------


def _customer_fields(principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    if not access.is_customer(principal):
        if not fields.get("customer_id"):
            raise validation_error("customer_id", "is required")
        return fields
    refused = sorted(name for name, value in fields.items()
                     if value is not None and name not in PORTAL_CREATE_FIELDS | {"customer_id", "source"})
    if refused:
        raise validation_error(refused[0], "may not be set by a portal user")
    if fields.get("customer_id") not in (None, principal.customer_id):
        raise validation_error("customer_id", "portal users open tickets for their own company only")
    if principal.user_id == EMAIL_AUTHOR:
        return {**fields, "customer_id": principal.customer_id, "source": "email"}
    # unless they name a colleague, the portal user is the requester: the ticket is theirs
    requester = fields.get("requester_contact_id") or access.customer_audience(principal).contact_id
    return {**fields, "customer_id": principal.customer_id, "source": "portal", "requester_contact_id": requester}


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
        ledger.require_contact(principal, contact_id, customer_id)  # names why, without revealing what is unseen
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
        ledger.require_project(principal, fields["related_project_id"], fields["customer_id"])
    return _create(principal, fields, tier, policy, follow_up_of)


def _create(principal: Principal, fields: dict[str, Any], tier: str | None, policy: dict[str, Any],
            follow_up_of: str | None, ticket_id: str | None = None) -> tuple[Ticket, TicketMessage | None]:
    tenant, now = principal.tenant_id, sla.now()
    iso, ticket_id = clock.format_instant(now), ticket_id or new_id()
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
    if access.is_customer(principal):
        machine.escalate_on_keywords(ticket, f"{ticket.subject}\n{ticket.description}", change)
    ledger.save(tx, None, ticket)
    first = (ledger.new_message(ticket, "public", "customer", principal.user_id, ticket.description, now)
             if follow_up_of else None)
    if first is not None:
        tx.put(first)
    audit.record(tx, principal, "create", "ticket", ticket_id, audit.diff({}, ledger.audited(ticket)))
    ledger.publish(tx, ticket, [("Ticket.Created", {"status": status, "priority": priority,
                                              "customer_id": ticket.customer_id, "assignee_id": assignee,
                                              "queue_id": ticket.queue_id, "follow_up_of": follow_up_of,
                                              "at": iso, "customer_tier": tier}),
                          *change.events])
    tx.commit()
    return ticket, first


# ---------- read ----------


def get_ticket(principal: Principal, ticket_id: str) -> Ticket:
    return access.load(principal, ticket_id, "tickets:read")


def explain_sla(principal: Principal, ticket_id: str) -> dict[str, Any]:
    ticket = access.load(principal, ticket_id, "tickets:sla")
    now = sla.now()
    return {"ticket_id": ticket.id, "sla_state": ticket.sla_state, "as_of": clock.format_instant(now),
            "targets": {target: tracker.explanation(state, now) for target, state in ticket.sla.items()}}


# ---------- update ----------


def update_ticket(principal: Principal, ticket_id: str, changes: dict[str, Any], expected_version: int) -> Ticket:
    return machine.with_current_policy(
        lambda fresh: _update(principal, ticket_id, dict(changes), expected_version, fresh))


def _update(principal: Principal, ticket_id: str, changes: dict[str, Any], expected_version: int,
            fresh_policy: bool) -> Ticket:
    current = access.load(principal, ticket_id, "tickets:update")
    require_version(current, expected_version, "ticket")
    status = changes.pop("status", None)
    if status is not None and status != current.status:
        require_transition(current.status, status)
    after, now, change = ledger.copy_ticket(current), sla.now(), Change(principal.tenant_id)
    if fresh_policy or changes.get("priority", current.priority) != current.priority:
        change.load_policy()
    for name, value in changes.items():
        setattr(after, name, value)
    if status is None and after.status == "new" and after.assignee_id:
        status = "open"  # assigning a new ticket opens it
    if status in ("open", "in_progress") and not after.assignee_id:
        raise validation_error("assignee_id", f"a ticket needs an assignee to be {status}")
    machine.refresh_clocks(after, current.status, now, change)
    if status is not None and status != current.status:
        machine.enter_status(after, status, now, change)
        machine.refresh_clocks(after, current.status, now, change)
    changed = audit.diff(ledger.audited(current), ledger.audited(after))
    if not changed:
        return current
    return ledger.commit_change(principal, current, after, now, change, changed)


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
    return machine.with_current_policy(lambda fresh: _post_message(principal, ticket_id, fields, fresh))


def _post_message(principal: Principal, ticket_id: str, fields: dict[str, Any], fresh_policy: bool) -> TicketMessage:
    current = access.load(principal, ticket_id, "tickets:reply")
    customer_side = access.is_customer(principal)
    visibility = fields.get("visibility") or "public"
    if customer_side and (visibility != "public" or fields.get("canned_response_id")):
        raise Forbidden("portal users post public replies only")
    canned_id, body = fields.get("canned_response_id"), fields.get("body")
    if canned_id:
        canned_id, body = canned.render_for(principal, canned_id, _canned_values(principal, current))
    now = sla.now()
    if customer_side and _starts_new_ticket(current, now):
        return _open_follow_up(principal, current, body or "")
    after, change = ledger.copy_ticket(current), Change(principal.tenant_id)
    if fresh_policy:
        change.load_policy()
    machine.refresh_clocks(after, current.status, now, change)
    author_type = "customer" if customer_side else "team"
    message = ledger.new_message(after, visibility, author_type, principal.user_id, body or "", now, canned_id)
    if customer_side:
        _customer_replied(after, now, change)
        machine.escalate_on_keywords(after, message.body, change)
    elif visibility == "public" and after.first_response_at is None:
        after.first_response_at = clock.format_instant(now)
        machine.stop_clock(after, tracker.FIRST_RESPONSE, now)
    change.events.append(("Ticket.MessagePosted", {"message_id": message.id, "visibility": visibility,
                                                   "author_type": author_type}))
    changed = (audit.diff(ledger.audited(current), ledger.audited(after))
               or {"messages": {"before": None, "after": message.id}})
    ledger.commit_change(principal, current, after, now, change, changed, lambda tx: tx.put(message))
    return message


def _starts_new_ticket(ticket: Ticket, now: datetime) -> bool:
    if ticket.status == "closed":
        return True
    resolved = clock.parse_instant(ticket.resolved_at) if ticket.resolved_at else None
    return ticket.status == "resolved" and resolved is not None and now - resolved > REOPEN_WINDOW


def _customer_replied(ticket: Ticket, at: datetime, change: Change) -> None:
    if ticket.status in ("waiting_on_customer", "resolved"):
        machine.enter_status(ticket, "open", at, change)
        machine.refresh_clocks(ticket, ticket.status, at, change)




# ---------- email (tickets/consumers.py, on Mail.Received and Mail.Bounced) ----------


def _email_principal(tenant_id: str, customer_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id=EMAIL_AUTHOR, role="portal", email="", customer_id=customer_id)


def open_from_email(tenant_id: str, ticket_id: str, customer_id: str, contact_id: str | None, subject: str,
                    body: str) -> Ticket | None:
    """A new ticket (`source: email`) under the id the mail room gave it; None when a copy of
    the event opened it first. Keyword escalation applies as to a portal ticket."""
    principal = _email_principal(tenant_id, customer_id)
    fields = {"subject": (subject or "(no subject)")[:200], "description": body or "(empty message)",
              "customer_id": customer_id, "requester_contact_id": contact_id, "source": "email"}
    tier, policy = _tier_and_policy(principal, customer_id, None)
    try:
        ticket, _ = _create(principal, fields, tier, policy, None, ticket_id)
    except Conflict:
        return None
    return ticket


def reply_from_email(tenant_id: str, ticket_id: str, customer_id: str, body: str) -> TicketMessage:
    """A customer's email on its ticket: a public customer message, with the status rules of a
    portal reply (reopens a waiting or recently resolved ticket; a closed one opens a linked
    ticket) and keyword escalation."""
    return post_message(_email_principal(tenant_id, customer_id), ticket_id, {"body": body or "(empty message)"})


def note_from_mail(tenant_id: str, ticket_id: str, body: str) -> TicketMessage:
    """An internal note by the mail automation (a bounce of a reply sent from the ticket)."""
    automation = Principal(tenant_id=tenant_id, user_id=EMAIL_AUTHOR, role="owner", email="")
    return post_message(automation, ticket_id, {"body": body, "visibility": "internal"})


def email_reply_for(tenant_id: str, ticket_id: str, message_id: str) -> tuple[Ticket, TicketMessage] | None:
    """For the mail room's outbound mail: the ticket and one of its messages (two GetItems)."""
    try:
        ticket = Ticket.get(Ticket.pk(tenant_id, ticket_id), Ticket.SORT)
        message = TicketMessage.get(ticket.PK, f"{TicketMessage.PREFIX}{message_id}")
    except (Ticket.DoesNotExist, TicketMessage.DoesNotExist):
        return None
    return ticket, message


def email_ticket(tenant_id: str, ticket_id: str) -> Ticket | None:
    try:
        return Ticket.get(Ticket.pk(tenant_id, ticket_id), Ticket.SORT)
    except Ticket.DoesNotExist:
        return None
