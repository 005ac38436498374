"""What the tickets room derives from its own events (see core/consumers.py): the weekly SLA
rollup (tickets/rollups.py). Runs once per event id and tolerates any order (its counts are
ADDs)."""

from __future__ import annotations

from collections import Counter

from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.mail.events import MailBounced, MailReceived

from . import rollups, service
from .events import Measured, TicketCreated, TicketCsatSubmitted, TicketReopened, TicketSLABreached, TicketUpdated

SATISFIED = 4  # a CSAT score at or above it counts as satisfied


def _counts(data: object) -> Counter[str]:
    if isinstance(data, TicketCreated):
        return Counter(["created"])
    if isinstance(data, TicketReopened):
        return Counter(["reopened"])
    if isinstance(data, TicketCsatSubmitted):
        return Counter(["csat_responses", *(["csat_satisfied"] if data.score >= SATISFIED else [])])
    if isinstance(data, TicketSLABreached):
        return Counter([f"{data.target}_missed"])
    if isinstance(data, TicketUpdated):
        return Counter(f"{target}_{outcome}" for target, outcome in data.sla_outcomes.items())
    return Counter()


@consumer("tickets_sla_rollup", TicketCreated, TicketUpdated, TicketReopened, TicketCsatSubmitted, TicketSLABreached)
def count_in_rollup(event: Event) -> bool:
    """A ticket's creation, reopen, SLA outcomes and CSAT answers count in its week's SLA rollup."""
    data = event.typed()
    if not isinstance(data, Measured) or data.at is None or data.priority is None:
        return False  # published before the rollup moved here: counted in its own transaction
    return rollups.count(event, data.at, data.priority, data.customer_tier, _counts(data))


@consumer("tickets_mail_received", MailReceived)
def take_customer_email(event: Event) -> str | None:
    """Support mail routed to a customer: a customer message on the ticket it continues, or a
    new ticket (`source: email`) under the id the mail room chose. Log-address mail is the
    timeline's, not a ticket's."""
    mail = event.data_as(MailReceived)
    if mail.mailbox != "support" or mail.ticket_id is None:
        return None
    if mail.new_ticket:
        opened = service.open_from_email(event.tenant_id, mail.ticket_id, mail.customer_id, mail.contact_id,
                                         mail.subject, mail.body)
        return opened.id if opened else mail.ticket_id
    return service.reply_from_email(event.tenant_id, mail.ticket_id, mail.customer_id, mail.body).ticket_id


@consumer("tickets_mail_bounced", MailBounced)
def note_bounce(event: Event) -> str | None:
    """A reply sent from a ticket bounced: an internal note says who did not get it and why."""
    bounced = event.data_as(MailBounced)
    if bounced.ticket_id is None:
        return None
    who = ", ".join(bounced.recipients) or "the recipient"
    kind = "permanently" if bounced.permanent else "temporarily"
    service.note_from_mail(event.tenant_id, bounced.ticket_id,
                           f"Email to {who} bounced {kind} (status {bounced.status or 'unknown'}); "
                           "the contact's address is marked bouncing.")
    return bounced.ticket_id
