"""Events the mail room publishes (source `bluehill.mail`), each declared once."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.mail"


class AttachmentRef(BaseModel):
    filename: str
    content_type: str
    size: int
    key: str  # the object in the files bucket, under the tenant's prefix


class MailReceived(_Published):
    """A message reached a tenant's support or log address and was routed to a customer.
    `mailbox` support: `ticket_id` is the ticket it continues (`new_ticket` false, matched by
    `thread_method`) or the id of the ticket to open (`new_ticket` true; the tickets room opens
    it). `mailbox` log: an email interaction, `direction` outbound when a team member sent it.
    `body` is the text, cut at 20,000 characters (the raw message stays in the inbound bucket)."""

    TYPE: ClassVar[str] = "Mail.Received"
    mail_id: str
    message_id: str
    mailbox: Literal["support", "log"]
    direction: Literal["inbound", "outbound"]
    customer_id: str
    contact_id: str | None = None
    ticket_id: str | None = None
    new_ticket: bool = False
    thread_method: str | None = None
    from_address: str
    from_name: str = ""
    subject: str
    snippet: str
    body: str
    received_at: str
    attachments: list[AttachmentRef] = []


class MailQuarantined(_Published):
    """A message could not be routed: kept with its reason (GET /mail/quarantine)."""

    TYPE: ClassVar[str] = "Mail.Quarantined"
    mail_id: str
    reason: str
    detail: str


class MailSent(_Published):
    """A ticket reply (`ticket_id`) or an invoice (`invoice_id`) went out by email (or was held:
    `status` suppressed for a bouncing recipient or none, failed after a permanent refusal)."""

    TYPE: ClassVar[str] = "Mail.Sent"
    mail_id: str
    message_id: str
    ticket_id: str | None = None
    invoice_id: str | None = None
    ticket_message_id: str | None = None
    customer_id: str | None = None
    contact_id: str | None = None
    to: list[str]
    subject: str
    snippet: str
    status: Literal["sent", "suppressed", "failed"]
    direction: Literal["outbound"] = "outbound"
    error: str | None = None


class MailBounced(_Published):
    """A delivery-status notification said a message we sent did not reach these recipients
    (the customers room marks their email `bouncing`; the ticket gets a note)."""

    TYPE: ClassVar[str] = "Mail.Bounced"
    mail_id: str
    original_message_id: str
    recipients: list[str]
    status: str | None = None
    permanent: bool
    ticket_id: str | None = None
