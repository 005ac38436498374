"""Tenant settings and the team: invitations, roles, deactivation, and the rule that a
tenant always keeps an owner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, validation_error
from chalicelib.core.events import actor_of
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import Transaction, now_iso, query_reader, read_items, require_version

from . import identity
from .events import HolidaysUpdated, TenantCreated, TenantUpdated, UserInvited, UserUpdated
from .models import Holidays, Tenant, User

TENANT_FIELDS = ("name", "timezone", "week_start", "default_currency")
USER_FIELDS = ("email", "name", "role", "customer_id", "active", "timezone")
OWNER = "owner"


def _tenant(tenant_id: str) -> Tenant:
    try:
        return Tenant.get(Tenant.pk(tenant_id), Tenant.SORT)
    except Tenant.DoesNotExist as missing:
        raise NotFound("tenant not found") from missing


def tenant_fields(tenant: Tenant) -> dict[str, Any]:
    return {name: getattr(tenant, name) for name in TENANT_FIELDS}


def user_fields(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in USER_FIELDS}


def get_tenant(principal: Principal) -> Tenant:
    require(principal, "tenant:read")
    return _tenant(principal.tenant_id)


def tenant_settings(tenant_id: str) -> dict[str, Any]:
    """For other rooms (SLA calendars, reports, invoices): the tenant's settings."""
    return tenant_fields(_tenant(tenant_id))


def update_tenant(principal: Principal, changes: dict[str, Any], expected_version: int) -> Tenant:
    require(principal, "tenant:write")
    current = _tenant(principal.tenant_id)
    require_version(current, expected_version, "tenant")
    before = tenant_fields(current)
    changed = audit.diff(before, {**before, **changes})
    if not changed:
        return current
    updated = Tenant(current.PK, current.SORT, **{**current.attribute_values, **changes})
    updated.version, updated.updated_at = current.version + 1, now_iso()
    tx = Transaction()
    tx.put(updated, Tenant.version == current.version,
           lambda: Conflict("the tenant was changed by someone else; reload and retry"))
    audit.record(tx, principal, "update", "tenant", principal.tenant_id, changed)
    tx.publish(TenantUpdated.model_validate({"changes": changed}).event(principal.tenant_id))
    tx.commit()
    return updated


def _holidays(tenant_id: str) -> Holidays | None:
    try:
        return Holidays.get(Holidays.pk(tenant_id), Holidays.SORT)
    except Holidays.DoesNotExist:
        return None


def get_holidays(principal: Principal) -> Holidays:
    """The tenant's holidays; version 0 and no dates when none were ever set."""
    require(principal, "holidays:read")
    return _holidays(principal.tenant_id) or Holidays(
        Holidays.pk(principal.tenant_id), Holidays.SORT, holidays=[], version=0, updated_at=None)


def tenant_holidays(tenant_id: str) -> list[date]:
    """For other rooms (working-day schedules, SLA clocks): the tenant's holiday dates, in order."""
    return _holiday_dates(_holidays(tenant_id))


def _holiday_dates(found: Holidays | None) -> list[date]:
    return [date.fromisoformat(entry["date"]) for entry in (found.holidays if found else [])]


def tenant_settings_for(plan: ReadPlan, tenant_id: str) -> Callable[[], dict[str, Any]]:
    """`tenant_settings`, read as part of another room's batch (core.reads)."""
    key = plan.want(Tenant, Tenant.pk(tenant_id), Tenant.SORT)

    def answer() -> dict[str, Any]:
        tenant = plan.item(key)
        if tenant is None:
            raise NotFound("tenant not found")
        return tenant_fields(tenant)

    return answer


def user_exists_for(plan: ReadPlan, tenant_id: str, user_id: str) -> Callable[[], bool]:
    """For other rooms (whose week is a timesheet): whether the tenant has this user, read as
    part of the caller's batch (core.reads)."""
    key = plan.want(User, User.pk(tenant_id, user_id), User.SORT)
    return lambda: plan.item(key) is not None


def user_names_for(plan: ReadPlan, tenant_id: str, user_ids: list[str]) -> Callable[[], dict[str, str]]:
    """For other rooms (documents that name people, e.g. invoice lines): each user's name, read
    as part of the caller's batch (core.reads). Unknown users are absent."""
    keys = {user_id: plan.want(User, User.pk(tenant_id, user_id), User.SORT) for user_id in dict.fromkeys(user_ids)}

    def answer() -> dict[str, str]:
        found = {user_id: plan.item(key) for user_id, key in keys.items()}
        return {user_id: user.name for user_id, user in found.items() if user is not None and user.name}

    return answer


