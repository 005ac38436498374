"""Customers and contacts, and the items that index and guard them.

| access pattern | index | key condition |
|---|---|---|
| customer by id | table | PK = T#t#CUSTOMER#<id>, SK = CUSTOMER |
| customers by name / name prefix (`q`) | GSI1 | GSI1PK = T#t#CUSTOMERS#<state>, GSI1SK begins_with <name> |
| customers of an owner | GSI2 | GSI2PK = T#t#CUSTOMERS#<state>#OWNER#<user> |
| customers in a tier | GSI3 | GSI3PK = T#t#CUSTOMERS#<state>#TIER#<tier> |
| customers in a lifecycle stage | GSI4 | GSI4PK = T#t#CUSTOMERS#<state>#STAGE#<stage> |
| customers in a tier *and* a lifecycle stage | GSI5 | GSI5PK = T#t#CUSTOMERS#<state>#TIERSTAGE#<tier>#<stage> |
| customers with a tag | GSI1 on CustomerIndexEntry | GSI1PK = T#t#CUSTOMERS#<state>#TAG#<tag>, then BatchGet |
| customers a member/contractor may see | GSI1 on CustomerIndexEntry | GSI1PK = T#t#CUSTOMERS#<state>#ACCESS#<user> |
| customer by email domain | table | PK = T#t#DOMAIN#<domain>: the claim carries its customer, one GetItem |
| contact by id | table | PK = T#t#CONTACT#<id>, SK = CONTACT |
| contacts of a customer | GSI1 | GSI1PK = T#t#CUSTOMER#<id>#CONTACTS |
| contact by email | GSI2 | GSI2PK = T#t#CONTACTEMAIL#<email> |
| uniqueness of a domain / contact email | table | PK = T#t#DOMAIN#<d> / T#t#EMAIL#<e>, attribute_not_exists |

`<state>` is `active` or `archived`: archiving moves a customer out of the default lists
without a filter, and `include_archived` reads the archived partition after the active one.

Filters past the first. A list reads the partition of its most selective filter, in this order:
the caller's ACCESS entries (member, contractor), `owner_id`, `tier`+`lifecycle_stage` together,
`tier`, `lifecycle_stage`, `tag`, else every customer by name; `q` (a name prefix) is always the
key condition. Any further filter (e.g. `owner_id` with `tier`, `tag` with `tier`) is a
FilterExpression (or, on index entries, a check after the BatchGet) over that partition: it
may throw most of what it reads away, which is bounded per request like every list (at most 3
Queries reading ≤100 items each, then a short page with a cursor: core.pagination). No index
for each pair: a tenant's customers number in the thousands, an owner's in the tens, so the
partition read is already small; tier and stage together, the pair asked for, have GSI5.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    UnicodeAttribute,
)

from chalicelib.core.table import GSI1, GSI2, GSI3, GSI4, GSI5, TableItem, VersionedItem, tenant_key

ACTIVE, ARCHIVED = "active", "archived"


def name_key(name: str, item_id: str) -> str:
    return f"{name.casefold()}#{item_id}"


def customers_pk(tenant_id: str, state: str, *facet: str) -> str:
    return tenant_key(tenant_id, "CUSTOMERS", state, *facet)


class Customer(VersionedItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    domains = ListAttribute(default=list)
    tier = UnicodeAttribute(null=True)
    segment = UnicodeAttribute(null=True)
    tags = ListAttribute(default=list)
    lifecycle_stage = UnicodeAttribute(null=True)
    owner_id = UnicodeAttribute(null=True)
    team_ids = ListAttribute(default=list)
    contract_start = UnicodeAttribute(null=True)
    renewal_date = UnicodeAttribute(null=True)
    signup_date = UnicodeAttribute(null=True)
    mrr = JSONAttribute(null=True)
    custom_fields = JSONAttribute(default=dict)
    portal_ticket_sharing = UnicodeAttribute(default="own")  # own | company: whose tickets portal users see
    portal_self_invite = BooleanAttribute(default=False)  # portal users may invite colleagues
    archived = BooleanAttribute(default=False)
    by_name = GSI1()
    by_owner = GSI2()
    by_tier = GSI3()
    by_stage = GSI4()
    by_tier_stage = GSI5()

    SORT = "CUSTOMER"

    @staticmethod
    def pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "CUSTOMER", customer_id)

    def state(self) -> str:
        return ARCHIVED if self.archived else ACTIVE

    def index_keys(self) -> None:
        """Set every GSI key from the fields: key builders live here and nowhere else."""
        tenant, state, sort = self.tenant_id, self.state(), name_key(self.name, self.id)
        self.GSI1PK, self.GSI1SK = customers_pk(tenant, state), sort
        facets = {
            "GSI2": ("OWNER", self.owner_id),
            "GSI3": ("TIER", self.tier),
            "GSI4": ("STAGE", self.lifecycle_stage),
        }
        if self.tier and self.lifecycle_stage:
            facets["GSI5"] = ("TIERSTAGE", f"{self.tier}#{self.lifecycle_stage}")
        else:
            facets["GSI5"] = ("TIERSTAGE", None)
        for index, (facet, value) in facets.items():
            setattr(self, f"{index}PK", customers_pk(tenant, state, facet, value) if value else None)
            setattr(self, f"{index}SK", sort if value else None)


class CustomerIndexEntry(TableItem):
    """One per tag and per user with access, so multi-valued filters are a Query too."""

    customer_id = UnicodeAttribute()
    by_facet = GSI1()

    @staticmethod
    def sort(facet: str, value: str) -> str:
        return f"IDX#{facet}#{value}"


class UniqueClaim(TableItem):
    """Owns a tenant-unique value (an email domain, a contact email) for one record. A domain's
    claim also carries its customer's item as stored (`customer`, DynamoDB's own attribute
    format), written in the same transaction as every change of the customer, so the customer
    of a domain is one GetItem."""

    owner_id = UnicodeAttribute()
    customer = JSONAttribute(null=True)
    SORT = "CLAIM"

    @staticmethod
    def domain_pk(tenant_id: str, domain: str) -> str:
        return tenant_key(tenant_id, "DOMAIN", domain)

    @staticmethod
    def email_pk(tenant_id: str, email: str) -> str:
        return tenant_key(tenant_id, "EMAIL", email)


class Contact(VersionedItem):
    id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    exec_sponsor = BooleanAttribute(default=False)
    champion = BooleanAttribute(default=False)
    billing = BooleanAttribute(default=False)
    email_status = UnicodeAttribute(default="ok")  # ok | bouncing (a DSN for mail we sent: Mail.Bounced)
    by_customer = GSI1()
    by_email = GSI2()

    SORT = "CONTACT"

    @staticmethod
    def pk(tenant_id: str, contact_id: str) -> str:
        return tenant_key(tenant_id, "CONTACT", contact_id)

    @staticmethod
    def customer_contacts_pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "CUSTOMER", customer_id, "CONTACTS")

    @staticmethod
    def email_pk(tenant_id: str, email: str) -> str:
        return tenant_key(tenant_id, "CONTACTEMAIL", email)

    def index_keys(self) -> None:
        self.GSI1PK = Contact.customer_contacts_pk(self.tenant_id, self.customer_id)
        self.GSI1SK = name_key(self.name, self.id)
        self.GSI2PK, self.GSI2SK = Contact.email_pk(self.tenant_id, self.email), Contact.SORT
