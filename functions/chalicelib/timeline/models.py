"""The timeline room's items: interactions, the tenant's own interaction types, the feed's
entries (projected from events), the daily activity counters and each customer's last touch.

| access pattern | index | key condition (+ FilterExpression on the same Query) |
|---|---|---|
| interaction by id | table | PK = T#t#INTERACTION#<id>, SK = INTERACTION |
| the tenant's interaction types | table | PK = T#t#INTERACTION_TYPES, SK = TYPES |
| one entry's head and placements (replace / delete an entry) | table | PK = T#t#TLE#<entry id> |
| a feed, newest first, from/to | GSI1 | GSI1PK = T#t#TL#<placement>, GSI1SK between <from> and <to>~ |
| daily counters of a scope x rows, from/to | table | PK = T#t#HM#<scope>#<rows>, SK between <from day> and <to day>~ |
| quiet customers: last customer touch before a cutoff | GSI2 | GSI2PK = T#t#TL#TOUCH, GSI2SK < <cutoff> |
| a customer's touch | table | PK = T#t#TLT#<customer id>, SK = TOUCH |

A feed entry is written once per feed it belongs to (its *placements*, all in the entry's own
partition, so replacing or removing an entry is one Query and one transaction):

| placement | feed |
|---|---|
| `C#<customer>` | GET /customers/{id}/timeline |
| `C#<customer>#S` | the same, `shared` entries only (all a portal user reads) |
| `C#<customer>#H` | the same, `system=false` (what people logged) |
| `P#<project>` | GET /projects/{id}/timeline, and `project_id=` on a customer timeline |
| `K#<ticket>` | `ticket_id=` on a customer timeline |
| `CT#<contact>` | `contact_id=` on a customer timeline |
| `ALL` | GET /activity |
| `U#<actor>` | GET /activity?actor_id= |
| `A#<user>` | what a contractor reaches: entries of the tasks and tickets assigned to them |
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, TableItem, VersionedItem, tenant_key

NO_TOUCH = "0000-00-00T00:00:00Z"  # sorts before any instant: a customer never touched is quiet


class Interaction(VersionedItem):
    id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # the interaction's `type` (`type` names the item's entity)
    occurred_at = UnicodeAttribute()
    summary = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    direction = UnicodeAttribute(null=True)
    visibility = UnicodeAttribute()
    contact_ids = ListAttribute(default=list)
    project_id = UnicodeAttribute(null=True)
    task_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    duration_minutes = NumberAttribute(null=True)
    sentiment = UnicodeAttribute(null=True)
    tags = ListAttribute(default=list)
    mention_ids = ListAttribute(default=list)
    author_id = UnicodeAttribute()
    deleted_at = UnicodeAttribute(null=True)

    SORT = "INTERACTION"

    @staticmethod
    def pk(tenant_id: str, interaction_id: str) -> str:
        return tenant_key(tenant_id, "INTERACTION", interaction_id)


class InteractionTypes(VersionedItem):
    """The tenant's own interaction types (the built-in ones are code)."""

    types = JSONAttribute(default=list)  # [{key, label, customer_facing}]

    SORT = "TYPES"

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "INTERACTION_TYPES")


def feed_pk(tenant_id: str, placement: str) -> str:
    return tenant_key(tenant_id, "TL", placement)


class FeedEntry(TableItem):
    """One placement of a feed entry: the entry as its feeds show it."""

    id = UnicodeAttribute()
    kind = UnicodeAttribute()  # `interaction` or the event type
    etype = UnicodeAttribute()  # what `types=` matches: the interaction's type, else the kind
    occurred_at = UnicodeAttribute()
    actor = JSONAttribute(default=dict)
    summary = UnicodeAttribute()
    visibility = UnicodeAttribute()
    system = BooleanAttribute()
    customer_id = UnicodeAttribute(null=True)
    project_id = UnicodeAttribute(null=True)
    task_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    interaction_id = UnicodeAttribute(null=True)
    contact_ids = ListAttribute(default=list)
    assignee_ids = ListAttribute(default=list)
    actor_id = UnicodeAttribute(null=True)
    by_feed = GSI1()

    @staticmethod
    def pk(tenant_id: str, entry_id: str) -> str:
        return tenant_key(tenant_id, "TLE", entry_id)

    @staticmethod
    def sort(placement: str) -> str:
        return f"@{placement}"


class EntryHead(TableItem):
    """What an entry is now (its version, placements and what it counted): replacing it takes
    back what the old one added; a removed entry keeps its head, so a late copy of an older
    change never brings it back."""

    version = NumberAttribute()
    placements = ListAttribute(default=list)
    counted = JSONAttribute(null=True)  # the counter keys it added 1 to, or None
    removed = BooleanAttribute(default=False)

    SORT = "HEAD"


class DayCounter(TableItem):
    """How many entries of one type one row had on one day, within one scope."""

    day = UnicodeAttribute()
    row = UnicodeAttribute()
    etype = UnicodeAttribute()
    count = NumberAttribute(default=0)

    @staticmethod
    def pk(tenant_id: str, scope: str, rows: str) -> str:
        return tenant_key(tenant_id, "HM", scope, rows)

    @staticmethod
    def sort(day: str, row: str, etype: str) -> str:
        return f"{day}#{row}#{etype}"


class CustomerTouch(TableItem):
    """A customer as the timeline knows it: its name and people (from its events) and when it
    last had an interaction, and a customer-facing one."""

    customer_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    owner_id = UnicodeAttribute(null=True)
    team_ids = ListAttribute(default=list)
    customer_version = NumberAttribute(default=0)
    archived = BooleanAttribute(default=False)
    last_interaction_at = UnicodeAttribute(null=True)
    last_customer_touch_at = UnicodeAttribute(null=True)
    by_touch = GSI2()

    SORT = "TOUCH"

    @staticmethod
    def pk(tenant_id: str, customer_id: str) -> str:
        return tenant_key(tenant_id, "TLT", customer_id)

    @staticmethod
    def index_pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "TL", "TOUCH")

    @staticmethod
    def index_sk(touched_at: str | None, customer_id: str) -> str:
        return f"{touched_at or NO_TOUCH}#{customer_id}"
