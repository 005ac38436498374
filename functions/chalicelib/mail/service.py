"""Inbound mail rules: a raw message (as SES wrote it to the inbound bucket) becomes a routed
message (Mail.Received: the tickets room opens or continues a ticket, the timeline logs it), a
triage entry (no customer known), a bounce (Mail.Bounced) or a quarantined message with its
reason — never an exception. Each outcome is one transaction: the message, its Message-ID claim
(exactly once: a second delivery of the same object or Message-ID finds the claim), the
threading items and the event.

The steps, in order:
1. the recipient names the tenant and the mailbox (`support@<tenant>.<domain>`, `log@…`);
2. a Message-ID (or the bytes' hash) already claimed: a duplicate, nothing happens;
3. no sender: quarantine; a DSN for a message we sent: Mail.Bounced; automatic mail (threading.py,
   parser.auto_reason) and list mail with no ticket match: quarantine;
4. threading (support): In-Reply-To/References, signed plus-address, subject token, normalised
   subject + same sender within 30 days — the first that matches, stored as `thread_method`;
5. the per-sender rate limit (RATE_LIMIT_PER_HOUR): the rest are parked in the quarantine;
6. the customer: the matched ticket's, else the sender's contact's, else the sender domain's,
   else triage.

Attachments are stored in the files bucket under the tenant's prefix before the transaction
(storage.py); the files room makes file records of them from Mail.Received."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import require
from chalicelib.core.settings import get_settings
from chalicelib.core.table import Transaction, now_iso, read_items
from chalicelib.customers import service as customers
from chalicelib.team import service as team
from chalicelib.tickets import service as tickets

from . import parser, storage, threading
from .events import AttachmentRef, MailBounced, MailQuarantined, MailReceived
from .models import MailMessage, MailThread, MessageIdClaim, RateCounter, SubjectThread, TicketCounter, TicketNumber

MAIL_USER = "mail"
RATE_LIMIT_PER_HOUR = 5
BODY_IN_EVENT_CHARS = 20_000
MAX_ATTACHMENTS = 100
MAX_REFERENCES = 10

Store = Callable[[str, str, bytes], None]


def automation(tenant_id: str) -> Principal:
    """Who the pipeline reads as: the tenant's mail automation, with the owner's reach."""
    return Principal(tenant_id=tenant_id, user_id=MAIL_USER, role="owner", email="")


def mail_domain() -> str:
    domain = get_settings().mail_domain
    if not domain:
        raise RuntimeError("environment variable MAIL_DOMAIN is not set")
    return domain


def token_key() -> bytes:
    key = get_settings().mail_token_key
    if not key:
        raise RuntimeError("environment variable MAIL_TOKEN_KEY is not set")
    return key.encode()


@dataclass
class Outcome:
    status: str  # routed | triage | quarantine | bounce | duplicate | unroutable
    mail_id: str | None = None
    tenant_id: str | None = None
    reason: str | None = None
    ticket_id: str | None = None
    new_ticket: bool = False
    thread_method: str | None = None
    detail: str = ""


@dataclass
class _Route:
    """What a message became, filled step by step."""

    status: str = "routed"
    reason: str | None = None
    detail: str = ""
    customer_id: str | None = None
    contact_id: str | None = None
    ticket_id: str | None = None
    new_ticket: bool = False
    thread_method: str | None = None
    direction: str = "inbound"
    events: list[Any] = field(default_factory=list)

    def quarantine(self, reason: str, detail: str) -> _Route:
        self.status, self.reason, self.detail = "quarantine", reason, detail
        return self


class _Duplicate(Conflict):
    """The Message-ID was claimed by a message stored first."""


# ---------- tenant addresses ----------


def tenant_mail(principal: Principal) -> dict[str, Any]:
    """GET /tenant/mail: the tenant's addresses and how to forward its own support mailbox."""
    require(principal, "tenant:read")
    domain, tenant = mail_domain(), principal.tenant_id
    support, log = threading.support_address(tenant, domain), threading.log_address(tenant, domain)
    return {
        "support_address": support,
        "log_address": log,
        "inbound_domain": domain,
        "forwarding": {
            "support": f"Forward your own support mailbox (e.g. support@yourcompany.com) to {support}, keeping "
                       "the original sender (Gmail: Settings > Forwarding; Microsoft 365: a mail-flow rule "
                       "'redirect the message to'). Replies go out from this address with your mailbox as "
                       "display name unless you verify your own domain for sending.",
            "log": f"Put {log} in Bcc (or forward a thread to it) to log a customer conversation on the "
                   "customer's timeline; mail you send is logged as outbound, mail a customer sends as inbound.",
            "dns": "Nothing to configure for these addresses; to send as your own domain, add the DKIM CNAMEs "
                   "and SPF include shown by your BlueHill operator.",
        },
    }


