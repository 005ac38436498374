"""What the mail room does on other rooms' events (see core/consumers.py): a public team reply
on a ticket goes out by email; a resolution sends the CSAT email; a sent invoice is emailed with
its PDF attached (outbound.py). Internal notes
and the customer's own messages never leave."""

from __future__ import annotations

from chalicelib.billing.events import InvoiceSent
from chalicelib.core.consumers import consumer
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.events import Event
from chalicelib.tickets import service as tickets
from chalicelib.tickets.events import TicketMessagePosted, TicketResolved

from . import outbound, service

CSAT_BASE_URL_PATH = "/csat/"


@consumer("mail_send_ticket_reply", TicketMessagePosted)
def send_reply(event: Event) -> str | None:
    """A public reply by the team (typed or canned) is emailed to the requester and the Cc."""
    posted = event.data_as(TicketMessagePosted)
    if posted.visibility != "public" or posted.author_type != "team":
        return None
    found = tickets.email_reply_for(event.tenant_id, posted.ticket_id, posted.message_id)
    if found is None:
        return None
    _, message = found
    if message.visibility != "public":  # the record decides, whatever the event said
        return None
    sent = outbound.send_ticket_mail(event.tenant_id, posted.ticket_id, posted.message_id, message.body,
                                     auto=False, mail_id=posted.message_id)
    return sent.status if sent else None


@consumer("mail_send_resolution", TicketResolved)
def send_resolution(event: Event) -> str | None:
    """A resolved ticket's requester gets the resolution email with the CSAT link (automatic mail:
    `Auto-Submitted: auto-replied`)."""
    resolved = event.data_as(TicketResolved)
    try:
        link = tickets.csat_link(service.automation(event.tenant_id), resolved.ticket_id)
    except (Conflict, NotFound):  # no survey to offer: answered already, or reopened since
        return None
    body = ("Your request has been resolved. If anything is still open, just reply to this email and the "
            f"ticket reopens.\n\nHow did we do? Tell us in one click: {link['path']}\n")
    sent = outbound.send_ticket_mail(event.tenant_id, resolved.ticket_id, None, body, auto=True,
                                     mail_id=f"{event.id}")
    return sent.status if sent else None


@consumer("mail_send_invoice", InvoiceSent)
def send_invoice(event: Event) -> str | None:
    """A sent invoice goes to the customer's billing addresses, once per Invoice.Sent (the
    outbound record is the event's id)."""
    sent = outbound.send_invoice_mail(event.tenant_id, event.data_as(InvoiceSent), f"{event.id}")
    return sent.status if sent else None
