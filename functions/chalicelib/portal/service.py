"""The portal's pages and actions for the customer's own people: the home page, a shared
project, milestone decisions, tickets, the team and what waits on them. Reads cross rooms only
through their service functions (work.portal, tickets, customers, team); the portal's own
writes are its items (portal/models.py) and its events (portal/events.py).

Every function first asks the permission table (`portal:read` / `portal:write`: the portal role
only, over its own company) — the routes' check and the service's are the same table."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.billing import exports as billing_exports
from chalicelib.billing import service as billing
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso
from chalicelib.customers import service as customers
from chalicelib.files import service as files
from chalicelib.forms import service as forms
from chalicelib.sla import tracker
from chalicelib.team import service as team
from chalicelib.tickets import access as ticket_access
from chalicelib.tickets import service as tickets
from chalicelib.work import portal as work

from . import facts
from .events import MilestoneApproved, MilestoneChangesRequested
from .models import MilestoneDecision, PortalUser

OPEN_TICKET_STATUSES = ("new", "open", "in_progress", "pending", "waiting_on_customer")
TICKET_PAGE = 200
KEY_CONTACT_FLAGS = ("exec_sponsor", "champion", "billing")


def _customer_id(principal: Principal, action: str = "portal:read") -> str:
    require(principal, action)
    assert principal.customer_id  # a portal token always carries it (core.auth)
    return principal.customer_id


def portal_user(principal: Principal) -> PortalUser | None:
    return facts.portal_user(principal.tenant_id, principal.user_id)


# ---------- the home page: one function per section ----------


def company(principal: Principal) -> dict[str, Any]:
    """Name, lifecycle stage, the CSM with contact details, key contacts."""
    customer = customers.get_customer(principal, _customer_id(principal))
    csm = team.get_user(principal.tenant_id, customer.owner_id) if customer.owner_id else None
    contacts = customers.list_contacts(principal, customer.id, 200, None).items
    key = [{"name": c.name, "email": c.email, "title": c.title,
            "roles": [flag for flag in KEY_CONTACT_FLAGS if getattr(c, flag)]}
           for c in contacts if any(getattr(c, flag) for flag in KEY_CONTACT_FLAGS)]
    return {
        "id": customer.id,
        "name": customer.name,
        "lifecycle_stage": customer.lifecycle_stage,
        "csm": {"name": csm.name, "email": csm.email} if csm and csm.active else None,
        "key_contacts": key,
    }


def shared_projects(principal: Principal, today: date) -> list[dict[str, Any]]:
    customer_id = _customer_id(principal)
    summaries = []
    for project in work.shared_projects(principal.tenant_id, customer_id):
        _, tasks = work.shared_board(principal.tenant_id, customer_id, project.id)
        summaries.append(work.project_summary(project, tasks, today))
    return summaries


def open_tickets(principal: Principal) -> list[dict[str, Any]]:
    return [ticket for ticket in list_tickets(principal, None) if ticket["status"] in OPEN_TICKET_STATUSES]


def forms_waiting(principal: Principal) -> list[dict[str, Any]]:
    """Forms assigned to the customer's portal and not yet submitted, due first (the forms room's read)."""
    return forms.forms_waiting(principal.tenant_id, _customer_id(principal))


RECENT_DOCUMENTS = 5


def documents(principal: Principal, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The company's portal-visible, available files, newest first (the files room's read)."""
    _customer_id(principal)
    page = files.portal_files(principal, limit, cursor)
    return [files.file_view(principal, file) for file in page.items], page.next_cursor


def recent_documents(principal: Principal) -> list[dict[str, Any]]:
    """The newest shared documents, for the home page."""
    return documents(principal, RECENT_DOCUMENTS, None)[0]