def _tenant_address(parsed: parser.Parsed, domain: str) -> threading.Address | None:
    for recipient in parsed.recipients:
        address = threading.parse_address(recipient, domain)
        if address is not None:
            return address
    return None


def _tenant_exists(tenant_id: str) -> bool:
    try:
        team.tenant_settings(tenant_id)
    except NotFound:
        return False
    return True


# ---------- the pipeline ----------


def receive(raw: bytes, s3_key: str, store: Store, *, retry_of: MailMessage | None = None,
            customer_id: str | None = None, contact_id: str | None = None) -> Outcome:
    """One message from the inbound bucket, processed to one outcome (never an exception for
    anything the message holds). `retry_of` re-runs a quarantined or triaged message in place;
    `customer_id`/`contact_id` are a triage assignment's answer."""
    from chalicelib.core.scope import tenant_scope

    domain = mail_domain()
    try:
        parsed: parser.Parsed | None = parser.parse(raw)
        address = _tenant_address(parsed, domain) if parsed else None
    except parser.TooLarge as too_large:
        parsed, address = None, _tenant_address(parser.headers_only(raw), domain)
        reason = ("too_large", str(too_large))
    unroutable = Outcome(status="unroutable", reason="unknown_recipient",
                         detail="no recipient is a tenant's support or log address")
    if address is None:
        return unroutable
    with tenant_scope(address.tenant_id):
        if not _tenant_exists(address.tenant_id):
            return unroutable
        if parsed is None:
            return _quarantine_only(address, parser.headers_only(raw), s3_key, reason, retry_of)
        return _receive(address, parsed, s3_key, store, retry_of, customer_id, contact_id)


def _quarantine_only(address: threading.Address, parsed: parser.Parsed, s3_key: str, reason: tuple[str, str],
                     retry_of: MailMessage | None) -> Outcome:
    route = _Route().quarantine(*reason)
    return _commit(address, parsed, s3_key, route, [], retry_of)


def _receive(address: threading.Address, parsed: parser.Parsed, s3_key: str, store: Store,
             retry_of: MailMessage | None, customer_id: str | None, contact_id: str | None) -> Outcome:
    tenant = address.tenant_id
    claimed = _claim_of(tenant, parsed.key_id)
    if claimed is not None and (retry_of is None or claimed.mail_id != retry_of.id):
        return Outcome(status="duplicate", mail_id=claimed.mail_id, tenant_id=tenant, ticket_id=claimed.ticket_id)
    route = _route(address, parsed, retry_of is not None, customer_id, contact_id)
    mail_id = retry_of.id if retry_of else new_id()
    attachments = _store_attachments(tenant, mail_id, parsed, store) if route.status == "routed" else []
    return _commit(address, parsed, s3_key, route, attachments, retry_of, mail_id)


