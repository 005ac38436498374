from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints, model_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import Id, Instant, ListOf, ListQuery, Name, Out, Strict, Tag, Version, ordered_range

from . import service

bp = Blueprint(__name__)

Status = Literal["new", "open", "in_progress", "pending", "waiting_on_customer", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
Source = Literal["email", "portal", "manual", "api"]
SlaState = Literal["ok", "warning", "breached", "paused"]
# bug, feature_request, billing, general — or the tenant's own category (a lowercase slug).
Category = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
AssigneeFilter = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class TicketFields(Strict):
    priority: Priority = Field(None)
    category: Category = Field(None)
    tags: list[Tag] = Field(None, max_length=20)
    related_project_id: Id | None = None
    requester_contact_id: Id | None = None
    assignee_id: Id | None = None
    queue_id: Id | None = None

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(mode="json", exclude_unset=True, exclude={"version"})
        if "tags" in values:
            values["tags"] = list(dict.fromkeys(values["tags"] or []))
        return values


class CreateTicket(TicketFields):
    subject: Name
    description: Text
    customer_id: Id | None = Field(None, description="required for the team; a portal user's own company")
    source: Source = Field(None, description="default manual; always portal for portal users")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"subject": "Export fails", "description": "The CSV export times out.", "customer_id": "01hxcustomer",
         "priority": "high", "category": "bug"}]}}


class UpdateTicket(TicketFields):
    version: Version = Field(None, description="the version you read; or send If-Match")
    subject: Name = Field(None)
    description: Text = Field(None)
    status: Status = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 2, "status": "pending"}]}}


class TicketOut(Out):
    id: str
    subject: str
    description: str
    customer_id: str
    requester_contact_id: str | None = None
    status: Status
    priority: Priority
    category: str
    source: Source
    assignee_id: str | None = None
    queue_id: str | None = None
    tags: list[str] | None = None
    related_project_id: str | None = None
    follow_up_of: str | None = None
    first_response_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    escalation_level: int | None = None
    reopen_count: int | None = None
    sla_state: SlaState | None = None
    sla: dict[str, Any] | None = Field(None, description="per target: due_at, remaining_minutes, paused, state")
    csat: dict[str, Any] | None = None
    version: int | None = None
    created_at: str
    updated_at: str


class TicketQuery(ListQuery):
    status: Status | None = None
    priority: Priority | None = None
    category: Category | None = None
    assignee_id: AssigneeFilter | None = Field(None, description="a user id, `me` or `none` (unassigned)")
    queue_id: Id | None = None
    customer_id: Id | None = None
    sla_state: SlaState | None = None
    source: Source | None = None
    created_after: Instant | None = None
    created_before: Instant | None = None
    sort: Literal["created", "updated", "sla_due", "priority"] = "created"

    _created_range = ordered_range("created_after", "created_before", checked="created_before")


class CustomerTicketQuery(ListQuery):
    sort: Literal["created", "updated", "sla_due", "priority"] = "created"


class PostMessage(Strict):
    visibility: Literal["public", "internal"] = "public"
    body: Text | None = None
    canned_response_id: Id | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PostMessage:
        if (self.body is None) == (self.canned_response_id is None):
            raise ValueError("send either body or canned_response_id")
        return self

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"visibility": "public", "body": "We are on it."}, {"visibility": "internal", "body": "Looks like #512"}]}}


class MessageOut(Out):
    id: str
    ticket_id: str
    visibility: Literal["public", "internal"]
    author_type: Literal["team", "customer", "system"]
    author_id: str | None
    body: str
    canned_response_id: str | None
    created_at: str


class SlaExplanationOut(Out):
    ticket_id: str
    sla_state: SlaState
    as_of: str
    targets: dict[str, dict[str, Any]]


class CsatLinkOut(Out):
    token: str
    path: str
    expires_at: str


class CsatAnswer(Strict):
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"score": 5, "comment": "Quick!"}]}}


class CsatOut(Out):
    ticket_id: str
    score: int
    comment: str | None
    submitted_at: str


def _out(principal: Principal, ticket: Any) -> TicketOut:
    return TicketOut.model_validate(service.ticket_view(principal, ticket))


