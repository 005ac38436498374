"""Forms: the editable draft, its immutable published versions, where it is shared (portal
assignments, signed links), its submissions, and the counters its analytics read.

| access pattern | index | key condition |
|---|---|---|
| form by id (the draft, with the latest published number) | table | PK = T#t#FORM#<id>, SK = FORM |
| one published version | table | PK = T#t#FORM#<id>, SK = V#<000001> |
| a link of the form (single use, expiry, prefill) | table | PK = T#t#FORM#<id>, SK = LINK#<link id> |
| the form's assignment to a customer's portal | table | PK = T#t#FORM#<id>, SK = ASSIGN#<customer id> |
| forms, by name | GSI1 | GSI1PK = T#t#FORMS#<state>, GSI1SK = <name>#<id> |
| forms waiting on a customer, due first | table | PK = T#t#FORMSDUE#<customer>, SK = <due>#<form id> |
| submissions of a form, newest first | table | PK = T#t#FORM#<id>#SUB, SK = <submission id> |
| analytics counters | table | PK = T#t#FORM#<id>#STATS, SK begins_with CH#<v> / FA#<v># / FD#<v># |
| answers counted? (replay guard of one chunk) | table | PK = T#t#FORM#<id>#STATS, SK = COUNTED#<event id>#<chunk> |
| requests per link / IP this minute (TTL) | table | PK = T#t#FORMRATE#<scope>#<value>, SK = <minute> |
| default forms seeded? | table | ids derive from the Tenant.Created event id (create-if-absent) |

`<state>` is `active` or `archived`; `<due>` is the due date, 9999-12-31 without one. Counters:
opened/submitted per version and channel (CH#), answered/blank per field (FA#), values (FD#),
sharded (core/counters.py): readers sum a version's shards with one Query.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, TableItem, VersionedItem, tenant_key

ACTIVE, ARCHIVED = "active", "archived"
NEVER_DUE = "9999-12-31"


def form_pk(tenant_id: str, form_id: str) -> str:
    return tenant_key(tenant_id, "FORM", form_id)


def version_sort(number: int) -> str:
    return f"V#{number:06d}"


class Form(VersionedItem):
    """The draft (`fields`, `actions`) a publish freezes into the next FormVersion;
    `published_version` is the latest published number (0: never published)."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    fields = JSONAttribute(default=list)
    actions = JSONAttribute(default=list)
    published_version = NumberAttribute(default=0)
    archived = BooleanAttribute(default=False)
    library_key = UnicodeAttribute(null=True)
    by_name = GSI1()

    SORT = "FORM"

    @staticmethod
    def pk(tenant_id: str, form_id: str) -> str:
        return form_pk(tenant_id, form_id)

    @staticmethod
    def list_pk(tenant_id: str, state: str) -> str:
        return tenant_key(tenant_id, "FORMS", state)

    def index_keys(self) -> None:
        self.GSI1PK = Form.list_pk(self.tenant_id, ARCHIVED if self.archived else ACTIVE)
        self.GSI1SK = f"{self.name.casefold()}#{self.id}"


class FormVersion(TableItem):
    """A published version: never changed once written."""

    form_id = UnicodeAttribute()
    number = NumberAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    fields = JSONAttribute()
    actions = JSONAttribute()
    published_at = UnicodeAttribute()
    published_by = UnicodeAttribute()


class FormLink(TableItem):
    """A signed link's record: the token names it; single use and revocation live here."""

    id = UnicodeAttribute()
    form_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    single_use = BooleanAttribute(default=False)
    expires_at_iso = UnicodeAttribute()
    prefill = JSONAttribute(default=dict)
    uses = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()

    @staticmethod
    def sort(link_id: str) -> str:
        return f"LINK#{link_id}"


class FormAssignment(TableItem):
    """The form is on a customer's portal; while it is not submitted, a FormWaiting entry in the
    customer's partition lists it (written and removed with this item)."""

    form_id = UnicodeAttribute()
    form_name = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    due_date = UnicodeAttribute(null=True)
    assigned_at = UnicodeAttribute()
    assigned_by = UnicodeAttribute()
    submitted_at = UnicodeAttribute(null=True)
    submission_id = UnicodeAttribute(null=True)

    @staticmethod
    def sort(customer_id: str) -> str:
        return f"ASSIGN#{customer_id}"

    def waiting_entry(self) -> FormWaiting:
        return FormWaiting(FormWaiting.pk(self.tenant_id, self.customer_id),
                           f"{self.due_date or NEVER_DUE}#{self.form_id}", type="FormWaiting",
                           tenant_id=self.tenant_id, form_id=self.form_id, form_name=self.form_name,
                           customer_id=self.customer_id, due_date=self.due_date, assigned_at=self.assigned_at)


class FormWaiting(TableItem):
    """A form waiting on a customer (assigned, not yet submitted): due first, undated last."""

    form_id = UnicodeAttribute()
    form_name = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    due_date = UnicodeAttribute(null=True)
    assigned_at = UnicodeAttribute()

    @staticmethod
    def pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "FORMSDUE", customer_id)


class Submission(TableItem):
    id = UnicodeAttribute()
    form_id = UnicodeAttribute()
    form_version = NumberAttribute()
    channel = UnicodeAttribute()  # "portal" | "link"
    link_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    submitted_by = UnicodeAttribute(null=True)
    answers = JSONAttribute()
    refused_mappings = JSONAttribute(default=list)
    submitted_at = UnicodeAttribute()

    @staticmethod
    def pk(tenant_id: str, form_id: str) -> str:
        return tenant_key(tenant_id, "FORM", form_id, "SUB")


class FormCounter(TableItem):
    """One shard of a counter: opened/submitted (CH#), answered/blank per field (FA#), or one
    answer value's count (FD#)."""

    opened = NumberAttribute(null=True)
    submitted = NumberAttribute(null=True)
    answered = NumberAttribute(null=True)
    blank = NumberAttribute(null=True)
    count = NumberAttribute(null=True)
    field = UnicodeAttribute(null=True)
    value = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    number = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # only on COUNTED# guards

    @staticmethod
    def pk(tenant_id: str, form_id: str) -> str:
        return tenant_key(tenant_id, "FORM", form_id, "STATS")


class RateCounter(TableItem):
    """Requests in one minute through one link or from one address; gone after an hour (TTL)."""

    n = NumberAttribute(default=0)
    expires_at = NumberAttribute()

    @staticmethod
    def pk(tenant_id: str, scope: str, value: str) -> str:
        return tenant_key(tenant_id, "FORMRATE", scope, value)
