"""The feed's kinds: one projection per event type the customer timeline shows (see
registry.py). Visibility: what the customer's own people may see is `shared` (their tickets'
opening, public replies, status and resolution; shared interactions); everything else —
internal notes, SLA marks, escalations, the team's work — is `internal`."""

from __future__ import annotations

from chalicelib.core.events import Event
from chalicelib.customers.events import ContactCreated, CustomerUpdated
from chalicelib.files.events import FileDeleted, FileRejected, FileUpdated, FileUploaded
from chalicelib.followups.events import FollowUpCompleted, FollowUpCreated, FollowUpOverdue
from chalicelib.forms.events import FormSubmitted
from chalicelib.mail.events import MailBounced, MailReceived, MailSent
from chalicelib.portal.events import (
    CustomerPortalFirstLogin,
    MilestoneApproved,
    MilestoneChangesRequested,
    PortalLogin,
)
from chalicelib.templates.events import TemplateApplied
from chalicelib.tickets.events import (
    TicketCreated,
    TicketCsatSubmitted,
    TicketEscalated,
    TicketMessagePosted,
    TicketResolved,
    TicketSLABreached,
    TicketSLAWarning,
    TicketStatusChanged,
)
from chalicelib.timekeeping.events import EntryData, TimeEntryCreated, TimeEntryDeleted, TimeEntryUpdated
from chalicelib.work.events import (
    ProjectStatusChanged,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskDueDateChanged,
    TaskStatusChanged,
)

from . import kinds
from .events import InteractionCreated, InteractionDeleted, InteractionUpdated
from .registry import INTERNAL, SHARED, Entry, Lookup, entry, projection

# ---------- interactions ----------


@projection(InteractionCreated, InteractionUpdated)
def interaction(event: Event, data: InteractionCreated | InteractionUpdated, look: Lookup) -> Entry:
    task = look.task(data.task_id)
    facing = data.type in kinds.customer_facing_keys(event.tenant_id) and data.direction != "internal"
    return Entry(id=data.interaction_id, kind="interaction", etype=data.type, occurred_at=data.occurred_at,
                 summary=data.summary, actor={"type": "user", "id": data.author_id}, visibility=data.visibility,
                 system=False, customer_id=data.customer_id, project_id=data.project_id, task_id=data.task_id,
                 ticket_id=data.ticket_id, interaction_id=data.interaction_id, contact_ids=data.contact_ids,
                 assignee_ids=list(task.assignee_ids or []) if task else [], version=data.version,
                 customer_facing=facing)


@projection(InteractionDeleted)
def interaction_deleted(event: Event, data: InteractionDeleted, look: Lookup) -> Entry:
    return Entry(id=data.interaction_id, kind="interaction", occurred_at=event.occurred_at, summary="",
                 actor=event.actor.model_dump(mode="json"), customer_id=data.customer_id,
                 version=data.version, removed=True)


# ---------- work ----------


def _task_links(data: TaskCreated | TaskStatusChanged | TaskCompleted | TaskAssigned | TaskDueDateChanged
                | MilestoneApproved | MilestoneChangesRequested,
                look: Lookup) -> dict[str, object]:
    task = look.task(data.task_id)
    return {"customer_id": data.customer_id, "project_id": data.project_id, "task_id": data.task_id,
            "assignee_ids": list(task.assignee_ids or []) if task else []}


@projection(TaskCreated)
def task_created(event: Event, data: TaskCreated, look: Lookup) -> Entry:
    return entry(event, f"Task created: {look.task_title(data.task_id)}",
                 **{**_task_links(data, look), "assignee_ids": data.assignee_ids})


@projection(TaskStatusChanged)
def task_status_changed(event: Event, data: TaskStatusChanged, look: Lookup) -> Entry:
    return entry(event, f"Task {look.task_title(data.task_id)} moved from {data.from_} to {data.to}",
                 **_task_links(data, look))


@projection(TaskCompleted)
def task_completed(event: Event, data: TaskCompleted, look: Lookup) -> Entry:
    late = " (late)" if data.late else ""
    return entry(event, f"Task completed{late}: {look.task_title(data.task_id)}", **_task_links(data, look))


