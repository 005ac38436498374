"""Outbound mail: a public team reply on a ticket goes out by SES to the requester and the
thread's Cc, from the tenant's support address, threaded (Message-ID, In-Reply-To, References),
with the signed plus-address as Reply-To and the subject token; the resolution email carries the
CSAT link and `Auto-Submitted: auto-replied`. Internal notes never reach this module (the
consumer takes public team messages only, and composes from that one message).

Exactly once as far as SES allows: the outbound record (id = the ticket message's id) is created
`sending` before the send and turned `sent` after; a copy of the event finds it done. A crash
between SES's answer and the update sends again on the retry (at least once). A refusal SES
calls permanent (MessageRejected, an unverified sender) is `failed` on the record and in
Mail.Sent, never lost; anything else raises, and the consumer's delivery retries it."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from chalicelib.billing import exports, money
from chalicelib.billing import service as billing
from chalicelib.billing.events import InvoiceSent
from chalicelib.core.errors import Conflict
from chalicelib.core.table import Transaction, now_iso
from chalicelib.customers import service as customers
from chalicelib.tickets import service as tickets

from . import service, storage, threading
from .events import MailSent
from .models import MailMessage, MailThread, MessageIdClaim, TicketNumber

PERMANENT_ERRORS = frozenset({"MessageRejected", "MailFromDomainNotVerifiedException",
                              "ConfigurationSetDoesNotExist", "AccountSendingPausedException"})


def compose(*, sender: str, reply_to: str, to: list[str], cc: list[str], subject: str, body: str,
            message_id: str, in_reply_to: str | None, references: list[str], auto: bool,
            auto_kind: str = "auto-replied", attachment: tuple[str, str, bytes] | None = None) -> bytes:
    """The RFC 5322 message, as bytes for SES's SendRawEmail; `attachment` is (filename, MIME
    type, bytes)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        message["References"] = " ".join(f"<{found}>" for found in references)
    if auto:
        message["Auto-Submitted"] = auto_kind
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body)
    if attachment is not None:
        filename, content_type, data = attachment
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def _thread(tenant: str, ticket: Any) -> MailThread:
    try:
        thread = MailThread.get(MailThread.pk(tenant, ticket.id), MailThread.SORT)
    except DoesNotExist:
        thread = MailThread(MailThread.pk(tenant, ticket.id), MailThread.SORT, type="MailThread", tenant_id=tenant,
                            ticket_id=ticket.id, subject=ticket.subject, references=[])
    if thread.number is None:  # a ticket's first mail (it was opened in the app or the portal)
        thread.number = service.next_ticket_number(tenant)
        tx = Transaction()
        tx.create(TicketNumber(TicketNumber.pk(tenant, thread.number), TicketNumber.SORT, type="TicketNumber",
                               tenant_id=tenant, ticket_id=ticket.id), lambda: Conflict("ticket number taken"))
        tx.put(thread)
        tx.commit()
    return thread


def _recipients(tenant: str, ticket: Any, thread: MailThread) -> tuple[list[str], list[str], str | None]:
    """(to, cc, contact id) of a ticket reply; bouncing contacts' addresses are left out."""
    reader = service.automation(tenant)
    to, bouncing, contact_id = [], [], None
    if ticket.requester_contact_id:
        contact = customers.get_contact(reader, ticket.requester_contact_id)
        contact_id = contact.id
        (bouncing if contact.email_status == "bouncing" else to).append(contact.email.lower())
    elif thread.requester_email:
        found = customers.contact_by_email(reader, thread.requester_email)
        (bouncing if found is not None and found.email_status == "bouncing" else to).append(thread.requester_email)
    cc = []
    for address in thread.cc:
        found = customers.contact_by_email(reader, address)
        if found is not None and found.email_status == "bouncing":
            bouncing.append(address)
        elif address not in to:
            cc.append(address)
    return to, cc, contact_id


def send_ticket_mail(tenant: str, ticket_id: str, ticket_message_id: str | None, body: str, *,
                     auto: bool, mail_id: str) -> MailMessage | None:
    """Send (or hold) one email of a ticket; the outbound record is `mail_id`. None when this
    mail was handled before (a copy of the event)."""
    ticket = tickets.email_ticket(tenant, ticket_id)
    if ticket is None:
        return None
    domain = service.mail_domain()
    pk = MailMessage.pk(tenant, mail_id)
    existing = _pending(pk)
    if existing is False:
        return None
    thread = _thread(tenant, ticket)
    to, cc, contact_id = _recipients(tenant, ticket, thread)
    message_id = f"{mail_id.lower()}@{tenant}.{domain}"
    subject = threading.reply_subject(thread.subject or ticket.subject, int(thread.number or 0))
    now = now_iso()
    record = existing or MailMessage(
        pk, MailMessage.SORT, type="MailMessage", tenant_id=tenant, id=mail_id, version=1, created_at=now,
        updated_at=now, direction="outbound", mailbox="support", status="sending", message_id=message_id,
        from_address=threading.support_address(tenant, domain), to=to + cc, subject=subject,
        snippet=" ".join(body.split())[:200], customer_id=ticket.customer_id, contact_id=contact_id,
        ticket_id=ticket.id, ticket_message_id=ticket_message_id, attempts=0)
    if existing is None:
        record.index_keys()
        record.save(MailMessage.PK.does_not_exist())
    status, reason, error = "sent", None, None
    if not to:
        status, reason = "suppressed", "recipient_bouncing" if thread.requester_email or contact_id else "no_recipient"
    else:
        raw = compose(sender=threading.support_address(tenant, domain),
                      reply_to=threading.support_address(tenant, domain, threading.ticket_token(
                          service.token_key(), tenant, ticket.id)),
                      to=to, cc=cc, subject=subject, body=body, message_id=message_id,
                      in_reply_to=thread.references[-1] if thread.references else None,
                      references=thread.references[-service.MAX_REFERENCES:], auto=auto)
        status, reason, error = _send(threading.support_address(tenant, domain), to + cc, raw)
    return _record_outcome(record, thread, status, reason, error)