def _route(address: threading.Address, parsed: parser.Parsed, retried: bool, customer_id: str | None,
           contact_id: str | None) -> _Route:
    tenant, route = address.tenant_id, _Route()
    sender = parsed.from_address
    if not sender:
        return route.quarantine("no_sender", "the message has no readable From address")
    if parsed.bounce is not None:
        return _bounce(tenant, parsed, route)
    if address.mailbox == threading.LOG_LOCALPART:
        return _log_route(tenant, parsed, route, customer_id, contact_id)
    _thread(tenant, address, parsed, route)
    if parsed.auto_reason:
        return route.quarantine("auto_reply", parsed.auto_reason)
    if parsed.has_list_unsubscribe and route.ticket_id is None:
        return route.quarantine("list_mail", "List-Unsubscribe and no ticket it continues")
    if not retried and _over_rate_limit(tenant, sender):
        return route.quarantine("rate_limited", f"more than {RATE_LIMIT_PER_HOUR} messages from {sender} this hour")
    _customer_of(tenant, sender, route, customer_id, contact_id)
    if route.customer_id is None:
        route.status, route.reason = "triage", "unknown_sender"
        route.detail = f"{sender} is no contact and its domain belongs to no customer"
        route.ticket_id, route.thread_method = None, None
        return route
    if route.ticket_id is None:
        route.ticket_id, route.new_ticket = new_id(), True
    return route


def _claim_of(tenant_id: str, key_id: str) -> MessageIdClaim | None:
    try:
        return MessageIdClaim.get(MessageIdClaim.pk(tenant_id, threading.message_id_key(key_id)), MessageIdClaim.SORT)
    except DoesNotExist:
        return None


def _bounce(tenant: str, parsed: parser.Parsed, route: _Route) -> _Route:
    bounce = parsed.bounce
    assert bounce is not None
    original = _claim_of(tenant, bounce.original_message_id) if bounce.original_message_id else None
    if original is None or original.direction != "outbound":
        return route.quarantine("unmatched_bounce",
                                "a delivery-status notification for no message we sent")
    route.status, route.ticket_id, route.thread_method = "bounce", original.ticket_id, "message_id"
    route.detail = f"{', '.join(bounce.recipients) or 'the recipient'}: {bounce.status or 'failed'}"
    route.events.append(MailBounced(mail_id="", original_message_id=original.message_id,
                                    recipients=bounce.recipients, status=bounce.status,
                                    permanent=bounce.permanent, ticket_id=original.ticket_id))
    return route


def _log_route(tenant: str, parsed: parser.Parsed, route: _Route, customer_id: str | None,
               contact_id: str | None) -> _Route:
    """Mail to the log address: an email interaction. A team member sending it logs their own
    outbound mail (the customer is the first other recipient); anyone else, inbound mail."""
    sender = parsed.from_address or ""
    domain = mail_domain()
    counterpart = sender
    if team.active_user_by_email(tenant, sender) is not None:
        route.direction = "outbound"
        others = [address for address in parsed.recipients
                  if not address.endswith("." + domain) and team.active_user_by_email(tenant, address) is None]
        if not others:
            return route.quarantine("no_customer_recipient", "logged mail names no recipient outside the team")
        counterpart = others[0]
    _customer_of(tenant, counterpart, route, customer_id, contact_id)
    if route.customer_id is None:
        route.status, route.reason = "triage", "unknown_sender"
        route.detail = f"{counterpart} is no contact and its domain belongs to no customer"
    return route


def _thread(tenant: str, address: threading.Address, parsed: parser.Parsed, route: _Route) -> None:
    """The ticket this message continues, by the first method that matches (module docstring)."""
    ids = list(dict.fromkeys(parsed.in_reply_to + list(reversed(parsed.references))))[:25]
    if ids:
        keys = [(MessageIdClaim.pk(tenant, threading.message_id_key(found)), MessageIdClaim.SORT) for found in ids]
        claims = [claim for claim in read_items(keys, [MessageIdClaim]) if claim is not None and claim.ticket_id]
        if claims:
            route.ticket_id, route.thread_method = claims[0].ticket_id, "message_id"
            return
    signed = threading.ticket_from_token(token_key(), tenant, address.tag)
    if signed:
        route.ticket_id, route.thread_method = signed, "address_token"
        return
    number = threading.number_in_subject(parsed.subject)
    if number is not None:
        try:
            route.ticket_id = TicketNumber.get(TicketNumber.pk(tenant, number), TicketNumber.SORT).ticket_id
            route.thread_method = "subject_token"
            return
        except DoesNotExist:
            pass
    key = threading.subject_key(parsed.subject)
    if key and parsed.from_address:
        try:
            found = SubjectThread.get(SubjectThread.pk(tenant, parsed.from_address, key), SubjectThread.SORT)
        except DoesNotExist:
            return
        at = datetime.fromisoformat(found.at.replace("Z", "+00:00"))
        if datetime.now(UTC) - at <= threading.SUBJECT_WINDOW:
            route.ticket_id, route.thread_method = found.ticket_id, "subject"


