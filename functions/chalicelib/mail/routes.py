"""The mail room's API: the tenant's addresses, the triage list and its assignment, the
quarantine and its retry."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint
from pydantic import Field

from chalicelib.core.auth import Principal
from chalicelib.core.http import route
from chalicelib.core.models import Email, ListOf, ListQuery, Name, Out, Strict

from . import service

bp = Blueprint(__name__)


class ForwardingOut(Out):
    support: str
    log: str
    dns: str


class TenantMailOut(Out):
    support_address: str
    log_address: str
    inbound_domain: str
    forwarding: ForwardingOut


class AttachmentOut(Out):
    filename: str
    content_type: str
    size: int
    key: str


class MailOut(Out):
    id: str
    direction: str
    mailbox: str | None
    status: str
    reason: str | None
    detail: str | None
    message_id: str
    from_address: str | None
    from_name: str | None
    to: list[str]
    subject: str
    snippet: str
    customer_id: str | None
    contact_id: str | None
    ticket_id: str | None
    ticket_message_id: str | None
    new_ticket: bool
    thread_method: str | None
    auto_reason: str | None
    attachments: list[AttachmentOut]
    attempts: int
    created_at: str
    updated_at: str
    version: int


class NewContact(Strict):
    name: Name | None = None
    email: Email | None = Field(None, description="default: the message's sender")


class AssignMail(Strict):
    customer_id: Annotated[str, Field(min_length=1, max_length=64)]
    contact: NewContact | None = Field(None, description="create the sender as this customer's contact")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"customer_id": "01J0000000000000000000CUST", "contact": {"name": "Jane Doe"}}]}}


def _out(message: Any) -> MailOut:
    return MailOut.model_validate(service.message_view(message))


def _listed(principal: Principal, status: str, query: ListQuery) -> ListOf[MailOut]:
    page = service.list_listed(principal, status, query.limit, query.cursor)
    return ListOf[MailOut](items=[_out(message) for message in page.items], next_cursor=page.next_cursor)


@route(bp, "/tenant/mail", "GET", summary="The tenant's support and log addresses, and forwarding setup",
       permission="tenant:read", response=TenantMailOut)
def tenant_mail(principal: Principal) -> TenantMailOut:
    return TenantMailOut.model_validate(service.tenant_mail(principal))


@route(bp, "/mail/triage", "GET", summary="Inbound mail from senders no customer is known for",
       permission="mail:read", query=ListQuery, response=ListOf[MailOut])
def list_triage(principal: Principal, query: ListQuery) -> ListOf[MailOut]:
    return _listed(principal, "triage", query)


@route(bp, "/mail/triage/{message_id}/assign", "POST", summary="Assign a triaged message to a customer",
       permission="mail:write", body=AssignMail, response=MailOut)
def assign_triage(principal: Principal, message_id: str, body: AssignMail) -> MailOut:
    contact = body.contact.model_dump() if body.contact is not None else None
    return _out(service.assign(principal, message_id, body.customer_id, contact))


@route(bp, "/mail/quarantine", "GET", summary="Inbound mail that could not be processed, with its reason",
       permission="mail:read", query=ListQuery, response=ListOf[MailOut])
def list_quarantine(principal: Principal, query: ListQuery) -> ListOf[MailOut]:
    return _listed(principal, "quarantine", query)


@route(bp, "/mail/quarantine/{message_id}/retry", "POST", summary="Process a quarantined message again",
       permission="mail:write", response=MailOut)
def retry_quarantined(principal: Principal, message_id: str) -> MailOut:
    return _out(service.retry(principal, message_id))


@route(bp, "/mail/messages/{message_id}", "GET", summary="One message, inbound or outbound, and what it became",
       permission="mail:read", response=MailOut)
def get_message(principal: Principal, message_id: str) -> MailOut:
    return _out(service.get_message(principal, message_id))