# Task.Assigned / Task.DueDateChanged (a re-plan's due-date moves are the re-plan's own entry, not one per task)


@projection(TaskAssigned)
def task_assigned(event: Event, data: TaskAssigned, look: Lookup) -> Entry:
    moves = [f"{label} {', '.join(ids)}" for label, ids in (("assigned to", data.added),
                                                            ("unassigned from", data.removed)) if ids]
    return entry(event, f"Task {look.task_title(data.task_id)} {'; '.join(moves) or 'reassigned'}",
                 **{**_task_links(data, look), "assignee_ids": data.after})


@projection(TaskDueDateChanged)
def task_due_date_changed(event: Event, data: TaskDueDateChanged, look: Lookup) -> Entry | None:
    if data.replanned:
        return None
    title = look.task_title(data.task_id)
    return entry(event, f"Task {title} due date {data.before or 'none'} → {data.after or 'none'}",
                 **_task_links(data, look))


@projection(ProjectStatusChanged)
def project_status_changed(event: Event, data: ProjectStatusChanged, look: Lookup) -> Entry:
    reason = f" — {data.reason}" if data.reason else ""
    return entry(event, f"Project {look.project_name(data.project_id)} status {data.from_ or 'new'} → {data.to}"
                 f"{reason}", customer_id=data.customer_id, project_id=data.project_id)


@projection(TemplateApplied)
def template_applied(event: Event, data: TemplateApplied, look: Lookup) -> Entry:
    return entry(event, f"Template applied: project {look.project_name(data.project_id)} "
                 f"anchored on {data.anchor.date}", customer_id=data.customer_id, project_id=data.project_id)


# ---------- tickets and SLA ----------


def _ticket_entry(event: Event, look: Lookup, ticket_id: str, text: str, visibility: str = INTERNAL) -> Entry | None:
    ticket = look.ticket(ticket_id)
    if ticket is None or not ticket.customer_id:
        return None  # a ticket of no customer is on no customer's timeline
    return entry(event, f"{text}: “{ticket.subject}”", visibility=visibility, customer_id=ticket.customer_id,
                 ticket_id=ticket_id, project_id=ticket.related_project_id,
                 contact_ids=[ticket.requester_contact_id] if ticket.requester_contact_id else [],
                 assignee_ids=[ticket.assignee_id] if ticket.assignee_id else [])


@projection(TicketCreated)
def ticket_created(event: Event, data: TicketCreated, look: Lookup) -> Entry | None:
    return _ticket_entry(event, look, data.ticket_id, "Ticket opened", SHARED)


@projection(TicketMessagePosted)
def ticket_message(event: Event, data: TicketMessagePosted, look: Lookup) -> Entry | None:
    if data.visibility != "public":
        return _ticket_entry(event, look, data.ticket_id, "Internal note on ticket")
    who = "Customer replied" if data.author_type in ("customer", "contact", "portal") else "Public reply"
    return _ticket_entry(event, look, data.ticket_id, f"{who} on ticket", SHARED)


@projection(TicketStatusChanged)
def ticket_status_changed(event: Event, data: TicketStatusChanged, look: Lookup) -> Entry | None:
    return _ticket_entry(event, look, data.ticket_id, f"Ticket {data.from_} → {data.to}", SHARED)


@projection(TicketResolved)
def ticket_resolved(event: Event, data: TicketResolved, look: Lookup) -> Entry | None:
    return _ticket_entry(event, look, data.ticket_id, "Ticket resolved", SHARED)


@projection(TicketEscalated)
def ticket_escalated(event: Event, data: TicketEscalated, look: Lookup) -> Entry | None:
    return _ticket_entry(event, look, data.ticket_id, f"Ticket escalated to level {data.escalation_level}")


@projection(TicketSLAWarning, TicketSLABreached)
def ticket_sla(event: Event, data: TicketSLAWarning | TicketSLABreached, look: Lookup) -> Entry | None:
    what = "SLA breached" if isinstance(data, TicketSLABreached) else "SLA warning"
    return _ticket_entry(event, look, data.ticket_id, f"{what} ({data.target.replace('_', ' ')})")