def _over_rate_limit(tenant: str, sender: str) -> bool:
    """Counts this message against its sender's hour (an atomic ADD): over the limit, parked."""
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    counter = RateCounter(RateCounter.pk(tenant, sender, hour), RateCounter.SORT)
    counter.update(actions=[RateCounter.count.add(1), RateCounter.expires_at.set(int(time.time()) + 2 * 3600),
                            RateCounter.type.set("RateCounter"), RateCounter.tenant_id.set(tenant)])
    return int(counter.count) > RATE_LIMIT_PER_HOUR


def _customer_of(tenant: str, sender: str, route: _Route, customer_id: str | None, contact_id: str | None) -> None:
    """The matched ticket's customer, else the given one (triage), else the sender's contact's,
    else the customer of the sender's domain."""
    reader = automation(tenant)
    if route.ticket_id is not None:
        try:
            route.customer_id = tickets.get_ticket(reader, route.ticket_id).customer_id
        except NotFound:
            route.ticket_id, route.thread_method = None, None
    contact = customers.contact_by_email(reader, sender)
    if route.customer_id is None and customer_id:
        route.customer_id = customer_id
    if route.customer_id is None and contact is not None:
        route.customer_id = contact.customer_id
    if route.customer_id is None:
        by_domain = customers.customer_by_domain(reader, sender.rpartition("@")[2])
        route.customer_id = by_domain.id if by_domain else None
    if contact_id:
        route.contact_id = contact_id
    elif contact is not None and contact.customer_id == route.customer_id:
        route.contact_id = contact.id


def _store_attachments(tenant: str, mail_id: str, parsed: parser.Parsed, store: Store) -> list[AttachmentRef]:
    stored = []
    for index, attachment in enumerate(parsed.attachments[:MAX_ATTACHMENTS], start=1):
        key = storage.attachment_key(tenant, mail_id, index, attachment.filename)
        store(key, attachment.content_type, attachment.content)
        stored.append(AttachmentRef(filename=attachment.filename, content_type=attachment.content_type,
                                    size=attachment.size, key=key))
    return stored


# ---------- the one transaction ----------


def _commit(address: threading.Address, parsed: parser.Parsed, s3_key: str, route: _Route,
            attachments: list[AttachmentRef], retry_of: MailMessage | None, mail_id: str | None = None) -> Outcome:
    tenant, now = address.tenant_id, now_iso()
    mail_id = mail_id or (retry_of.id if retry_of else new_id())
    message = MailMessage(
        MailMessage.pk(tenant, mail_id), MailMessage.SORT, type="MailMessage", tenant_id=tenant, id=mail_id,
        version=(retry_of.version + 1) if retry_of else 1, created_at=retry_of.created_at if retry_of else now,
        updated_at=now, direction=route.direction, mailbox=address.mailbox, status=route.status,
        reason=route.reason, detail=route.detail[:1000], s3_key=s3_key, message_id=parsed.key_id,
        from_address=parsed.from_address, from_name=parsed.from_name, to=parsed.recipients[:20],
        subject=parsed.subject, snippet=parsed.snippet, customer_id=route.customer_id, contact_id=route.contact_id,
        ticket_id=route.ticket_id, new_ticket=route.new_ticket, thread_method=route.thread_method,
        auto_reason=parsed.auto_reason, attachments=[ref.model_dump() for ref in attachments],
        attempts=(retry_of.attempts + 1) if retry_of else 1,
    )
    message.index_keys()
    tx = Transaction()
    if retry_of:
        tx.put(message, MailMessage.version == retry_of.version,
               lambda: Conflict(f"message {mail_id} changed meanwhile; retry"))
    else:
        tx.create(message, lambda: Conflict(f"message {mail_id} exists"))
        claim = MessageIdClaim(MessageIdClaim.pk(tenant, threading.message_id_key(parsed.key_id)),
                               MessageIdClaim.SORT, type="MessageIdClaim", tenant_id=tenant, mail_id=mail_id,
                               message_id=parsed.key_id, direction="inbound", ticket_id=route.ticket_id)
        tx.create(claim, lambda: _Duplicate(f"message {parsed.key_id} was stored before"))
    if retry_of and route.ticket_id:
        claim = MessageIdClaim(MessageIdClaim.pk(tenant, threading.message_id_key(parsed.key_id)),
                               MessageIdClaim.SORT)
        tx.update(claim, [MessageIdClaim.ticket_id.set(route.ticket_id)])
    _thread_items(tx, tenant, parsed, route, now)
    tx.publish(*_events(tenant, mail_id, address.mailbox, parsed, route, attachments, now))
    try:
        tx.commit()
    except _Duplicate:
        found = _claim_of(tenant, parsed.key_id)
        return Outcome(status="duplicate", mail_id=found.mail_id if found else None, tenant_id=tenant)
    return Outcome(status=route.status, mail_id=mail_id, tenant_id=tenant, reason=route.reason,
                   ticket_id=route.ticket_id, new_ticket=route.new_ticket, thread_method=route.thread_method,
                   detail=route.detail)


