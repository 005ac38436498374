"""Events the time room publishes (source `bluehill.time`), each declared once.

Entry events carry the entry as it is (`entry`; Updated: `before` and `after`), so consumers
(the room's own daily rollup, the timeline, billing) need no read of the entry."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.time"


class EntryFields(BaseModel):
    """A time entry's fields that both its events and the API's answers carry."""

    id: str
    user_id: str
    customer_id: str
    project_id: str | None = None
    task_id: str | None = None
    ticket_id: str | None = None
    interaction_id: str | None = None
    task_type: str | None = None
    date: str
    started_at: str | None = None
    minutes: int
    billable: bool
    billable_source: str
    category: str
    status: str
    timesheet_id: str
    invoice_id: str | None = None
    version: int


class EntryData(EntryFields):
    """A time entry's fields, as events carry them (money included: consumers bill from it)."""

    model_config = ConfigDict(extra="forbid")

    rate: int
    rate_source: str
    amount: int
    currency: str


class TimeEntryCreated(_Published):
    """A time entry was recorded (manually, or by stopping a timer)."""

    TYPE: ClassVar[str] = "TimeEntry.Created"
    entry: EntryData


class TimeEntryUpdated(_Published):
    """A time entry changed (its fields, its status, its invoice): before and after."""

    TYPE: ClassVar[str] = "TimeEntry.Updated"
    before: EntryData
    after: EntryData


class TimeEntryDeleted(_Published):
    """A time entry was deleted."""

    TYPE: ClassVar[str] = "TimeEntry.Deleted"
    entry: EntryData


class TimerData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    user_id: str
    started_at: str
    customer_id: str
    project_id: str | None = None
    task_id: str | None = None
    ticket_id: str | None = None
    interaction_id: str | None = None


class TimerStarted(_Published):
    """A user started a timer."""

    TYPE: ClassVar[str] = "Timer.Started"
    timer: TimerData


class TimerStopped(_Published):
    """A timer was stopped into a time entry (`entry_id`)."""

    TYPE: ClassVar[str] = "Timer.Stopped"
    timer: TimerData
    entry_id: str
    minutes: int


class TimerDiscarded(_Published):
    """A timer was discarded: no entry."""

    TYPE: ClassVar[str] = "Timer.Discarded"
    timer: TimerData


class _TimesheetEvent(_Published):
    timesheet_id: str
    user_id: str
    week: str
    entry_ids: list[str]
    reason: str | None = None


class TimesheetSubmitted(_TimesheetEvent):
    """A user submitted their week for approval."""

    TYPE: ClassVar[str] = "Timesheet.Submitted"


class TimesheetApproved(_TimesheetEvent):
    """A week was approved: its entries are locked (their status follows, timekeeping/consumers.py)."""

    TYPE: ClassVar[str] = "Timesheet.Approved"


class TimesheetRejected(_TimesheetEvent):
    """A submitted week was sent back, with a reason."""

    TYPE: ClassVar[str] = "Timesheet.Rejected"


class TimesheetReopened(_TimesheetEvent):
    """An approved week was reopened by an owner or admin, with a reason."""

    TYPE: ClassVar[str] = "Timesheet.Reopened"