def tenant_holidays_for(plan: ReadPlan, tenant_id: str) -> Callable[[], list[date]]:
    """`tenant_holidays`, read as part of another room's batch (core.reads)."""
    key = plan.want(Holidays, Holidays.pk(tenant_id), Holidays.SORT)
    return lambda: _holiday_dates(plan.item(key))


def timezones_for(plan: ReadPlan, tenant_id: str, user_ids: list[str]) -> Callable[[], dict[str, str]]:
    """For other rooms (follow-up buckets, due times), read as part of their batch (core.reads):
    each user's timezone — their own setting, else the tenant's. Unknown users are absent."""
    tenant_key_ = plan.want(Tenant, Tenant.pk(tenant_id), Tenant.SORT)
    user_keys = {user_id: plan.want(User, User.pk(tenant_id, user_id), User.SORT) for user_id in user_ids}

    def answer() -> dict[str, str]:
        tenant = plan.item(tenant_key_)
        fallback = (tenant.timezone if tenant is not None else None) or "UTC"
        found = {user_id: plan.item(key) for user_id, key in user_keys.items()}
        return {user_id: user.timezone or fallback for user_id, user in found.items() if user is not None}

    return answer


def set_holidays(principal: Principal, holidays: list[dict[str, Any]], expected_version: int) -> Holidays:
    """Replace the tenant's holidays. `expected_version` is the version read (0 when none exist yet)."""
    require(principal, "holidays:write")
    seen: set[str] = set()
    for entry in holidays:
        if entry["date"] in seen:
            raise validation_error("holidays", f"{entry['date']} is listed more than once")
        seen.add(entry["date"])
    current = get_holidays(principal)
    require_version(current, expected_version, "holiday list")
    now = now_iso()
    updated = Holidays(
        Holidays.pk(principal.tenant_id), Holidays.SORT, type="Holidays", tenant_id=principal.tenant_id,
        holidays=sorted(holidays, key=lambda entry: entry["date"]), version=current.version + 1,
        created_at=current.created_at or now, updated_at=now,
    )
    condition = Holidays.version == current.version if current.version else Holidays.PK.does_not_exist()
    tx = Transaction()
    tx.put(updated, condition, lambda: Conflict("the holidays were changed by someone else; reload and retry"))
    audit.record(tx, principal, "update", "holidays", principal.tenant_id,
                 audit.diff({"holidays": current.holidays}, {"holidays": updated.holidays}))
    tx.publish(HolidaysUpdated(count=len(updated.holidays)).event(principal.tenant_id))
    tx.commit()
    return updated


def _user(tenant_id: str, user_id: str) -> User:
    try:
        return User.get(User.pk(tenant_id, user_id), User.SORT)
    except User.DoesNotExist as missing:
        raise NotFound(f"user {user_id} not found") from missing


def me(principal: Principal) -> tuple[User, Tenant]:
    """The caller and their tenant, in one BatchGet."""
    require(principal, "me:read")
    items = read_items([(User.pk(principal.tenant_id, principal.user_id), User.SORT),
                        (Tenant.pk(principal.tenant_id), Tenant.SORT)], [User, Tenant])
    user = next((item for item in items if isinstance(item, User)), None)
    tenant = next((item for item in items if isinstance(item, Tenant)), None)
    if user is None or tenant is None:
        raise NotFound("user not found")
    return user, tenant


def user_is_current(principal: Principal) -> bool:
    """The authorizer's question: is the token's user still active, with the token's role?"""
    try:
        user = _user(principal.tenant_id, principal.user_id)
    except NotFound:
        return False
    return user.active and user.role == principal.role and (user.customer_id or None) == principal.customer_id


def active_user_by_email(tenant_id: str, email: str) -> User | None:
    """For the mail room: the tenant's active user with this email (one Query on GSI1)."""
    found = User.by_email.query(User.list_pk(tenant_id), User.GSI1SK.startswith(f"{email.lower()}#"), limit=5)
    return next((user for user in found if user.active and user.email.lower() == email.lower()), None)


