from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import (
    Domain,
    Email,
    Id,
    ListOf,
    ListQuery,
    Money,
    Name,
    Out,
    ShortText,
    SingleLine,
    Strict,
    Tag,
    Version,
)

from . import service

bp = Blueprint(__name__)

Tier = Literal["enterprise", "mid_market", "smb"]
Stage = Literal["onboarding", "active", "at_risk", "renewal", "churned"]
FieldKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class CustomField(Strict):
    """A typed custom field value; `select` values must be one of `options`. A `money` field (or
    one flagged `financial`) is money: like `mrr`, contractors and portal users never see it."""

    type: Literal["text", "number", "date", "bool", "select", "money"]
    value: Annotated[SingleLine, Field(max_length=1000)] | float | bool | Money | None
    options: list[Annotated[SingleLine, Field(max_length=100)]] | None = Field(None, max_length=50)
    financial: bool = Field(False, description="hide from roles that see no financials (always so for money)")

    @model_validator(mode="after")
    def _value_matches_type(self) -> CustomField:
        value, kind = self.value, self.type
        ok = value is None or {
            "text": lambda: isinstance(value, str),
            "number": lambda: isinstance(value, int | float) and not isinstance(value, bool),
            "money": lambda: isinstance(value, Money),
            "bool": lambda: isinstance(value, bool),
            "date": lambda: isinstance(value, str) and bool(date.fromisoformat(value)),
            "select": lambda: isinstance(value, str) and value in (self.options or []),
        }[kind]()
        if not ok:
            raise ValueError(f"value does not fit type {kind}")
        return self


class CustomerFields(Strict):
    domains: list[Domain] = Field(None, max_length=10)
    tier: Tier | None = None
    segment: ShortText | None = None
    tags: list[Tag] = Field(None, max_length=20)
    lifecycle_stage: Stage | None = None
    owner_id: Id | None = None
    team_ids: list[Id] = Field(None, max_length=20)
    contract_start: date | None = None
    renewal_date: date | None = None
    signup_date: date | None = None
    mrr: Money | None = None
    custom_fields: dict[FieldKey, CustomField | None] = Field(None, max_length=50)
    portal_ticket_sharing: Literal["own", "company"] = Field(
        None, description="portal users see their own tickets (own, the default) or the company's")
    portal_self_invite: bool = Field(None, description="portal users may invite colleagues (default false)")

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(mode="json", exclude_unset=True, exclude={"version"})
        for name in ("domains", "tags", "team_ids"):
            if name in values:
                values[name] = list(dict.fromkeys(values[name]))
        return values


class CreateCustomer(CustomerFields):
    name: Name

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [{"name": "Initech", "tier": "smb", "domains": ["initech.example"], "tags": ["pilot"]}]
        }
    }


class UpdateCustomer(CustomerFields):
    version: Version = Field(None, description="the version you read; or send If-Match")
    name: Name = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "segment": "fintech"}]}}


class CustomerOut(Out):
    id: str
    name: str
    domains: list[str] | None = None
    tier: Tier | None = None
    segment: str | None = None
    tags: list[str] | None = None
    lifecycle_stage: Stage | None = None
    owner_id: str | None = None
    team_ids: list[str] | None = None
    contract_start: str | None = None
    renewal_date: str | None = None
    signup_date: str | None = None
    mrr: dict[str, Any] | None = Field(None, description="money; absent for contractor and portal users")
    custom_fields: dict[str, Any] | None = None
    portal_ticket_sharing: Literal["own", "company"] | None = None
    portal_self_invite: bool | None = None
    archived: bool | None = None
    version: int | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @model_serializer(mode="wrap")
    def _only_fields_shown(self, serialize: SerializerFunctionWrapHandler) -> Any:
        """A field the reader's role may not see (money for contractors, all but the portal-safe
        fields for portal users) is absent, not null: null would claim the value is empty."""
        return {name: value for name, value in serialize(self).items() if name in self.model_fields_set}


class CustomerQuery(ListQuery):
    owner_id: Id | None = None
    tier: Tier | None = None
    lifecycle_stage: Stage | None = None
    tag: Tag | None = None
    q: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    domain: Domain | None = None
    include_archived: bool = False


class ContactFields(Strict):
    phone: Annotated[SingleLine, Field(max_length=40)] | None = None
    title: ShortText | None = None
    exec_sponsor: bool = Field(None)
    champion: bool = Field(None)
    billing: bool = Field(None)