def _thread_items(tx: Transaction, tenant: str, parsed: parser.Parsed, route: _Route, now: str) -> None:
    if route.status != "routed" or route.ticket_id is None or route.direction != "inbound":
        return
    key = threading.subject_key(parsed.subject)
    if key and parsed.from_address:
        tx.put(SubjectThread(SubjectThread.pk(tenant, parsed.from_address, key), SubjectThread.SORT,
                             type="SubjectThread", tenant_id=tenant, ticket_id=route.ticket_id, at=now))
    if route.new_ticket:
        number = next_ticket_number(tenant)
        tx.create(TicketNumber(TicketNumber.pk(tenant, number), TicketNumber.SORT, type="TicketNumber",
                               tenant_id=tenant, ticket_id=route.ticket_id),
                  lambda: Conflict("ticket number taken; retry"))
        tx.create(MailThread(MailThread.pk(tenant, route.ticket_id), MailThread.SORT, type="MailThread",
                             tenant_id=tenant, ticket_id=route.ticket_id, number=number, subject=parsed.subject,
                             references=[parsed.key_id] if parsed.message_id else [],
                             requester_email=parsed.from_address, cc=_customer_cc(parsed)),
                  lambda: Conflict("ticket thread exists"))
    elif parsed.message_id:
        thread = MailThread(MailThread.pk(tenant, route.ticket_id), MailThread.SORT)
        tx.update(thread, [MailThread.references.set(MailThread.references.append([parsed.message_id])),
                           MailThread.ticket_id.set(route.ticket_id), MailThread.type.set("MailThread"),
                           MailThread.tenant_id.set(tenant)])


def _customer_cc(parsed: parser.Parsed) -> list[str]:
    domain = "." + mail_domain()
    return [address for address in parsed.cc if not address.endswith(domain)][:10]


def _events(tenant: str, mail_id: str, mailbox: str, parsed: parser.Parsed, route: _Route,
            attachments: list[AttachmentRef], now: str) -> list[Any]:
    if route.status == "quarantine":
        return [MailQuarantined(mail_id=mail_id, reason=route.reason or "", detail=route.detail).event(tenant)]
    if route.status == "bounce":
        return [event.model_copy(update={"mail_id": mail_id}).event(tenant) for event in route.events]
    if route.status != "routed" or route.customer_id is None:
        return []
    return [MailReceived(
        mail_id=mail_id, message_id=parsed.key_id, mailbox=mailbox,
        direction=route.direction, customer_id=route.customer_id, contact_id=route.contact_id,
        ticket_id=route.ticket_id, new_ticket=route.new_ticket, thread_method=route.thread_method,
        from_address=parsed.from_address or "", from_name=parsed.from_name, subject=parsed.subject,
        snippet=parsed.snippet, body=parsed.text[:BODY_IN_EVENT_CHARS], received_at=now, attachments=attachments,
    ).event(tenant)]


