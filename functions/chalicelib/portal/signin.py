"""Signing in to the portal and the team's side of it: magic links and the sessions they turn
into, the tenant's brand and portal host, granting and revoking a contact's portal access, and
adoption (first logins, logins per customer per month).

A sign-in link is `<tenant>.<secret>`; only the SHA-256 of the whole link is stored, for 15
minutes, used once by a conditional update. A used, expired or forged link is refused with the
same 404 (as a CSAT survey link is: the link is the credential of a public route). A session
is a token core.auth mints and its authorizer accepts with the same checks as any other (the
user still active, a portal user, the customer claim fixed)."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal, mint_portal_session
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.events import acting_as, actor_of
from chalicelib.core.observability import logger
from chalicelib.core.permissions import require
from chalicelib.core.scope import system_scope, tenant_scope
from chalicelib.core.table import Transaction, now_iso, read_items, require_version
from chalicelib.customers import service as customers
from chalicelib.team import service as team

from . import mailer
from .events import CustomerPortalFirstLogin, PortalLogin
from .models import Branding, FirstLogin, HostClaim, MonthlyLogins, PortalContact, SignInLink
from .service import record_portal_user

LINK_MINUTES = 15
REFUSED = "this sign-in link is invalid, used or expired"
BRANDING_FIELDS = ("portal_name", "logo_file_id", "primary_color", "portal_subdomain", "support_email")
# Words a host may begin with that are never a tenant's subdomain (portal.<sub>.example, www.<sub>...).
RESERVED_SUBDOMAINS = frozenset({"portal", "www", "app", "api", "admin", "mail", "static", "docs"})
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TENANT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MAX_ADOPTION_CUSTOMERS = 5000


def _digest(link: str) -> str:
    return hashlib.sha256(link.encode()).hexdigest()


# ---------- the portal host ----------


def subdomain_of(host: str) -> str | None:
    """The tenant's subdomain in a portal host: its first label that is not a reserved word
    (`acme.bluehill.app` and `portal.acme.example` are both `acme`)."""
    labels = host.strip().lower().rstrip(".").split(":")[0].split(".")
    return next((label for label in labels if _LABEL.match(label) and label not in RESERVED_SUBDOMAINS), None)


def tenant_of_host(host: str) -> str | None:
    sub = subdomain_of(host)
    if sub is None:
        return None
    with system_scope():  # the one lookup made before the tenant is known, by its exact key
        try:
            return HostClaim.get(HostClaim.pk(sub), HostClaim.SORT).tenant_id
        except HostClaim.DoesNotExist:
            return None


def _branding(tenant_id: str) -> Branding | None:
    try:
        return Branding.get(Branding.pk(tenant_id), Branding.SORT)
    except Branding.DoesNotExist:
        return None


def branding_view(branding: Branding | None) -> dict[str, Any]:
    values = {name: getattr(branding, name) if branding else None for name in BRANDING_FIELDS}
    return {**values, "version": int(branding.version) if branding else 0}


def public_branding(host: str) -> dict[str, Any]:
    """What the portal page needs to render the brand of the tenant at `host`, nothing else."""
    tenant_id = tenant_of_host(host)
    if tenant_id is None:
        raise NotFound(f"no portal at {host}")
    with tenant_scope(tenant_id):
        branding = _branding(tenant_id)
        name = (branding.portal_name if branding else None) or team.tenant_settings(tenant_id)["name"]
    return {"portal_name": name, "logo_file_id": branding.logo_file_id if branding else None,
            "primary_color": branding.primary_color if branding else None,
            "support_email": branding.support_email if branding else None}


def get_branding(principal: Principal) -> dict[str, Any]:
    require(principal, "portal:branding")
    return branding_view(_branding(principal.tenant_id))


def _claim_host(sub: str, tenant_id: str) -> None:
    """Hold `sub` for this tenant (again, if it already does): a 409 when another tenant holds it."""
    claim = HostClaim(HostClaim.pk(sub), HostClaim.SORT, type="HostClaim", tenant_id=tenant_id, subdomain=sub)
    with system_scope():  # the host claim's key is the one not under a tenant (see models)
        try:
            claim.save(HostClaim.PK.does_not_exist() | (HostClaim.tenant_id == tenant_id))
        except PutError as taken:
            if taken.cause_response_code != "ConditionalCheckFailedException":
                raise
            raise Conflict(f"portal_subdomain {sub} is taken by another portal") from taken


def _release_host(sub: str, tenant_id: str) -> None:
    with system_scope():
        try:
            HostClaim(HostClaim.pk(sub), HostClaim.SORT).delete(HostClaim.tenant_id == tenant_id)
        except DeleteError as not_ours:
            if not_ours.cause_response_code != "ConditionalCheckFailedException":
                raise


def set_branding(principal: Principal, values: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
    """Replace the tenant's brand. A new portal_subdomain is claimed across tenants first (409
    when another tenant holds it), then the brand is written in the tenant's own transaction,
    then the old subdomain is released. The claim is its own write so that only it runs in the
    system scope (in AWS, the request role may touch PORTALHOST# keys and nothing else outside
    the tenant); a brand write that fails after the claim leaves the name held by this tenant,
    which the retry reuses."""
    require(principal, "portal:branding")
    tenant, sub = principal.tenant_id, values.get("portal_subdomain")
    if sub is not None and sub in RESERVED_SUBDOMAINS:
        raise validation_error("portal_subdomain", f"{sub} is reserved")
    current = _branding(tenant)
    if current is not None and expected_version is not None:
        require_version(current, expected_version, "branding")
    before = branding_view(current)
    now, version = now_iso(), (int(current.version) + 1 if current else 1)
    item = Branding(Branding.pk(tenant), Branding.SORT, type="Branding", tenant_id=tenant,
                    version=version, created_at=current.created_at if current else now, updated_at=now,
                    **{name: values.get(name) for name in BRANDING_FIELDS})
    old = current.portal_subdomain if current else None
    if sub and sub != old:
        _claim_host(sub, tenant)
    tx = Transaction()
    tx.put(item, Branding.version == current.version if current else Branding.PK.does_not_exist(),
           lambda: Conflict("the branding was changed by someone else; reload and retry"))
    audit.record(tx, principal, "update", "branding", tenant,
                 audit.diff({k: v for k, v in before.items() if k != "version"}, values))
    tx.commit()
    if old and old != sub:
        _release_host(old, tenant)
    return branding_view(item)


# ---------- magic links ----------


def request_link(email: str, host: str) -> None:
    """Email a sign-in link if `email` is an active portal user of the tenant at `host`; say
    nothing either way (the route always answers 202)."""
    tenant_id = tenant_of_host(host)
    if tenant_id is None:
        return
    with tenant_scope(tenant_id):
        user = team.user_by_email(tenant_id, email.strip().lower())  # emails are stored lower-cased (core Email)
        if user is None or not user.active or user.role != "portal" or not user.customer_id:
            return
        link = f"{tenant_id}.{secrets.token_urlsafe(32)}"
        now = int(time.time())
        SignInLink(SignInLink.pk(tenant_id, _digest(link)), SignInLink.SORT, type="SignInLink", tenant_id=tenant_id,
                   user_id=user.id, customer_id=user.customer_id, email=user.email,
                   expires_at=now + LINK_MINUTES * 60, used=False, created_at=now_iso()).save(
            SignInLink.PK.does_not_exist())
        branding = _branding(tenant_id)
        name = (branding.portal_name if branding else None) or team.tenant_settings(tenant_id)["name"]
        try:
            mailer.send_sign_in_link(user.email, name, f"https://{host}/#/sign-in?link={link}", LINK_MINUTES)
        except mailer.NotSent:  # the answer is 202 whatever happens; the operator sees why in the log
            logger().exception("portal sign-in link not sent", extra={"tenant_id": tenant_id, "user_id": user.id})
            return
        logger().info("portal sign-in link sent", extra={"tenant_id": tenant_id, "user_id": user.id})


def exchange_link(link: str) -> dict[str, Any]:
    """Turn an unused, unexpired link into a session (its one use); anything else is the same 404."""
    tenant_id = link.split(".", 1)[0]
    if "." not in link or not _TENANT.match(tenant_id):
        raise NotFound(REFUSED)
    with tenant_scope(tenant_id):
        now = int(time.time())
        found = SignInLink(SignInLink.pk(tenant_id, _digest(link)), SignInLink.SORT)
        try:
            found.update([SignInLink.used.set(True)],
                         condition=(SignInLink.used == False) & (SignInLink.expires_at > now))  # noqa: E712
        except UpdateError as refused:  # the condition failed: absent, used or expired
            if refused.cause_response_code != "ConditionalCheckFailedException":
                raise
            raise NotFound(REFUSED) from refused
        user = team.get_user(tenant_id, found.user_id)
        if user is None or not user.active or user.role != "portal" or user.customer_id != found.customer_id:
            raise NotFound(REFUSED)
        principal = Principal(tenant_id=tenant_id, user_id=user.id, role="portal", email=user.email,
                              customer_id=user.customer_id)
        token, expires = mint_portal_session(principal, now)
        with acting_as(actor_of(user.id, "portal")):
            record_login(principal, datetime.fromtimestamp(now, UTC))
    return {"token": token, "token_type": "Bearer",
            "expires_at": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def record_login(principal: Principal, at: datetime) -> bool:
    """Count the login for the customer's month; the customer's first login ever publishes
    Customer.PortalFirstLogin (once: a conditional create). True when it was the first."""
    assert principal.customer_id
    tenant, customer_id, month, iso = (principal.tenant_id, principal.customer_id, at.strftime("%Y-%m"),
                                       at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def count(tx: Transaction) -> None:
        counter = MonthlyLogins(MonthlyLogins.pk(tenant, month), MonthlyLogins.sort(customer_id))
        tx.update(counter, [MonthlyLogins.logins.add(1), MonthlyLogins.type.set("MonthlyLogins"),
                            MonthlyLogins.tenant_id.set(tenant), MonthlyLogins.customer_id.set(customer_id),
                            MonthlyLogins.month.set(month)])
        tx.publish(PortalLogin(customer_id=customer_id, user_id=principal.user_id, month=month).event(tenant))

    first = Transaction()
    count(first)
    first.create(FirstLogin(FirstLogin.pk(tenant, customer_id), FirstLogin.SORT, type="FirstLogin", tenant_id=tenant,
                            customer_id=customer_id, user_id=principal.user_id, logged_in_at=iso),
                 lambda: Conflict("not the first login"))
    first.publish(CustomerPortalFirstLogin(customer_id=customer_id, user_id=principal.user_id,
                                           logged_in_at=iso).event(tenant))
    try:
        first.commit()
        return True
    except Conflict:
        again = Transaction()
        count(again)
        again.commit()
        return False


def first_login_at(tenant_id: str, customer_id: str) -> str | None:
    """For other rooms (the templates room's anchor `first_portal_login`): when the customer
    first signed in to the portal, if ever."""
    try:
        return FirstLogin.get(FirstLogin.pk(tenant_id, customer_id), FirstLogin.SORT).logged_in_at
    except FirstLogin.DoesNotExist:
        return None


# ---------- granting and revoking a contact's access ----------


def grant_access(principal: Principal, customer_id: str, contact_id: str, portal_admin: bool) -> dict[str, Any]:
    require(principal, "portal:access")
    contact = customers.get_contact(principal, contact_id)
    if contact.customer_id != customer_id:
        raise NotFound(f"contact {contact_id} not found")
    user = team.grant_portal_login(principal, contact.email, contact.name, customer_id)
    tx = Transaction()
    record_portal_user(tx, principal, user, customer_id, contact_id, portal_admin)
    tx.put(PortalContact(PortalContact.pk(principal.tenant_id, contact_id), PortalContact.SORT, type="PortalContact",
                         tenant_id=principal.tenant_id, contact_id=contact_id, user_id=user.id))
    tx.commit()
    return {"contact_id": contact_id, "customer_id": customer_id, "user_id": user.id, "email": user.email,
            "portal_admin": portal_admin, "active": True}


def revoke_access(principal: Principal, customer_id: str, contact_id: str) -> None:
    require(principal, "portal:access")
    contact = customers.get_contact(principal, contact_id)
    if contact.customer_id != customer_id:
        raise NotFound(f"contact {contact_id} not found")
    try:
        link = PortalContact.get(PortalContact.pk(principal.tenant_id, contact_id), PortalContact.SORT)
    except PortalContact.DoesNotExist as missing:
        raise NotFound(f"contact {contact_id} has no portal access") from missing
    team.revoke_portal_login(principal, link.user_id)


# ---------- adoption ----------


def adoption(principal: Principal, month: str) -> dict[str, Any]:
    """% of the caller's customers with a portal login in `month`, and those never logged in."""
    require(principal, "portal:adoption")
    reached, cursor = [], None
    while len(reached) < MAX_ADOPTION_CUSTOMERS:
        page = customers.list_customers(principal, {}, False, 200, cursor)
        reached.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    tenant = principal.tenant_id
    logged = {row.customer_id: int(row.logins) for row in MonthlyLogins.query(MonthlyLogins.pk(tenant, month))}
    firsts = {item.customer_id for item in read_items(
        [(FirstLogin.pk(tenant, c.id), FirstLogin.SORT) for c in reached], [FirstLogin])}
    active = [c for c in reached if c.id in logged]
    total = len(reached)
    return {
        "month": month,
        "customers": total,
        "customers_logged_in": len(active),
        "percent_logged_in": round(len(active) * 100 / total, 1) if total else 0.0,
        "logins": sum(logged.get(c.id, 0) for c in reached),
        "never_logged_in": [{"id": c.id, "name": c.name} for c in reached if c.id not in firsts],
    }

