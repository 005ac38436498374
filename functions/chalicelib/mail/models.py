"""The mail room's items: every message in or out, what deduplicates and threads them, the
per-sender rate counters and the ticket numbers of the subject token.

| access pattern | index | key condition |
|---|---|---|
| message by id | table | PK = T#t#MAIL#<id>, SK = MAIL |
| messages in triage / quarantine, oldest first | GSI1 (sparse) | GSI1PK = T#t#MAILBOX#<triage or quarantine> |
| messages of a ticket (in and out), oldest first | GSI2 (sparse) | GSI2PK = T#t#TICKET#<id>#MAIL |
| a Message-ID we stored or sent (dedupe, threading 1) | table | PK = T#t#MSGID#<sha of id>, SK = MSGID |
| ticket by its number (subject token, threading 3) | table | PK = T#t#MAILNUM#<n>, SK = MAILNUM |
| a ticket's mail thread: number, last Message-IDs | table | PK = T#t#MAILTHREAD#<ticket id>, SK = THREAD |
| a sender's ticket by normalised subject (threading 4) | table | PK = T#t#MAILSUBJ#<sender>#<subject key>, SK = SUBJ |
| a sender's messages this hour (rate limit) | table | PK = T#t#MAILRATE#<sender>#<YYYYMMDDHH>, SK = RATE (ADD, TTL) |
| the tenant's ticket number counter | table | PK = T#t#MAILCOUNTER, SK = COUNTER (ADD) |
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, TableItem, VersionedItem, tenant_key

LISTED_STATUSES = ("triage", "quarantine")


class MailMessage(VersionedItem):
    """One message, inbound (from the inbound bucket) or outbound (a ticket reply we sent)."""

    id = UnicodeAttribute()
    direction = UnicodeAttribute()  # inbound | outbound
    mailbox = UnicodeAttribute(null=True)  # support | log (inbound)
    # inbound: routed | triage | quarantine | bounce | duplicate; outbound: sent | suppressed | failed | sending
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)  # why quarantined / suppressed / failed (a code)
    detail = UnicodeAttribute(null=True)
    s3_key = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute()
    from_address = UnicodeAttribute(null=True)
    from_name = UnicodeAttribute(null=True)
    to = ListAttribute(default=list)
    subject = UnicodeAttribute(default="")
    snippet = UnicodeAttribute(default="")
    customer_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    ticket_message_id = UnicodeAttribute(null=True)
    new_ticket = BooleanAttribute(default=False)
    thread_method = UnicodeAttribute(null=True)
    auto_reason = UnicodeAttribute(null=True)
    attachments = JSONAttribute(default=list)
    attempts = NumberAttribute(default=0)
    by_status = GSI1()
    by_ticket = GSI2()

    SORT = "MAIL"

    @staticmethod
    def pk(tenant_id: str, mail_id: str) -> str:
        return tenant_key(tenant_id, "MAIL", mail_id)

    @staticmethod
    def list_pk(tenant_id: str, status: str) -> str:
        return tenant_key(tenant_id, "MAILBOX", status)

    @staticmethod
    def ticket_pk(tenant_id: str, ticket_id: str) -> str:
        return tenant_key(tenant_id, "TICKET", ticket_id, "MAIL")

    def index_keys(self) -> None:
        listed = self.status in LISTED_STATUSES
        self.GSI1PK = MailMessage.list_pk(self.tenant_id, self.status) if listed else None
        self.GSI1SK = f"{self.created_at}#{self.id}" if listed else None
        self.GSI2PK = MailMessage.ticket_pk(self.tenant_id, self.ticket_id) if self.ticket_id else None
        self.GSI2SK = f"{self.created_at}#{self.id}" if self.ticket_id else None


class MessageIdClaim(TableItem):
    """A Message-ID we stored (inbound) or sent (outbound): one per id, so a second delivery of
    the same message finds it (exactly once), and a reply's In-Reply-To finds its ticket."""

    mail_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    direction = UnicodeAttribute()
    ticket_id = UnicodeAttribute(null=True)

    SORT = "MSGID"

    @staticmethod
    def pk(tenant_id: str, key: str) -> str:
        return tenant_key(tenant_id, "MSGID", key)


class TicketNumber(TableItem):
    """The number a ticket's subject token carries (`[#T-<number>]`) → the ticket."""

    ticket_id = UnicodeAttribute()

    SORT = "MAILNUM"

    @staticmethod
    def pk(tenant_id: str, number: int) -> str:
        return tenant_key(tenant_id, "MAILNUM", str(number))


class MailThread(TableItem):
    """A ticket's mail thread: its number, its subject, the Message-IDs a reply refers to."""

    ticket_id = UnicodeAttribute()
    number = NumberAttribute(null=True)  # given on the first mail of the ticket, in or out
    subject = UnicodeAttribute(default="")
    references = ListAttribute(default=list)  # oldest first, at most MAX_REFERENCES
    requester_email = UnicodeAttribute(null=True)  # who wrote first (when no contact is the requester)
    cc = ListAttribute(default=list)  # the customer's Cc on the first message: copied on replies

    SORT = "THREAD"

    @staticmethod
    def pk(tenant_id: str, ticket_id: str) -> str:
        return tenant_key(tenant_id, "MAILTHREAD", ticket_id)


class SubjectThread(TableItem):
    """The last ticket a sender's mail with this normalised subject went to, and when."""

    ticket_id = UnicodeAttribute()
    at = UnicodeAttribute()

    SORT = "SUBJ"

    @staticmethod
    def pk(tenant_id: str, sender: str, subject_key: str) -> str:
        return tenant_key(tenant_id, "MAILSUBJ", sender, subject_key)


class RateCounter(TableItem):
    count = NumberAttribute(default=0)
    expires_at = NumberAttribute()

    SORT = "RATE"

    @staticmethod
    def pk(tenant_id: str, sender: str, hour: str) -> str:
        return tenant_key(tenant_id, "MAILRATE", sender, hour)


class TicketCounter(TableItem):
    value = NumberAttribute(default=0)

    SORT = "COUNTER"

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "MAILCOUNTER")
