"""The time room's items: time entries, running timers, weekly timesheets, the room's settings
and rate rules, and the daily rollups the time report reads.

(The package is `timekeeping`, not `time`: a room named `time` would shadow the standard library.)

| access pattern | index | key condition |
|---|---|---|
| entry by id | table | PK = T#t#TIMEENTRY#<id>, SK = ENTRY |
| a user's entries by date (lists, a week's timesheet) | GSI1 | GSI1PK = T#t#TIME#USER#<user> |
| a customer's entries by date | GSI2 | GSI2PK = T#t#TIME#CUSTOMER#<customer> |
| a project's entries by date (task_id filters within it) | GSI3 | GSI3PK = T#t#TIME#PROJECT#<project> |
| every entry of the tenant by date | GSI4 | GSI4PK = T#t#TIME#ALL |
| a customer's approved, billable, uninvoiced entries (sparse) | GSI5 | GSI5PK = T#t#TIME#UNINVOICED#<customer> |
| the user's running timer (one: the key is the user) | table | PK = T#t#TIMER#<user>, SK = TIMER |
| a timesheet (id `<user>--<week>`: entry writes check it) | table | PK = T#t#TIMESHEET#<id>, SK = TIMESHEET |
| timesheets in a status (the approver's queue) | GSI1 | GSI1PK = T#t#TIMESHEETS#<status>, GSI1SK = <week>#<user> |
| a timesheet's history, oldest first | table | PK = T#t#TIMESHEET#<id>, SK begins_with HISTORY# |
| the room's settings; the rate rules | table | PK = T#t#TIMESETTINGS, SK = SETTINGS / RATES |
| daily rollups over a date range (the time report) | table | PK = T#t#TIMEROLLUP, SK between <from>#, <to>#~ |

Every GSI sort key of an entry is `<date>#<entry id>`: a date range (from..to) is the key condition
`between <from>#, <to>#~`.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, GSI3, GSI4, GSI5, TableItem, VersionedItem, tenant_key

STATUSES = ("open", "submitted", "approved", "invoiced")
END = "~"  # sorts after every date and id


def date_key(day: str, item_id: str = "") -> str:
    return f"{day}#{item_id}"


def user_pk(tenant_id: str, user_id: str) -> str:
    return tenant_key(tenant_id, "TIME", "USER", user_id)


def customer_pk(tenant_id: str, customer_id: str) -> str:
    return tenant_key(tenant_id, "TIME", "CUSTOMER", customer_id)


def project_pk(tenant_id: str, project_id: str) -> str:
    return tenant_key(tenant_id, "TIME", "PROJECT", project_id)


def all_pk(tenant_id: str) -> str:
    return tenant_key(tenant_id, "TIME", "ALL")


def uninvoiced_pk(tenant_id: str, customer_id: str) -> str:
    return tenant_key(tenant_id, "TIME", "UNINVOICED", customer_id)


class TimeEntry(VersionedItem):
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute(null=True)
    task_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    interaction_id = UnicodeAttribute(null=True)
    task_type = UnicodeAttribute(null=True)
    date = UnicodeAttribute()
    started_at = UnicodeAttribute(null=True)
    ended_at = UnicodeAttribute(null=True)
    minutes = NumberAttribute()
    billable = BooleanAttribute()
    billable_source = UnicodeAttribute()
    category = UnicodeAttribute()
    rate = NumberAttribute()
    rate_source = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute(default="open")
    timesheet_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    timer_id = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    by_user = GSI1()
    by_customer = GSI2()
    by_project = GSI3()
    by_tenant = GSI4()
    uninvoiced = GSI5()

    SORT = "ENTRY"

    @staticmethod
    def pk(tenant_id: str, entry_id: str) -> str:
        return tenant_key(tenant_id, "TIMEENTRY", entry_id)

    def index(self) -> TimeEntry:
        """Set the index keys from the fields (the sparse uninvoiced key only while the entry is
        approved, billable and on no invoice)."""
        sort = date_key(self.date, self.id)
        self.GSI1PK, self.GSI1SK = user_pk(self.tenant_id, self.user_id), sort
        self.GSI2PK, self.GSI2SK = customer_pk(self.tenant_id, self.customer_id), sort
        project = project_pk(self.tenant_id, self.project_id) if self.project_id else None
        self.GSI3PK, self.GSI3SK = project, sort if project else None
        self.GSI4PK, self.GSI4SK = all_pk(self.tenant_id), sort
        open_for_invoice = self.status == "approved" and self.billable and not self.invoice_id
        self.GSI5PK, self.GSI5SK = (uninvoiced_pk(self.tenant_id, self.customer_id), sort) if open_for_invoice \
            else (None, None)
        return self


class Timer(TableItem):
    """The user's running timer: one item per user, so two running timers cannot exist."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    started_at = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute(null=True)
    task_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    interaction_id = UnicodeAttribute(null=True)
    task_type = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)

    SORT = "TIMER"

    @staticmethod
    def pk(tenant_id: str, user_id: str) -> str:
        return tenant_key(tenant_id, "TIMER", user_id)


TIMESHEET_STATUSES = ("open", "submitted", "approved", "rejected")
LOCKING = ("submitted", "approved")  # a week in these refuses entry writes


class Timesheet(VersionedItem):
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    week = UnicodeAttribute()  # 2026-W23
    starts_on = UnicodeAttribute()
    ends_on = UnicodeAttribute()
    status = UnicodeAttribute(default="open")
    submitted_at = UnicodeAttribute(null=True)
    decided_at = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    by_status = GSI1()

    SORT = "TIMESHEET"

    @staticmethod
    def pk(tenant_id: str, timesheet_id: str) -> str:
        return tenant_key(tenant_id, "TIMESHEET", timesheet_id)

    @staticmethod
    def status_pk(tenant_id: str, status: str) -> str:
        return tenant_key(tenant_id, "TIMESHEETS", status)


def timesheet_id(user_id: str, week: str) -> str:
    return f"{user_id}--{week}"


class TimesheetHistory(TableItem):
    timesheet_id = UnicodeAttribute()
    from_status = UnicodeAttribute()
    to_status = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    at = UnicodeAttribute()

    PREFIX = "HISTORY#"


class _TimeConfiguration(VersionedItem):
    """The tenant's time configuration items share one partition, one item per SORT."""

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "TIMESETTINGS")


class TimeSettings(_TimeConfiguration):
    """PUT /time/settings: billable flags (task types, projects, customers, tenant default),
    categories, self approval, invoice rounding."""

    settings = JSONAttribute(default=dict)

    SORT = "SETTINGS"


class RateRules(_TimeConfiguration):
    """PUT /rates: the rate rules, most specific wins (timekeeping/rules.py)."""

    rules = JSONAttribute(default=list)

    SORT = "RATES"


class TimeRollup(TableItem):
    """One day's minutes for one combination of the report's dimensions, ADDed by the room's
    consumer of its own entry events (timekeeping/consumers.py)."""

    date = UnicodeAttribute()
    user_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute(null=True)
    task_id = UnicodeAttribute(null=True)
    task_type = UnicodeAttribute(null=True)
    category = UnicodeAttribute()
    currency = UnicodeAttribute()
    minutes = NumberAttribute(default=0)
    billable_minutes = NumberAttribute(default=0)
    amount = NumberAttribute(default=0)
    entries = NumberAttribute(default=0)

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "TIMEROLLUP")
