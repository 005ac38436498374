"""The portal's own items: who signs in to it and how, its brand, and its adoption counters.

| access pattern | index | key condition |
|---|---|---|
| a portal user's portal facts (contact, portal_admin) | table | PK = T#t#PORTALUSER#<user>, SK = PORTALUSER |
| a customer's portal users (GET /portal/team) | GSI1 | GSI1PK = T#t#CUSTOMER#<c>#PORTALUSERS |
| the portal user of a contact (grant / revoke) | table | PK = T#t#PORTALCONTACT#<contact>, SK = PORTALCONTACT |
| a sign-in link, by the hash of its secret | table | PK = T#t#PORTALLINK#<sha256>, SK = LINK (TTL expires_at) |
| the tenant's brand | table | PK = T#t#PORTAL, SK = BRANDING |
| a portal host (subdomain) → its tenant, unique across tenants | table (system scope) | PK = PORTALHOST#<sub> |
| a customer's first portal login (once) | table | PK = T#t#PORTALCUSTOMER#<c>, SK = FIRSTLOGIN |
| logins per customer in a month (adoption) | table | PK = T#t#PORTALLOGINS#<YYYY-MM>, SK = CUSTOMER#<c> (ADD) |
| a milestone's decision guard (one approval) | table | PK = T#t#PORTALMILESTONE#<task>, SK = DECISION |

A portal host claim is the one item whose key does not start with a tenant: the public
routes (branding, sign-in link) must find the tenant from the host before knowing it. It is
read and written in the explicit system scope, by its exact key only.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, TableItem, VersionedItem, tenant_key


class PortalUser(TableItem):
    user_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    contact_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    portal_admin = BooleanAttribute(default=False)
    invited_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    last_login_at = UnicodeAttribute(null=True)
    by_customer = GSI1()

    SORT = "PORTALUSER"

    @staticmethod
    def pk(tenant_id: str, user_id: str) -> str:
        return tenant_key(tenant_id, "PORTALUSER", user_id)

    @staticmethod
    def customer_pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "CUSTOMER", customer_id, "PORTALUSERS")


class PortalContact(TableItem):
    contact_id = UnicodeAttribute()
    user_id = UnicodeAttribute()

    SORT = "PORTALCONTACT"

    @staticmethod
    def pk(tenant_id: str, contact_id: str) -> str:
        return tenant_key(tenant_id, "PORTALCONTACT", contact_id)


class SignInLink(TableItem):
    user_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds: the link's end and the TTL attribute
    used = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()

    SORT = "LINK"

    @staticmethod
    def pk(tenant_id: str, digest: str) -> str:
        return tenant_key(tenant_id, "PORTALLINK", digest)


class Branding(VersionedItem):
    portal_name = UnicodeAttribute(null=True)
    logo_file_id = UnicodeAttribute(null=True)
    primary_color = UnicodeAttribute(null=True)
    portal_subdomain = UnicodeAttribute(null=True)
    support_email = UnicodeAttribute(null=True)

    SORT = "BRANDING"

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "PORTAL")


class HostClaim(TableItem):
    """`tenant_id` (TableItem's) is the tenant whose portal answers at this subdomain."""

    subdomain = UnicodeAttribute()

    SORT = "CLAIM"

    @staticmethod
    def pk(subdomain: str) -> str:
        return f"PORTALHOST#{subdomain}"


class FirstLogin(TableItem):
    customer_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    logged_in_at = UnicodeAttribute()

    SORT = "FIRSTLOGIN"

    @staticmethod
    def pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "PORTALCUSTOMER", customer_id)


class MonthlyLogins(TableItem):
    customer_id = UnicodeAttribute()
    month = UnicodeAttribute()
    logins = NumberAttribute(default=0)

    @staticmethod
    def pk(tenant_id: str, month: str) -> str:
        return tenant_key(tenant_id, "PORTALLOGINS", month)

    @staticmethod
    def sort(customer_id: str) -> str:
        return f"CUSTOMER#{customer_id}"


class MilestoneDecision(TableItem):
    task_id = UnicodeAttribute()
    state = UnicodeAttribute()  # approved | changes_requested
    decided_by = UnicodeAttribute()
    decided_at = UnicodeAttribute()

    SORT = "DECISION"

    @staticmethod
    def pk(tenant_id: str, task_id: str) -> str:
        return tenant_key(tenant_id, "PORTALMILESTONE", task_id)