def next_ticket_number(tenant: str) -> int:
    """The tenant's next ticket number (an atomic ADD; a number lost to a failed commit is skipped)."""
    counter = TicketCounter(TicketCounter.pk(tenant), TicketCounter.SORT)
    counter.update(actions=[TicketCounter.value.add(1), TicketCounter.type.set("TicketCounter"),
                            TicketCounter.tenant_id.set(tenant)])
    return int(counter.value)


# ---------- triage and quarantine (routes) ----------


def _load(principal: Principal, mail_id: str, action: str) -> MailMessage:
    require(principal, action)
    try:
        return MailMessage.get(MailMessage.pk(principal.tenant_id, mail_id), MailMessage.SORT)
    except DoesNotExist as missing:
        raise NotFound(f"message {mail_id} not found") from missing


def get_message(principal: Principal, mail_id: str) -> MailMessage:
    return _load(principal, mail_id, "mail:read")


def list_listed(principal: Principal, status: str, limit: int, cursor: str | None) -> Any:
    from chalicelib.core.pagination import read_page
    from chalicelib.core.table import query_reader

    require(principal, "mail:read")
    return read_page([query_reader(MailMessage.by_status, MailMessage.list_pk(principal.tenant_id, status))],
                     limit, cursor)


def _rerun(principal: Principal, current: MailMessage, customer_id: str | None = None,
           contact_id: str | None = None) -> MailMessage:
    if not current.s3_key:
        raise Conflict(f"message {current.id} has no stored raw message")
    raw = storage.raw_message(current.s3_key)
    if raw is None:
        raise Conflict(f"the raw message of {current.id} has expired from the inbound bucket")
    receive(raw, current.s3_key, storage.put_attachment, retry_of=current, customer_id=customer_id,
            contact_id=contact_id)
    return MailMessage.get(current.PK, current.SK, consistent_read=True)


def retry(principal: Principal, mail_id: str) -> MailMessage:
    """POST /mail/quarantine/{id}/retry: the raw message through the pipeline again (no rate
    limit: a person chose to let it through); it may land in the quarantine again, with the
    reason of this run."""
    current = _load(principal, mail_id, "mail:write")
    if current.status != "quarantine":
        raise Conflict(f"message {mail_id} is not in the quarantine (it is {current.status})")
    return _rerun(principal, current)


def assign(principal: Principal, mail_id: str, customer_id: str, contact: dict[str, Any] | None) -> MailMessage:
    """POST /mail/triage/{id}/assign: the message belongs to this customer (optionally creating
    its sender as the customer's contact, in the customers room's own transaction first)."""
    current = _load(principal, mail_id, "mail:write")
    if current.status != "triage":
        raise Conflict(f"message {mail_id} is not in triage (it is {current.status})")
    try:
        customers.get_customer(principal, customer_id)
    except NotFound as missing:
        raise validation_error("customer_id", f"customer {customer_id} does not exist") from missing
    contact_id = None
    if contact is not None:
        email = (contact.get("email") or current.from_address or "").lower()
        existing = customers.contact_by_email(principal, email)
        if existing is None:
            made = customers.create_contact(principal, customer_id, {
                "name": contact.get("name") or current.from_name or email, "email": email})
            contact_id = made.id
        elif existing.customer_id == customer_id:
            contact_id = existing.id
        else:
            raise validation_error("contact", f"{email} is a contact of another customer")
    return _rerun(principal, current, customer_id, contact_id)


def message_view(message: MailMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in (
        "id", "direction", "mailbox", "status", "reason", "detail", "message_id", "from_address", "from_name", "to",
        "subject", "snippet", "customer_id", "contact_id", "ticket_id", "ticket_message_id", "new_ticket",
        "thread_method", "auto_reason", "attachments", "attempts", "created_at", "updated_at", "version")}