def upload_document(principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """An upload by a portal user through the files room: a pending, portal-visible file of its
    own company and the presigned POST limited to its size and type (recorded on the timeline
    by the files room's events)."""
    _customer_id(principal, "portal:write")
    file, upload = files.portal_upload(principal, {**fields, "source": "upload"})
    return {**files.file_view(principal, file), "upload": upload}


INVOICE_FIELDS = ("id", "number", "status", "currency", "total", "amount_paid", "balance", "issue_date",
                  "due_date", "from", "to", "sent_at")


def _invoice_summary(invoice: Any) -> dict[str, Any]:
    view = billing.invoice_view(invoice, billing.today_for(invoice.tenant_id))
    return {name: view[name] for name in INVOICE_FIELDS}


def invoices(principal: Principal) -> list[dict[str, Any]]:
    """The customer's finalized, sent (or overdue), paid and void invoices — never a draft (the billing room's read)."""
    found = billing.portal_invoices(principal.tenant_id, _customer_id(principal), 50, None).items
    return [_invoice_summary(invoice) for invoice in found]


def invoice(principal: Principal, invoice_id: str) -> dict[str, Any]:
    """One of the customer's invoices with its lines and a short-lived link to its PDF."""
    found = billing.portal_invoice(principal.tenant_id, _customer_id(principal), invoice_id)
    view = billing.invoice_view(found, billing.today_for(principal.tenant_id))
    lines = [{k: line[k] for k in ("kind", "description", "quantity", "rate", "amount", "service_date") if k in line}
             for line in view["lines"]]
    return {**_invoice_summary(found), "lines": lines, "terms": view["terms"], "po_number": view["po_number"],
            "pdf_url": billing_exports.pdf_link(principal, found)["url"]}


def home(principal: Principal, today: date) -> dict[str, Any]:
    waiting = waiting_on_you(principal)
    return {
        "company": company(principal),
        "projects": shared_projects(principal, today),
        "open_tickets": open_tickets(principal),
        "forms_waiting": forms_waiting(principal),
        "recent_documents": recent_documents(principal),
        "invoices": invoices(principal),
        "waiting_on_you_count": len(waiting),
    }


# ---------- a shared project ----------


def project(principal: Principal, project_id: str, today: date) -> dict[str, Any]:
    """A shared project's shared tasks, grouped by phase (a top-level task and its subtasks)."""
    customer_id = _customer_id(principal)
    found, tasks = work.shared_board(principal.tenant_id, customer_id, project_id)
    shown = [work.portal_task(task) for task in tasks]
    top = [task for task in shown if task["parent_id"] is None or task["parent_id"] not in
           {t["id"] for t in shown}]
    phases = [{**task, "subtasks": [t for t in shown if t["parent_id"] == task["id"]]} for task in top]
    return {**work.project_summary(found, tasks, today), "phases": phases,
            "milestones": [task for task in shown if task["is_milestone"]]}


# ---------- milestones ----------


def decide_milestone(principal: Principal, task_id: str, approve: bool, comment: str | None) -> dict[str, Any]:
    """Approve, or ask for changes on, a shared milestone marked needs_approval: the portal's
    decision item (one approval per milestone) and the event, in one transaction; the work room
    records it on the task from the event."""
    customer_id = _customer_id(principal, "portal:write")
    found_project, task = work.shared_task(principal.tenant_id, customer_id, task_id)
    if not (task.is_milestone and task.needs_approval):
        raise Conflict(f"task {task_id} is not a milestone awaiting the customer's approval")
    state, now = ("approved" if approve else "changes_requested"), now_iso()
    decision = MilestoneDecision(
        MilestoneDecision.pk(principal.tenant_id, task_id), MilestoneDecision.SORT, type="MilestoneDecision",
        tenant_id=principal.tenant_id, task_id=task_id, state=state, decided_by=principal.user_id, decided_at=now)
    event_type = MilestoneApproved if approve else MilestoneChangesRequested
    data = event_type(task_id=task_id, project_id=found_project.id, customer_id=customer_id,
                      decided_by=principal.user_id, decided_at=now, comment=comment)
    tx = Transaction()
    tx.put(decision, MilestoneDecision.PK.does_not_exist() | (MilestoneDecision.state != "approved"),
           lambda: Conflict(f"milestone {task_id} is already approved"))
    tx.publish(data.event(principal.tenant_id))
    tx.commit()
    return {"task_id": task_id, "project_id": found_project.id, "state": state, "comment": comment,
            "decided_at": now}


# ---------- tickets (the tickets room's own rules, for the portal audience) ----------


def company_scope_allowed(principal: Principal) -> bool:
    """The tickets room's rule (tickets/access.customer_audience), the same on /tickets."""
    _customer_id(principal)
    return ticket_access.customer_audience(principal).company


def _ticket_shape(principal: Principal, ticket: Any) -> dict[str, Any]:
    return tickets.ticket_view(principal, ticket)


def list_tickets(principal: Principal, scope: str | None) -> list[dict[str, Any]]:
    """The company's tickets (scope company, when its sharing allows or the user is a portal
    admin) or the user's own (those they are the requester of), newest first. The tickets room
    lists only what the user reaches; `mine` narrows a company-wide reach to their own."""
    _customer_id(principal)
    audience = ticket_access.customer_audience(principal)
    if scope == "company" and not audience.company:
        raise Forbidden("this company's tickets are shared with each requester only (portal_ticket_sharing: own)")
    found = tickets.list_tickets(principal, {}, "created", TICKET_PAGE, None).items
    if scope == "mine":
        mine = ticket_access.CustomerAudience(False, audience.contact_id)
        found = [ticket for ticket in found if mine.sees(ticket)]
    return [_ticket_shape(principal, ticket) for ticket in found]


def open_ticket(principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    _customer_id(principal, "portal:write")
    ticket = tickets.create_ticket(principal, fields)  # the tickets room makes the portal user its requester
    return _ticket_shape(principal, ticket)


def ticket_with_messages(principal: Principal, ticket_id: str) -> dict[str, Any]:
    _customer_id(principal)
    ticket = tickets.get_ticket(principal, ticket_id)
    messages = tickets.list_messages(principal, ticket_id, TICKET_PAGE, None).items
    return {**_ticket_shape(principal, ticket),
            "messages": [_public_message(tickets.message_view(message)) for message in messages]}


def _public_message(view: dict[str, Any]) -> dict[str, Any]:
    return {name: view[name] for name in ("id", "ticket_id", "visibility", "author_type", "body", "created_at")}


def reply(principal: Principal, ticket_id: str, body: str) -> dict[str, Any]:
    _customer_id(principal, "portal:write")
    message = tickets.post_message(principal, ticket_id, {"visibility": "public", "body": body,
                                                          "canned_response_id": None})
    return _public_message(tickets.message_view(message))


# ---------- what waits on the customer ----------


def _ticket_paused_since(ticket: Any) -> str | None:
    starts = [since for state in (ticket.sla or {}).values() if (since := tracker.paused_since(state))]
    return min(starts) if starts else None


def waiting_on_you(principal: Principal) -> list[dict[str, Any]]:
    """Tasks in the waiting_on_customer column, tickets waiting on them (the SLA clock paused
    since when), forms due, milestones awaiting approval — oldest first."""
    customer_id = _customer_id(principal)
    items: list[dict[str, Any]] = []
    for shared in work.shared_projects(principal.tenant_id, customer_id):
        _, tasks = work.shared_board(principal.tenant_id, customer_id, shared.id)
        for task in tasks:
            shown = work.portal_task(task)
            if task.status == work.WAITING_ON_CUSTOMER and task.is_open:
                items.append({"kind": "task", "id": task.id, "title": task.title, "project_id": shared.id,
                              "project_name": shared.name, "since": task.updated_at,
                              "due_date": shown["due_date"], "blocker": task.portal_blocker})
            if work.awaits_approval(task):
                items.append({"kind": "milestone_approval", "id": task.id, "title": task.title,
                              "project_id": shared.id, "project_name": shared.name,
                              "since": (task.approval or {}).get("at") or task.created_at,
                              "due_date": shown["due_date"]})
    waiting = tickets.list_tickets(principal, {"status": "waiting_on_customer"}, "created", TICKET_PAGE, None).items
    for ticket in waiting:  # the tickets room lists only those the user reaches
        paused = _ticket_paused_since(ticket)
        items.append({"kind": "ticket", "id": ticket.id, "title": ticket.subject, "since": paused or ticket.updated_at,
                      "sla_clock": {"paused": paused is not None, "paused_since": paused}})
    items.extend({"kind": "form", "id": form["form_id"], "title": form["form_name"], "since": form["assigned_at"],
                  "due_date": form["due_date"]} for form in forms_waiting(principal))
    return sorted(items, key=lambda item: (item["since"] or "", item["id"]))


# ---------- the customer's portal team ----------


def _member(user: PortalUser, me: str) -> dict[str, Any]:
    return {"user_id": user.user_id, "name": user.name, "email": user.email, "portal_admin": user.portal_admin,
            "contact_id": user.contact_id, "is_me": user.user_id == me}


def list_team(principal: Principal) -> list[dict[str, Any]]:
    customer_id = _customer_id(principal)
    found = PortalUser.by_customer.query(PortalUser.customer_pk(principal.tenant_id, customer_id), limit=500)
    members = []
    for entry in found:
        user = team.get_user(principal.tenant_id, entry.user_id)
        if user is not None and user.active and user.role == "portal" and user.customer_id == customer_id:
            members.append(_member(entry, principal.user_id))
    return members


def record_portal_user(tx: Transaction, actor: Principal, user: Any, customer_id: str, contact_id: str | None,
                       portal_admin: bool) -> PortalUser:
    """The portal's facts about a portal user (written with `tx`)."""
    item = PortalUser(
        PortalUser.pk(actor.tenant_id, user.id), PortalUser.SORT, type="PortalUser", tenant_id=actor.tenant_id,
        user_id=user.id, customer_id=customer_id, contact_id=contact_id, email=user.email, name=user.name,
        portal_admin=portal_admin, invited_by=actor.user_id, created_at=now_iso(),
        GSI1PK=PortalUser.customer_pk(actor.tenant_id, customer_id), GSI1SK=f"{user.name.casefold()}#{user.id}")
    tx.put(item)
    return item


def invite_colleague(principal: Principal, email: str, name: str) -> dict[str, Any]:
    """A colleague at the same customer, when the customer lets its people invite
    (portal_self_invite) or the inviter is a portal admin."""
    customer_id = _customer_id(principal, "portal:write")
    customer = customers.get_customer(principal, customer_id)
    me = portal_user(principal)
    if not (customer.portal_self_invite or (me and me.portal_admin)):
        raise Forbidden("only a portal admin may invite colleagues to this company's portal")
    contact = customers.contact_by_email(principal, email)
    contact_id = contact.id if contact and contact.customer_id == customer_id else None
    user = team.grant_portal_login(principal, email, name, customer_id)
    tx = Transaction()
    item = record_portal_user(tx, principal, user, customer_id, contact_id, False)
    tx.commit()
    return _member(item, principal.user_id)
