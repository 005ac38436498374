"""Follow-ups, their history and the counters the follow-up report reads.

| access pattern | index | key condition |
|---|---|---|
| follow-up with its history (one Query) | table | PK = T#t#FOLLOWUP#<id> (SK FOLLOWUP, HIST#<ulid>) |
| an assignee's open ones by due (buckets) | GSI1 | GSI1PK = T#t#FOLLOWUPS#ASSIGNEE#<user>, GSI1SK in window |
| a customer's open ones by due (buckets) | GSI2 | GSI2PK = T#t#FOLLOWUPS#CUSTOMER#<id>, GSI2SK in window |
| due and unmarked, every tenant (sweep) | SYSDUE | SYSDUEPK = FOLLOWUPDUE#<shard>, SYSDUESK <= <now>#~ |
| report rows: a month, a dimension, days | table | PK = T#t#FUSTATS#<YYYY-MM>, SK <dim>#<from> .. <dim>#<to>#~ |

GSI1/GSI2 keys exist only while a follow-up is open or overdue (sparse: completed and
cancelled ones leave the lists, never the table); GSInSK = `<due_at UTC>#<id>`, so each bucket
(overdue, due today, upcoming — a window of due instants, see dates.py) is one key condition.
The SYSDUE keys exist only while a follow-up is open and not yet marked overdue; SYSDUESK is
`<due_at>#T#<tenant>#<id>`, shard = hash(id) mod 16.

Counters (FollowUpStat): one row per (dimension, cohort day, value), on core.counters shards:
SK = `<dimension>#<YYYY-MM-DD>#<value>#<shard>`. The cohort day is the follow-up's creation
date in its assignee's timezone; the value is the assignee id, the customer id or the weekday
of the original due date. Every count of a follow-up lands on its cohort's rows, whenever it
moves, so a range's rates are about the follow-ups created in it.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, SystemDueIndex, TableItem, VersionedItem, tenant_key

DUE_SHARDS = 16
OPEN_STATES = ("open", "overdue")
LATE_DAYS_EXACT = 90  # days late counted one by one; more fall in the last bucket
COUNTERS = ("created", "completed", "completed_on_time", "completed_late", "cancelled", "overdue", "postponements")
LATE_BUCKETS = tuple(f"late_{n}" for n in range(1, LATE_DAYS_EXACT + 2))  # late_91: more than 90 days


def due_shard(follow_up_id: str) -> int:
    return int(hashlib.sha256(follow_up_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS


def due_pk(shard: int) -> str:
    return f"FOLLOWUPDUE#{shard}"


def assignee_pk(tenant_id: str, assignee_id: str) -> str:
    return tenant_key(tenant_id, "FOLLOWUPS", "ASSIGNEE", assignee_id)


def customer_pk(tenant_id: str, customer_id: str) -> str:
    return tenant_key(tenant_id, "FOLLOWUPS", "CUSTOMER", customer_id)


class FollowUp(VersionedItem):
    id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    interaction_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    project_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    status = UnicodeAttribute()  # open | overdue | completed | cancelled
    assignee_id = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute()  # the instant (UTC) it passes, fixed from the assignee's timezone
    due_date = UnicodeAttribute()  # its local date there
    all_day = BooleanAttribute(default=True)
    timezone = UnicodeAttribute()  # the assignee's, when the due time was set
    original_due_at = UnicodeAttribute()
    cohort_day = UnicodeAttribute()  # the report counts it under this day (created, local)
    due_weekday = UnicodeAttribute()  # ... and this weekday (the original due date's)
    postponements = NumberAttribute(default=0)
    overdue_at = UnicodeAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)
    completed_by = UnicodeAttribute(null=True)
    resolution = UnicodeAttribute(null=True)
    cancelled_at = UnicodeAttribute(null=True)
    cancelled_by = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    previous_id = UnicodeAttribute(null=True)  # the follow-up whose completion created it
    source_event_id = UnicodeAttribute(null=True)  # the event it was created from (an interaction logged)
    by_assignee = GSI1()
    by_customer = GSI2()
    by_due = SystemDueIndex()

    SORT = "FOLLOWUP"

    @staticmethod
    def pk(tenant_id: str, follow_up_id: str) -> str:
        return tenant_key(tenant_id, "FOLLOWUP", follow_up_id)


class FollowUpHistory(TableItem):
    """One thing that happened to a follow-up: created, postponed (from, to, reason), marked
    overdue, completed (resolution), cancelled (reason) — who and when. Never changed."""

    follow_up_id = UnicodeAttribute()
    action = UnicodeAttribute()
    at = UnicodeAttribute()
    by = UnicodeAttribute(null=True)
    from_due_at = UnicodeAttribute(null=True)
    to_due_at = UnicodeAttribute(null=True)
    from_due_date = UnicodeAttribute(null=True)
    to_due_date = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    resolution = UnicodeAttribute(null=True)
    next_ids = UnicodeAttribute(null=True)  # comma-separated: the follow-ups a completion created

    PREFIX = "HIST#"


class FollowUpStat(TableItem):
    dimension = UnicodeAttribute()
    day = UnicodeAttribute()
    value = UnicodeAttribute()
    for _name in (*COUNTERS, *LATE_BUCKETS):
        locals()[_name] = NumberAttribute(null=True)
    del _name

    @staticmethod
    def pk(tenant_id: str, month: str) -> str:
        return tenant_key(tenant_id, "FUSTATS", month)