def list_users(principal: Principal, limit: int, cursor: str | None) -> Page[User]:
    require(principal, "users:read")
    return read_page([query_reader(User.by_email, User.list_pk(principal.tenant_id))], limit, cursor)


def _owner_count_change(tx: Transaction, tenant_id: str, delta: int) -> None:
    guard: Condition | None = Tenant.owner_count > 1 if delta < 0 else None
    tx.update(
        Tenant(Tenant.pk(tenant_id), Tenant.SORT),
        [Tenant.owner_count.add(delta)],
        guard,
        lambda: Conflict("a tenant must keep at least one active owner"),
    )


def _check_role_grant(principal: Principal, role: str, customer_id: str | None) -> None:
    if role == OWNER and principal.role != OWNER:
        raise Forbidden("only an owner may grant the owner role")
    if role == "portal" and not customer_id:
        raise validation_error("customer_id", "is required for a portal user")
    if role != "portal" and customer_id:
        raise validation_error("customer_id", "is only for portal users")
    if customer_id:
        from chalicelib.customers import service as customers  # the customers room depends on this one

        customers.validate_reference(principal, customer_id, "customer_id")


def _new_user(tenant_id: str, user_id: str, email: str, name: str, role: str, customer_id: str | None) -> User:
    now = now_iso()
    user = User(
        User.pk(tenant_id, user_id), User.SORT, type="User", tenant_id=tenant_id, id=user_id, email=email,
        name=name, role=role, customer_id=customer_id, active=True, version=1, created_at=now, updated_at=now,
    )
    user.index_keys()
    return user


def invite_user(principal: Principal, fields: dict[str, Any], password: str | None = None) -> User:
    require(principal, "users:write")
    _check_role_grant(principal, fields["role"], fields.get("customer_id"))
    return _create_user(principal, fields, password)


def update_user(principal: Principal, user_id: str, changes: dict[str, Any], expected_version: int) -> User:
    require(principal, "users:write")
    current = _user(principal.tenant_id, user_id)
    require_version(current, expected_version, "user")
    if OWNER in (current.role, changes.get("role")) and principal.role != OWNER:
        raise Forbidden("only an owner may change an owner's role or grant the owner role")
    before = user_fields(current)
    after = {**before, **changes}
    if after["role"] != "portal" and "customer_id" not in changes:
        after["customer_id"] = None  # leaving the portal role leaves the customer; asking for one is refused below
    changed = audit.diff(before, after)
    if not changed:
        return current
    if "role" in changed or "customer_id" in changed:
        _check_role_grant(principal, after["role"], after["customer_id"])
    was_owner = before["role"] == OWNER and before["active"]
    is_owner = after["role"] == OWNER and after["active"]
    updated = User(current.PK, current.SORT, **{**current.attribute_values, **after})
    updated.version, updated.updated_at = current.version + 1, now_iso()
    updated.index_keys()
    tx = Transaction()
    tx.put(updated, User.version == current.version,
           lambda: Conflict("the user was changed by someone else; reload and retry"))
    if was_owner != is_owner:
        _owner_count_change(tx, principal.tenant_id, 1 if is_owner else -1)
    audit.record(tx, principal, "update", "user", user_id, changed)
    tx.publish(UserUpdated.model_validate({"user_id": user_id, "changes": changed}).event(principal.tenant_id))
    tx.commit()
    identity.update_login(updated.email, principal.tenant_id, updated.role, updated.customer_id, updated.active)
    return updated


def require_active_users(tx: Transaction, tenant_id: str, user_ids: list[str], field: str) -> None:
    """For other rooms: add to `tx` the check that each user exists and is active (422 on `field`)."""
    for user_id in dict.fromkeys(user_ids):
        tx.check(
            User, User.pk(tenant_id, user_id), User.SORT, User.active == True,  # noqa: E712
            lambda user_id=user_id: validation_error(field, f"user {user_id} is not an active member of the team"),
        )


def create_tenant(tenant_id: str, name: str, owner_email: str, owner_name: str, password: str | None = None) -> User:
    """Provision a tenant with its first owner (used by sign-up and by the seed). It acts for the
    new tenant itself: run from a script (as the README's first-tenant step does), it needs no
    scope of its caller's."""
    with tenant_scope(tenant_id):
        return _create_tenant(tenant_id, name, owner_email, owner_name, password)