@projection(TicketCsatSubmitted)
def ticket_csat(event: Event, data: TicketCsatSubmitted, look: Lookup) -> Entry | None:
    return _ticket_entry(event, look, data.ticket_id, f"CSAT response {data.score}/5")


# ---------- customers ----------


@projection(CustomerUpdated)
def customer_updated(event: Event, data: CustomerUpdated, look: Lookup) -> Entry | None:
    parts = [f"{label} changed from {change.before or 'none'} to {change.after or 'none'}"
             for name, label in (("lifecycle_stage", "Stage"), ("owner_id", "Owner"))
             if (change := data.changes.get(name)) is not None]
    if not parts:
        return None  # only a stage or owner change is timeline material
    return entry(event, "; ".join(parts), customer_id=data.customer_id)


@projection(ContactCreated)
def contact_added(event: Event, data: ContactCreated, look: Lookup) -> Entry:
    contact = look.contact(data.contact_id)
    name = f": {contact.name}" if contact else ""
    return entry(event, f"Contact added{name}", customer_id=data.customer_id, contact_ids=[data.contact_id])


# ---------- forms and time (rooms of this wave: a few lines each) ----------


@projection(FormSubmitted)
def form_submitted(event: Event, data: FormSubmitted, look: Lookup) -> Entry | None:
    if not data.customer_id:
        return None
    return entry(event, f"Form submitted: {data.form_name}", visibility=data.visibility, customer_id=data.customer_id,
                 contact_ids=[data.contact_id] if data.contact_id else [])


def _time_entry(event: Event, time: EntryData, version: int, removed: bool = False) -> Entry:
    """A time entry (its minutes and category; never its rate or amount), replaced as it changes."""
    return Entry(id=time.id, kind="TimeEntry.Created", occurred_at=time.started_at or f"{time.date}T00:00:00Z",
                 summary=f"{time.minutes} min logged ({time.category.replace('_', ' ')})",
                 actor={"type": "user", "id": time.user_id}, customer_id=time.customer_id, project_id=time.project_id,
                 task_id=time.task_id, ticket_id=time.ticket_id, assignee_ids=[time.user_id], version=version,
                 removed=removed)


@projection(TimeEntryCreated, TimeEntryUpdated, TimeEntryDeleted)
def time_entry(event: Event, data: TimeEntryCreated | TimeEntryUpdated | TimeEntryDeleted, look: Lookup) -> Entry:
    if isinstance(data, TimeEntryUpdated):
        return _time_entry(event, data.after, data.after.version)
    if isinstance(data, TimeEntryDeleted):
        return _time_entry(event, data.entry, data.entry.version + 1, removed=True)
    return _time_entry(event, data.entry, data.entry.version)


# ---------- mail, files, portal and follow-ups (issues 12, 14, 15: a few lines each) ----------


@projection(MailReceived)
def mail_received(event: Event, data: MailReceived, look: Lookup) -> Entry:
    """Every routed email is an `email` entry and a customer touch. The customer's own mail to the
    support address is their correspondence on their ticket (shared, as the ticket is); mail a
    team member logged through the log address (Bcc, forward) stays internal, as a logged
    interaction is until shared by hand — and it counts as logged by a person (`system` false)."""
    logged = data.mailbox == "log"
    shared = not logged and data.direction == "inbound" and data.ticket_id is not None
    who = data.from_name or data.from_address
    what = "Email logged" if logged else "Email received"
    return entry(event, f"{what} from {who}: “{data.subject}”", etype="email",
                 visibility=SHARED if shared else INTERNAL, system=not logged,
                 customer_id=data.customer_id, ticket_id=data.ticket_id,
                 contact_ids=[data.contact_id] if data.contact_id else [], customer_facing=True)


@projection(MailSent)
def mail_sent(event: Event, data: MailSent, look: Lookup) -> Entry | None:
    """A ticket's public reply gone out as email: shared, a customer touch. One held (the recipient
    bounces) or refused is the team's problem: internal, and no touch."""
    if not data.customer_id:
        return None
    sent = data.status == "sent"
    what = "Email sent" if sent else f"Email {data.status} (not delivered)"
    return entry(event, f"{what} to {', '.join(data.to) or 'no one'}: “{data.subject}”", etype="email",
                 visibility=SHARED if sent else INTERNAL, customer_id=data.customer_id, ticket_id=data.ticket_id,
                 contact_ids=[data.contact_id] if data.contact_id else [], customer_facing=sent)


