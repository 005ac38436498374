"""The customer portal's API (/portal/...: portal users only, every other role 403), its sign-in
(public: a magic link and its exchange, the brand of a host), and the team's side: branding,
granting portal access to a contact, adoption."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints

from chalicelib.core.auth import Principal
from chalicelib.core.http import route
from chalicelib.core.models import Email, Id, ListOf, ListQuery, Name, Out, Strict, TextBlock, Version
from chalicelib.files.routes import ContentType, CreatedFileOut, Description, Filename, FileOut
from chalicelib.files.rules import MAX_BYTES
from chalicelib.tickets.routes import Category, PortalTicketOut, Priority

from . import service, signin

bp = Blueprint(__name__)

Host = Annotated[str, StringConstraints(min_length=3, max_length=253, pattern=r"^[A-Za-z0-9.\-:]+$")]
Comment = Annotated[TextBlock, StringConstraints(min_length=1, max_length=5000)]
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
DNS_LABEL = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
Subdomain = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


def _today() -> Any:
    return datetime.now(UTC).date()


# ---------- bodies and answers ----------


class LinkRequest(Strict):
    email: Email
    host: Host = Field(description="the portal's host, e.g. acme.bluehill.app")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"email": "pat@initech.example", "host": "portal.acme-agency.example"}]}}


class LinkExchange(Strict):
    link: Annotated[str, StringConstraints(min_length=1, max_length=200)]

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"link": "t1234.abcdef"}]}}


class LinkRequestedOut(Out):
    detail: str


class SessionOut(Out):
    token: str
    token_type: Literal["Bearer"]
    expires_at: str


class BrandingIn(Strict):
    version: Version | None = Field(None, description="the version you read (absent the first time)")
    portal_name: Name | None = None
    logo_file_id: Id | None = None
    primary_color: Color | None = None
    portal_subdomain: Subdomain | None = Field(None, description="DNS-safe, unique across tenants")
    support_email: Email | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"portal_name": "Acme Client Portal", "primary_color": "#0a7cff", "support_email": "help@acme.example"}]}}


class BrandingOut(Out):
    portal_name: str | None = None
    logo_file_id: str | None = None
    primary_color: str | None = None
    portal_subdomain: str | None = None
    support_email: str | None = None
    version: int


class PublicBrandingOut(Out):
    portal_name: str
    logo_file_id: str | None = None
    primary_color: str | None = None
    support_email: str | None = None


class BrandingQuery(Strict):
    host: Host


class HomeOut(Out):
    company: dict[str, Any]
    projects: list[dict[str, Any]]
    open_tickets: list[dict[str, Any]]
    forms_waiting: list[dict[str, Any]]
    recent_documents: list[FileOut]
    invoices: list[dict[str, Any]]
    waiting_on_you_count: int


class PortalProjectOut(Out):
    id: str
    name: str
    progress: float
    start_date: str | None = None
    due_date: str | None = None
    tasks_finished_last_week: int
    tasks_in_progress: int
    next_milestone: dict[str, Any] | None = None
    phases: list[dict[str, Any]]
    milestones: list[dict[str, Any]]


class Approve(Strict):
    comment: Comment | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"comment": "Looks great"}]}}


class RequestChanges(Strict):
    comment: Comment

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"comment": "Logo is too small"}]}}


class DecisionOut(Out):
    task_id: str
    project_id: str
    state: Literal["approved", "changes_requested"]
    comment: str | None = None
    decided_at: str


class TicketScope(Strict):
    scope: Literal["mine", "company"] | None = Field(None, description="default: company when shared, else mine")


class NewTicket(Strict):
    subject: Name
    description: Annotated[TextBlock, StringConstraints(min_length=1, max_length=10_000)]
    priority: Priority = Field(None)
    category: Category = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"subject": "Export fails", "description": "The CSV export times out.", "priority": "high"}]}}


class PortalTicketsOut(Out):
    items: list[PortalTicketOut]


class PortalMessage(Out):
    id: str
    ticket_id: str
    visibility: Literal["public"]
    author_type: Literal["team", "customer", "system"]
    body: str
    created_at: str


class PortalTicketDetailOut(PortalTicketOut):
    messages: list[PortalMessage]


class Reply(Strict):
    body: Annotated[TextBlock, StringConstraints(min_length=1, max_length=10_000)]

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"body": "Here is the file."}]}}


class TeamMemberOut(Out):
    user_id: str
    name: str
    email: str
    portal_admin: bool
    contact_id: str | None = None
    is_me: bool


class TeamOut(Out):
    items: list[TeamMemberOut]


class Invite(Strict):
    email: Email
    name: Name

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"email": "sam@initech.example", "name": "Sam Lee"}]}}


class NewDocument(Strict):
    filename: Filename
    content_type: ContentType
    size: Annotated[int, Field(ge=1, le=MAX_BYTES)]
    ticket_id: Id | None = Field(None, description="one of the company's tickets the document belongs to")
    description: Description | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"filename": "Logo.png", "content_type": "image/png", "size": 20480, "description": "Our logo"}]}}


class WaitingOut(Out):
    items: list[dict[str, Any]]


class GrantAccess(Strict):
    portal_admin: bool = Field(False, description="sees all the company's tickets and may invite colleagues")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"portal_admin": False}]}}


class AccessOut(Out):
    contact_id: str
    customer_id: str
    user_id: str
    email: str
    portal_admin: bool
    active: bool


class AdoptionQuery(Strict):
    month: Month | None = Field(None, description="YYYY-MM; default this month (UTC)")


class AdoptionOut(Out):
    month: str
    customers: int
    customers_logged_in: int
    percent_logged_in: float
    logins: int
    never_logged_in: list[dict[str, str]]


# ---------- sign-in and brand (public) ----------


@route(bp, "/portal/login/link", "POST", summary="Email a portal sign-in link (always 202)", body=LinkRequest,
       response=LinkRequestedOut, status=202, public=True)
def portal_request_link(body: LinkRequest) -> LinkRequestedOut:
    signin.request_link(body.email, body.host)
    return LinkRequestedOut(detail="if this address may sign in to this portal, a link is on its way")


@route(bp, "/portal/login/exchange", "POST", summary="Exchange a sign-in link for a session", body=LinkExchange,
       response=SessionOut, public=True)
def portal_exchange_link(body: LinkExchange) -> SessionOut:
    return SessionOut.model_validate(signin.exchange_link(body.link))


@route(bp, "/portal/branding", "GET", summary="The brand of the portal at a host (no login)", query=BrandingQuery,
       response=PublicBrandingOut, public=True)
def portal_public_branding(query: BrandingQuery) -> PublicBrandingOut:
    return PublicBrandingOut.model_validate(signin.public_branding(query.host))


# ---------- the team's side ----------


@route(bp, "/tenant/branding", "GET", summary="The portal's brand", permission="portal:branding",
       response=BrandingOut)
def portal_get_branding(principal: Principal) -> BrandingOut:
    return BrandingOut.model_validate(signin.get_branding(principal))


@route(bp, "/tenant/branding", "PUT", summary="Set the portal's brand and subdomain", permission="portal:branding",
       body=BrandingIn, response=BrandingOut)
def portal_set_branding(principal: Principal, body: BrandingIn) -> BrandingOut:
    values = body.model_dump(mode="json", exclude={"version"})
    return BrandingOut.model_validate(signin.set_branding(principal, values, body.version))


@route(bp, "/customers/{customer_id}/contacts/{contact_id}/portal-access", "POST",
       summary="Give a contact a portal login (invited by email)", permission="portal:access", body=GrantAccess,
       response=AccessOut, status=201)
def portal_grant_access(principal: Principal, customer_id: str, contact_id: str, body: GrantAccess) -> AccessOut:
    return AccessOut.model_validate(signin.grant_access(principal, customer_id, contact_id, body.portal_admin))


@route(bp, "/customers/{customer_id}/contacts/{contact_id}/portal-access", "DELETE",
       summary="Revoke a contact's portal login (refused from the next request)", permission="portal:access")
def portal_revoke_access(principal: Principal, customer_id: str, contact_id: str) -> None:
    signin.revoke_access(principal, customer_id, contact_id)


@route(bp, "/reports/portal-adoption", "GET", summary="Portal adoption in a month", permission="portal:adoption",
       query=AdoptionQuery, response=AdoptionOut)
def portal_adoption(principal: Principal, query: AdoptionQuery) -> AdoptionOut:
    month = query.month or _today().strftime("%Y-%m")
    return AdoptionOut.model_validate(signin.adoption(principal, month))


# ---------- the portal ----------


@route(bp, "/portal/home", "GET", summary="The customer's portal home", permission="portal:read", response=HomeOut)
def portal_home(principal: Principal) -> HomeOut:
    return HomeOut.model_validate(service.home(principal, _today()))


@route(bp, "/portal/projects/{project_id}", "GET", summary="A shared project's shared tasks",
       permission="portal:read", response=PortalProjectOut)
def portal_project(principal: Principal, project_id: str) -> PortalProjectOut:
    return PortalProjectOut.model_validate(service.project(principal, project_id, _today()))


@route(bp, "/portal/milestones/{task_id}/approve", "POST", summary="Approve a milestone", permission="portal:write",
       body=Approve, response=DecisionOut)
def portal_approve(principal: Principal, task_id: str, body: Approve) -> DecisionOut:
    return DecisionOut.model_validate(service.decide_milestone(principal, task_id, True, body.comment))


@route(bp, "/portal/milestones/{task_id}/request-changes", "POST", summary="Ask for changes on a milestone",
       permission="portal:write", body=RequestChanges, response=DecisionOut)
def portal_request_changes(principal: Principal, task_id: str, body: RequestChanges) -> DecisionOut:
    return DecisionOut.model_validate(service.decide_milestone(principal, task_id, False, body.comment))


@route(bp, "/portal/tickets", "GET", summary="The company's or my tickets", permission="portal:read",
       query=TicketScope, response=PortalTicketsOut)
def portal_list_tickets(principal: Principal, query: TicketScope) -> PortalTicketsOut:
    return PortalTicketsOut.model_validate({"items": service.list_tickets(principal, query.scope)})


@route(bp, "/portal/tickets", "POST", summary="Open a ticket", permission="portal:write", body=NewTicket,
       response=PortalTicketOut, status=201)
def portal_open_ticket(principal: Principal, body: NewTicket) -> PortalTicketOut:
    return PortalTicketOut.model_validate(service.open_ticket(principal, body.model_dump(exclude_unset=True)))


@route(bp, "/portal/tickets/{ticket_id}", "GET", summary="A ticket and its public conversation",
       permission="portal:read", response=PortalTicketDetailOut)
def portal_get_ticket(principal: Principal, ticket_id: str) -> PortalTicketDetailOut:
    return PortalTicketDetailOut.model_validate(service.ticket_with_messages(principal, ticket_id))


@route(bp, "/portal/tickets/{ticket_id}/messages", "POST", summary="Reply on a ticket", permission="portal:write",
       body=Reply, response=PortalMessage, status=201)
def portal_reply(principal: Principal, ticket_id: str, body: Reply) -> PortalMessage:
    return PortalMessage.model_validate(service.reply(principal, ticket_id, body.body))


@route(bp, "/portal/files", "GET", summary="The company's shared documents, newest first", permission="portal:read",
       query=ListQuery, response=ListOf[FileOut])
def portal_files(principal: Principal, query: ListQuery) -> ListOf[FileOut]:
    items, next_cursor = service.documents(principal, query.limit, query.cursor)
    return ListOf[FileOut].model_validate({"items": items, "next_cursor": next_cursor})


@route(bp, "/portal/files", "POST", summary="Upload a document (a presigned POST, limited to its size and type)",
       permission="portal:write", body=NewDocument, response=CreatedFileOut, status=201)
def portal_upload(principal: Principal, body: NewDocument) -> CreatedFileOut:
    return CreatedFileOut.model_validate(service.upload_document(principal, body.model_dump()))


@route(bp, "/portal/team", "GET", summary="The company's portal users", permission="portal:read", response=TeamOut)
def portal_team(principal: Principal) -> TeamOut:
    return TeamOut.model_validate({"items": service.list_team(principal)})


@route(bp, "/portal/team", "POST", summary="Invite a colleague", permission="portal:write", body=Invite,
       response=TeamMemberOut, status=201)
def portal_invite(principal: Principal, body: Invite) -> TeamMemberOut:
    return TeamMemberOut.model_validate(service.invite_colleague(principal, body.email, body.name))


@route(bp, "/portal/waiting-on-you", "GET", summary="Everything waiting on the customer, oldest first",
       permission="portal:read", response=WaitingOut)
def portal_waiting_on_you(principal: Principal) -> WaitingOut:
    return WaitingOut.model_validate({"items": service.waiting_on_you(principal)})


class InvoiceSummaryOut(Out):
    id: str
    number: str | None = None
    status: str
    currency: str
    total: int
    amount_paid: int
    balance: int
    issue_date: str | None = None
    due_date: str | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    sent_at: str | None = None

    model_config = Out.model_config | {"populate_by_name": True, "serialize_by_alias": True}


class InvoicesOut(Out):
    items: list[InvoiceSummaryOut]


class InvoiceDetailOut(InvoiceSummaryOut):
    lines: list[dict[str, Any]]
    terms: str | None = None
    po_number: str | None = None
    pdf_url: str


@route(bp, "/portal/invoices", "GET", summary="The company's invoices (never drafts)", permission="portal:read",
       response=InvoicesOut)
def portal_invoices(principal: Principal) -> InvoicesOut:
    return InvoicesOut.model_validate({"items": service.invoices(principal)})


@route(bp, "/portal/invoices/{invoice_id}", "GET", summary="One invoice with its PDF link", permission="portal:read",
       response=InvoiceDetailOut)
def portal_invoice(principal: Principal, invoice_id: str) -> InvoiceDetailOut:
    return InvoiceDetailOut.model_validate(service.invoice(principal, invoice_id))