def _create_tenant(tenant_id: str, name: str, owner_email: str, owner_name: str, password: str | None) -> User:
    now = now_iso()
    user_id = identity.create_login(owner_email, owner_name, tenant_id, OWNER, None, password)
    founder = Principal(tenant_id=tenant_id, user_id=user_id, role=OWNER, email=owner_email)
    tenant = Tenant(
        Tenant.pk(tenant_id), Tenant.SORT, type="Tenant", tenant_id=tenant_id, name=name, owner_count=1,
        version=1, created_at=now, updated_at=now,
    )
    owner = _new_user(tenant_id, user_id, owner_email, owner_name, OWNER, None)
    tx = Transaction()
    tx.create(tenant, lambda: Conflict(f"tenant {tenant_id} already exists"))
    tx.create(owner, lambda: Conflict(f"user {owner_email} already exists"))
    audit.record(tx, founder, "create", "tenant", tenant_id, audit.diff({}, tenant_fields(tenant)))
    # Other rooms provision their part of a new tenant (the template library…) from this event.
    tx.publish(TenantCreated(owner_id=user_id).event(tenant_id, actor_of(user_id, OWNER)))
    try:
        tx.commit()
    except Exception:
        identity.delete_login(owner_email)
        raise
    return owner


# ---------- portal logins (asked by the portal room, which checked who may grant them) ----------


def user_by_email(tenant_id: str, email: str) -> User | None:
    """The tenant's user with this email (one Query of the users' index), if any."""
    found = list(User.by_email.query(User.list_pk(tenant_id), User.GSI1SK.startswith(f"{email}#"), limit=5))
    return next((user for user in found if user.email == email), None)


def get_user(tenant_id: str, user_id: str) -> User | None:
    try:
        return _user(tenant_id, user_id)
    except NotFound:
        return None


def grant_portal_login(actor: Principal, email: str, name: str, customer_id: str) -> User:
    """A portal login for `email` at `customer_id`: a new portal user (Cognito emails the
    invitation), or the same person's deactivated portal login turned back on. The caller (the
    portal room) has checked that `actor` may grant it; a team member's email is a 409."""
    existing = user_by_email(actor.tenant_id, email)
    if existing is None:
        return _create_user(actor, {"email": email, "name": name, "role": "portal", "customer_id": customer_id})
    if existing.role != "portal" or existing.customer_id != customer_id:
        raise Conflict(f"{email} already signs in to this tenant as someone else")
    if existing.active:
        return existing
    return _set_active(actor, existing, True)


def revoke_portal_login(actor: Principal, user_id: str) -> User | None:
    """Deactivate a portal user's login: their next request is refused (portal routes recheck
    the user on every request; other routes within the authorizer cache)."""
    user = get_user(actor.tenant_id, user_id)
    if user is None or user.role != "portal" or not user.active:
        return user
    return _set_active(actor, user, False)


def _create_user(principal: Principal, fields: dict[str, Any], password: str | None = None) -> User:
    tenant, role, customer_id = principal.tenant_id, fields["role"], fields.get("customer_id")
    user_id = identity.create_login(fields["email"], fields["name"], tenant, role, customer_id, password)
    user = _new_user(tenant, user_id, fields["email"], fields["name"], role, customer_id)
    tx = Transaction()
    tx.create(user, lambda: Conflict(f"user {fields['email']} already exists"))
    if role == OWNER:
        _owner_count_change(tx, tenant, 1)
    audit.record(tx, principal, "create", "user", user_id, audit.diff({}, user_fields(user)))
    tx.publish(UserInvited(user_id=user_id, role=role).event(tenant))
    try:
        tx.commit()
    except Exception:
        identity.delete_login(fields["email"])
        raise
    return user


def _set_active(principal: Principal, current: User, active: bool) -> User:
    updated = User(current.PK, current.SORT, **{**current.attribute_values, "active": active})
    updated.version, updated.updated_at = current.version + 1, now_iso()
    changed = audit.diff({"active": current.active}, {"active": active})
    tx = Transaction()
    tx.put(updated, User.version == current.version,
           lambda: Conflict("the user was changed by someone else; reload and retry"))
    audit.record(tx, principal, "update", "user", current.id, changed)
    tx.publish(UserUpdated.model_validate({"user_id": current.id, "changes": changed}).event(principal.tenant_id))
    tx.commit()
    identity.update_login(updated.email, principal.tenant_id, updated.role, updated.customer_id, active)
    return updated
