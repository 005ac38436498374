from __future__ import annotations

from datetime import date
from typing import Literal
from zoneinfo import available_timezones

from chalice import Blueprint
from pydantic import Field, field_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import Currency, Email, Id, ListOf, ListQuery, Name, Out, Strict, Version, VersionFromZero

from . import service

bp = Blueprint(__name__)

Role = Literal["owner", "admin", "member", "contractor", "portal", "readonly"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _iana(value: str | None) -> str | None:
    if value is not None and value not in available_timezones():
        raise ValueError("must be an IANA time zone such as Europe/Paris")
    return value


class UserOut(Out):
    id: str
    email: str
    name: str
    role: Role
    customer_id: str | None = None
    active: bool
    timezone: str | None = Field(None, description="the user's own IANA time zone; none: the tenant's")
    version: int
    created_at: str
    updated_at: str


class TenantOut(Out):
    id: str
    name: str
    timezone: str
    week_start: Weekday
    default_currency: str
    version: int
    updated_at: str


class MeOut(Out):
    user: UserOut
    tenant: TenantOut


class InviteUser(Strict):
    email: Email
    name: Name
    role: Role
    customer_id: Id | None = None

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"email": "new.hire@example.com", "name": "New Hire", "role": "member"}]}
    }


class UpdateUser(Strict):
    version: Version = Field(None, description="the version you read; or send If-Match")
    name: Name = Field(None)
    role: Role = Field(None)
    customer_id: Id | None = None
    active: bool = Field(None)
    timezone: str | None = Field(None, max_length=64, description="an IANA time zone; null: the tenant's")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "name": "Renamed"}]}}

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return _iana(value)


class UpdateTenant(Strict):
    version: Version = Field(None, description="the version you read; or send If-Match")
    name: Name = Field(None)
    timezone: str = Field(None, max_length=64)
    week_start: Weekday = Field(None)
    default_currency: Currency = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "name": "Demo Inc"}]}}

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return _iana(value)


class Holiday(Strict):
    date: date
    name: Name | None = None


class SetHolidays(Strict):
    version: VersionFromZero = Field(None, description="the version you read (0 when none were set); or send If-Match")
    holidays: list[Holiday] = Field(max_length=500)

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"version": 0, "holidays": [{"date": "2026-12-25", "name": "Christmas"}]}]}
    }


class HolidaysOut(Out):
    holidays: list[dict[str, str | None]]
    version: int
    updated_at: str | None = None


def _holidays_out(holidays: object) -> HolidaysOut:
    return HolidaysOut.model_validate(holidays.attribute_values)  # type: ignore[attr-defined]


def _tenant_out(tenant_id: str, tenant: object) -> TenantOut:
    return TenantOut.model_validate({"id": tenant_id, **tenant.attribute_values})  # type: ignore[attr-defined]


def _user_out(user: object) -> UserOut:
    return UserOut.model_validate(user.attribute_values)  # type: ignore[attr-defined]


def _changes(body: Strict) -> dict[str, object]:
    return body.model_dump(exclude_unset=True, exclude={"version"})


@route(bp, "/me", "GET", summary="Who am I", permission="me:read", response=MeOut)
def get_me(principal: Principal) -> MeOut:
    user, tenant = service.me(principal)
    return MeOut(user=_user_out(user), tenant=_tenant_out(principal.tenant_id, tenant))


@route(bp, "/users", "GET", summary="List the team", permission="users:read", query=ListQuery,
       response=ListOf[UserOut])
def list_users(principal: Principal, query: ListQuery) -> ListOf[UserOut]:
    page = service.list_users(principal, query.limit, query.cursor)
    return ListOf[UserOut](items=[_user_out(u) for u in page.items], next_cursor=page.next_cursor)


@route(bp, "/users", "POST", summary="Invite a user", permission="users:write", body=InviteUser,
       response=UserOut, status=201)
def invite_user(principal: Principal, body: InviteUser) -> UserOut:
    return _user_out(service.invite_user(principal, body.model_dump()))


@route(bp, "/users/{user_id}", "PATCH", summary="Change a user's role or name, or deactivate them",
       permission="users:write", body=UpdateUser, response=UserOut)
def update_user(principal: Principal, user_id: str, body: UpdateUser) -> UserOut:
    return _user_out(service.update_user(principal, user_id, _changes(body), expected_version(body)))


@route(bp, "/tenant", "GET", summary="Tenant settings", permission="tenant:read", response=TenantOut)
def get_tenant(principal: Principal) -> TenantOut:
    return _tenant_out(principal.tenant_id, service.get_tenant(principal))


@route(bp, "/tenant", "PATCH", summary="Change tenant settings", permission="tenant:write", body=UpdateTenant,
       response=TenantOut)
def update_tenant(principal: Principal, body: UpdateTenant) -> TenantOut:
    return _tenant_out(principal.tenant_id, service.update_tenant(principal, _changes(body), expected_version(body)))


@route(bp, "/tenant/holidays", "GET", summary="The tenant's holidays", permission="holidays:read",
       response=HolidaysOut)
def get_holidays(principal: Principal) -> HolidaysOut:
    return _holidays_out(service.get_holidays(principal))


@route(bp, "/tenant/holidays", "PUT", summary="Replace the tenant's holidays (working-day calendars skip them)",
       permission="holidays:write", body=SetHolidays, response=HolidaysOut)
def set_holidays(principal: Principal, body: SetHolidays) -> HolidaysOut:
    holidays = [holiday.model_dump(mode="json") for holiday in body.holidays]
    return _holidays_out(service.set_holidays(principal, holidays, expected_version(body)))