def _page(principal: Principal, page: Any) -> ListOf[TicketOut]:
    return ListOf[TicketOut](items=[_out(principal, t) for t in page.items], next_cursor=page.next_cursor)


@route(bp, "/tickets", "POST", summary="Open a ticket", permission="tickets:create", body=CreateTicket,
       response=TicketOut, status=201)
def create_ticket(principal: Principal, body: CreateTicket) -> TicketOut:
    fields = {"subject": body.subject, "description": body.description, **body.changes()}
    return _out(principal, service.create_ticket(principal, fields))


@route(bp, "/tickets", "GET", summary="List tickets", permission="tickets:read", query=TicketQuery,
       response=ListOf[TicketOut])
def list_tickets(principal: Principal, query: TicketQuery) -> ListOf[TicketOut]:
    filters = query.model_dump(exclude={"limit", "cursor", "sort"})
    return _page(principal, service.list_tickets(principal, filters, query.sort, query.limit, query.cursor))


@route(bp, "/customers/{customer_id}/tickets", "GET", summary="List a customer's tickets",
       permission="tickets:read", query=CustomerTicketQuery, response=ListOf[TicketOut])
def list_customer_tickets(principal: Principal, customer_id: str, query: CustomerTicketQuery) -> ListOf[TicketOut]:
    page = service.list_customer_tickets(principal, customer_id, query.sort, query.limit, query.cursor)
    return _page(principal, page)


@route(bp, "/tickets/{ticket_id}", "GET", summary="Read a ticket", permission="tickets:read", response=TicketOut)
def get_ticket(principal: Principal, ticket_id: str) -> TicketOut:
    return _out(principal, service.get_ticket(principal, ticket_id))


@route(bp, "/tickets/{ticket_id}", "PATCH", summary="Change a ticket (status, assignment, fields)",
       permission="tickets:update", body=UpdateTicket, response=TicketOut)
def update_ticket(principal: Principal, ticket_id: str, body: UpdateTicket) -> TicketOut:
    ticket = service.update_ticket(principal, ticket_id, body.changes(), expected_version(body))
    return _out(principal, ticket)


@route(bp, "/tickets/{ticket_id}/messages", "POST", summary="Reply or add an internal note",
       permission="tickets:reply", body=PostMessage, response=MessageOut, status=201)
def post_message(principal: Principal, ticket_id: str, body: PostMessage) -> MessageOut:
    message = service.post_message(principal, ticket_id, body.model_dump())
    return MessageOut.model_validate(service.message_view(message))


@route(bp, "/tickets/{ticket_id}/messages", "GET", summary="A ticket's conversation, oldest first",
       permission="tickets:read", query=ListQuery, response=ListOf[MessageOut])
def list_messages(principal: Principal, ticket_id: str, query: ListQuery) -> ListOf[MessageOut]:
    page = service.list_messages(principal, ticket_id, query.limit, query.cursor)
    return ListOf[MessageOut](items=[MessageOut.model_validate(service.message_view(m)) for m in page.items],
                              next_cursor=page.next_cursor)


@route(bp, "/tickets/{ticket_id}/sla", "GET", summary="Explain a ticket's SLA clocks", permission="tickets:sla",
       response=SlaExplanationOut)
def explain_sla(principal: Principal, ticket_id: str) -> SlaExplanationOut:
    return SlaExplanationOut.model_validate(service.explain_sla(principal, ticket_id))


@route(bp, "/tickets/{ticket_id}/csat-link", "GET", summary="The ticket's CSAT survey link",
       permission="tickets:csat", response=CsatLinkOut)
def csat_link(principal: Principal, ticket_id: str) -> CsatLinkOut:
    return CsatLinkOut.model_validate(service.csat_link(principal, ticket_id))


@route(bp, "/csat/{token}", "POST", summary="Answer a CSAT survey (no login)", body=CsatAnswer,
       response=CsatOut, status=201, public=True)
def submit_csat(token: str, body: CsatAnswer) -> CsatOut:
    return CsatOut.model_validate(service.submit_csat(token, body.score, body.comment))