def _pending(pk: str) -> MailMessage | bool | None:
    """The outbound record of an earlier attempt still `sending`, None for a first attempt, False
    when this mail was handled before."""
    try:
        existing = MailMessage.get(pk, MailMessage.SORT, consistent_read=True)
    except DoesNotExist:
        return None
    return existing if existing.status == "sending" else False


def _send(source: str, destinations: list[str], raw: bytes) -> tuple[str, str | None, str | None]:
    """(status, reason, error) of one SES send; a transient refusal raises (the delivery retries)."""
    try:
        storage.send_raw(source, destinations, raw)
    except ClientError as refused:
        code = refused.response.get("Error", {}).get("Code", "")
        if code not in PERMANENT_ERRORS:
            raise  # throttled or unavailable: the consumer's delivery retries
        return "failed", code, str(refused)[:500]
    return "sent", None, None


def send_invoice_mail(tenant: str, sent: InvoiceSent, mail_id: str) -> MailMessage | None:
    """Email a sent invoice, its PDF attached, from the tenant's support address to the
    addresses billing named (bouncing contacts' left out; none left: held as `suppressed`).
    None when this mail was handled before."""
    pk = MailMessage.pk(tenant, mail_id)
    existing = _pending(pk)
    if existing is False:
        return None
    reader = service.automation(tenant)
    invoice = billing.get_invoice(reader, sent.invoice_id)
    key, filename, document = exports.pdf_document(reader, invoice)
    domain, name = service.mail_domain(), exports.tenant_name(tenant)
    sender = email.utils.formataddr((name, threading.support_address(tenant, domain)))
    to, bouncing = [], []
    for address in dict.fromkeys(found.lower() for found in sent.to):
        contact = customers.contact_by_email(reader, address)
        (bouncing if contact is not None and contact.email_status == "bouncing" else to).append(address)
    number = sent.number or invoice.number or invoice.id
    subject = f"Invoice {number} from {name}"
    amount = f"{money.decimal_text(sent.total, sent.currency)} {sent.currency}"
    body = (f"Hello,\n\nplease find attached invoice {number} from {name} for {amount}"
            + (f", due on {sent.due_date}" if sent.due_date else "") + ".\n\n"
            "Questions about it? Just reply to this email.\n")
    now = now_iso()
    record = existing or MailMessage(
        pk, MailMessage.SORT, type="MailMessage", tenant_id=tenant, id=mail_id, version=1, created_at=now,
        updated_at=now, direction="outbound", mailbox="support", status="sending",
        message_id=f"{mail_id.lower()}@{tenant}.{domain}", from_address=threading.support_address(tenant, domain),
        to=to, subject=subject, snippet=" ".join(body.split())[:200], customer_id=sent.customer_id,
        attachments=[{"filename": filename, "content_type": "application/pdf", "size": len(document), "key": key}],
        attempts=0)
    if existing is None:
        record.index_keys()
        record.save(MailMessage.PK.does_not_exist())
    if not to:
        reason = "recipient_bouncing" if bouncing else "no_recipient"
        return _record_outcome(record, None, "suppressed", reason, None, sent.invoice_id)
    raw = compose(sender=sender, reply_to=threading.support_address(tenant, domain), to=to, cc=[],
                  subject=subject, body=body, message_id=record.message_id, in_reply_to=None, references=[],
                  auto=True, auto_kind="auto-generated", attachment=(filename, "application/pdf", document))
    status, reason, error = _send(threading.support_address(tenant, domain), to, raw)
    return _record_outcome(record, None, status, reason, error, sent.invoice_id)


def _record_outcome(record: MailMessage, thread: MailThread | None, status: str, reason: str | None,
                    error: str | None, invoice_id: str | None = None) -> MailMessage:
    tenant = record.tenant_id
    tx = Transaction()
    version = record.version
    record.status, record.reason, record.detail = status, reason, error
    record.version, record.updated_at, record.attempts = version + 1, now_iso(), int(record.attempts or 0) + 1
    record.index_keys()
    tx.put(record, MailMessage.version == version, lambda: Conflict("outbound mail changed meanwhile"))
    if status == "sent":
        tx.put(MessageIdClaim(MessageIdClaim.pk(tenant, threading.message_id_key(record.message_id)),
                              MessageIdClaim.SORT, type="MessageIdClaim", tenant_id=tenant, mail_id=record.id,
                              message_id=record.message_id, direction="outbound", ticket_id=record.ticket_id))
    if status == "sent" and thread is not None:
        thread.references = [*thread.references, record.message_id][-service.MAX_REFERENCES:]
        tx.put(thread)
    tx.publish(MailSent(mail_id=record.id, message_id=record.message_id, ticket_id=record.ticket_id,
                        invoice_id=invoice_id,
                        ticket_message_id=record.ticket_message_id, customer_id=record.customer_id,
                        contact_id=record.contact_id, to=list(record.to), subject=record.subject,
                        snippet=record.snippet, status=status, error=error).event(tenant))
    tx.commit()
    return record