class CreateContact(ContactFields):
    name: Name
    email: Email

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"name": "Pat Lee", "email": "pat@initech.example", "champion": True}]}
    }


class UpdateContact(ContactFields):
    version: Version = None
    name: Name = Field(None)
    email: Email = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "title": "CTO"}]}}


class ContactOut(Out):
    id: str
    customer_id: str
    name: str
    email: str
    phone: str | None = None
    title: str | None = None
    exec_sponsor: bool
    champion: bool
    billing: bool
    email_status: str = Field("ok", description="ok, or bouncing: mail to it bounced (it is not mailed)")
    version: int
    created_at: str
    updated_at: str


class ContactQuery(ListQuery):
    email: Email


def _out(principal: Principal, customer: Any) -> CustomerOut:
    return CustomerOut.model_validate(service.customer_view(principal, customer))


def _contact_out(contact: Any) -> ContactOut:
    return ContactOut.model_validate(service.contact_view(contact))


@route(bp, "/customers", "POST", summary="Create a customer", permission="customers:write",
       body=CreateCustomer, response=CustomerOut, status=201)
def create_customer(principal: Principal, body: CreateCustomer) -> CustomerOut:
    return _out(principal, service.create_customer(principal, {"name": body.name, **body.changes()}))


@route(bp, "/customers", "GET", summary="List customers", permission="customers:read", query=CustomerQuery,
       response=ListOf[CustomerOut])
def list_customers(principal: Principal, query: CustomerQuery) -> ListOf[CustomerOut]:
    filters = query.model_dump(exclude={"limit", "cursor", "include_archived"})
    page = service.list_customers(principal, filters, query.include_archived, query.limit, query.cursor)
    return ListOf[CustomerOut](items=[_out(principal, c) for c in page.items], next_cursor=page.next_cursor)


@route(bp, "/customers/{customer_id}", "GET", summary="Read a customer", permission="customers:read",
       response=CustomerOut)
def get_customer(principal: Principal, customer_id: str) -> CustomerOut:
    return _out(principal, service.get_customer(principal, customer_id))


@route(bp, "/customers/{customer_id}", "PATCH", summary="Change a customer", permission="customers:write",
       body=UpdateCustomer, response=CustomerOut)
def update_customer(principal: Principal, customer_id: str, body: UpdateCustomer) -> CustomerOut:
    customer = service.update_customer(principal, customer_id, body.changes(), expected_version(body))
    return _out(principal, customer)


@route(bp, "/customers/{customer_id}", "DELETE", summary="Archive a customer", permission="customers:write",
       response=CustomerOut)
def archive_customer(principal: Principal, customer_id: str) -> CustomerOut:
    return _out(principal, service.archive_customer(principal, customer_id))


@route(bp, "/customers/{customer_id}/contacts", "POST", summary="Add a contact", permission="contacts:write",
       body=CreateContact, response=ContactOut, status=201)
def create_contact(principal: Principal, customer_id: str, body: CreateContact) -> ContactOut:
    fields = body.model_dump(mode="json", exclude_unset=True)
    return _contact_out(service.create_contact(principal, customer_id, fields))


@route(bp, "/customers/{customer_id}/contacts", "GET", summary="List a customer's contacts",
       permission="contacts:read", query=ListQuery, response=ListOf[ContactOut])
def list_contacts(principal: Principal, customer_id: str, query: ListQuery) -> ListOf[ContactOut]:
    page = service.list_contacts(principal, customer_id, query.limit, query.cursor)
    return ListOf[ContactOut](items=[_contact_out(c) for c in page.items], next_cursor=page.next_cursor)


@route(bp, "/contacts", "GET", summary="Find a contact by email", permission="contacts:read", query=ContactQuery,
       response=ListOf[ContactOut])
def find_contact(principal: Principal, query: ContactQuery) -> ListOf[ContactOut]:
    contact = service.contact_by_email(principal, query.email)
    return ListOf[ContactOut](items=[_contact_out(contact)] if contact else [], next_cursor=None)


@route(bp, "/contacts/{contact_id}", "PATCH", summary="Change a contact", permission="contacts:write",
       body=UpdateContact, response=ContactOut)
def update_contact(principal: Principal, contact_id: str, body: UpdateContact) -> ContactOut:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    return _contact_out(service.update_contact(principal, contact_id, changes, expected_version(body)))


@route(bp, "/contacts/{contact_id}", "DELETE", summary="Delete a contact", permission="contacts:write")
def delete_contact(principal: Principal, contact_id: str) -> None:
    service.delete_contact(principal, contact_id)