@projection(MailBounced)
def mail_bounced(event: Event, data: MailBounced, look: Lookup) -> Entry | None:
    """A bounce is internal; its customer is the ticket's (a bounce is of a ticket reply)."""
    if data.ticket_id is None:
        return None
    kind = "permanently" if data.permanent else "temporarily"
    return _ticket_entry(event, look, data.ticket_id,
                         f"Email to {', '.join(data.recipients) or 'the recipient'} bounced {kind}")


@projection(FileUploaded, FileUpdated)
def file_on_record(event: Event, data: FileUploaded | FileUpdated, look: Lookup) -> Entry | None:
    """A file on the customer record, one entry per file kept in step with the file: shared
    while the portal may see it, renamed and relinked with it."""
    if not data.on_record:
        return None  # a rejected upload has its own entry
    how = {"mail": "from email", "link": "linked"}.get(data.source, "uploaded")
    actor = {"type": "user", "id": data.added_by} if data.added_by else event.actor.model_dump(mode="json")
    return Entry(id=data.file_id, kind=FileUploaded.TYPE, occurred_at=data.added_at or event.occurred_at,
                 summary=f"File {how}: {data.filename}", actor=actor,
                 visibility=SHARED if data.portal_visible else INTERNAL, customer_id=data.customer_id,
                 project_id=data.project_id, task_id=data.task_id, ticket_id=data.ticket_id, version=data.version)


@projection(FileDeleted)
def file_deleted(event: Event, data: FileDeleted, look: Lookup) -> Entry:
    return Entry(id=data.file_id, kind=FileUploaded.TYPE, occurred_at=event.occurred_at, summary="",
                 actor=event.actor.model_dump(mode="json"), customer_id=data.customer_id, version=data.version,
                 removed=True)


@projection(FileRejected)
def file_rejected(event: Event, data: FileRejected, look: Lookup) -> Entry:
    """A rejected upload is the team's to see: internal."""
    return entry(event, f"File rejected: {data.filename} ({data.reason})", visibility=INTERNAL,
                 customer_id=data.customer_id, project_id=data.project_id, task_id=data.task_id,
                 ticket_id=data.ticket_id)


@projection(MilestoneApproved, MilestoneChangesRequested)
def milestone_decided(event: Event, data: MilestoneApproved | MilestoneChangesRequested, look: Lookup) -> Entry:
    what = "approved" if isinstance(data, MilestoneApproved) else "changes requested"
    comment = f" — {data.comment}" if data.comment else ""
    return entry(event, f"Milestone {what}: {look.task_title(data.task_id)}{comment}", visibility=SHARED,
                 **_task_links(data, look))


@projection(CustomerPortalFirstLogin, PortalLogin)
def portal_login(event: Event, data: CustomerPortalFirstLogin | PortalLogin, look: Lookup) -> Entry:
    first = isinstance(data, CustomerPortalFirstLogin)
    return entry(event, "First portal sign-in of the company" if first else "Portal sign-in",
                 customer_id=data.customer_id)


@projection(FollowUpCreated, FollowUpCompleted, FollowUpOverdue)
def follow_up(event: Event, data: FollowUpCreated | FollowUpCompleted | FollowUpOverdue, look: Lookup) -> Entry:
    if isinstance(data, FollowUpCompleted):
        what = "completed" + ("" if data.on_time else f" ({data.days_late} days late)")
    else:
        what = "overdue" if isinstance(data, FollowUpOverdue) else f"created, due {data.due_date}"
    links = {"ticket_id": data.ticket_id, "project_id": data.project_id} if isinstance(data, FollowUpCreated) else {}
    return entry(event, f"Follow-up {what}: “{data.title}”", customer_id=data.customer_id,
                 assignee_ids=[data.assignee_id], **links)
