"""The tenant and its people.

| access pattern | index | key condition |
|---|---|---|
| tenant settings | table | PK = T#t#TENANT, SK = TENANT |
| user by id (authorizer, every request) | table | PK = T#t#USER#<id>, SK = USER |
| users of the tenant, by email | GSI1 | GSI1PK = T#t#USERS |
| tenant holidays (working-day calendars, SLA clocks) | table | PK = T#t#TENANT, SK = HOLIDAYS |
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, VersionedItem, tenant_key


class Tenant(VersionedItem):
    name = UnicodeAttribute()
    timezone = UnicodeAttribute(default="UTC")
    week_start = UnicodeAttribute(default="monday")
    default_currency = UnicodeAttribute(default="USD")
    owner_count = NumberAttribute(default=0)

    SORT = "TENANT"

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "TENANT")


class Holidays(VersionedItem):
    """The tenant's holidays, one item: `[{"date": "YYYY-MM-DD", "name": ...}]` in date order."""

    holidays = JSONAttribute(default=list)

    SORT = "HOLIDAYS"

    @staticmethod
    def pk(tenant_id: str) -> str:
        return Tenant.pk(tenant_id)


class User(VersionedItem):
    id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    timezone = UnicodeAttribute(null=True)  # an IANA zone; none: the tenant's
    by_email = GSI1()

    SORT = "USER"

    @staticmethod
    def pk(tenant_id: str, user_id: str) -> str:
        return tenant_key(tenant_id, "USER", user_id)

    @staticmethod
    def list_pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "USERS")

    def index_keys(self) -> None:
        self.GSI1PK, self.GSI1SK = User.list_pk(self.tenant_id), f"{self.email}#{self.id}"
