"""Events the follow-ups room publishes (source `bluehill.followups`), each declared once.
Every one carries the customer, so the timeline (and later notifications) can place it."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.followups"


class _FollowUpEvent(_Published):
    follow_up_id: str
    customer_id: str
    assignee_id: str
    title: str
    due_at: str
    due_date: str


class FollowUpCreated(_FollowUpEvent):
    """A follow-up was created (by hand, from a logged interaction, or as the next step of a
    completed one: `previous_id`)."""

    TYPE: ClassVar[str] = "FollowUp.Created"
    interaction_id: str | None = None
    ticket_id: str | None = None
    project_id: str | None = None
    previous_id: str | None = None


class FollowUpPostponed(_FollowUpEvent):
    """A follow-up was postponed: its due time moved from `from_due_at` to `due_at`, for a reason."""

    TYPE: ClassVar[str] = "FollowUp.Postponed"
    from_due_at: str
    from_due_date: str
    reason: str
    postponements: int


class FollowUpCompleted(_FollowUpEvent):
    """A follow-up was completed with a resolution note; `next_ids` are the follow-ups it led to."""

    TYPE: ClassVar[str] = "FollowUp.Completed"
    completed_at: str
    on_time: bool
    days_late: int
    next_ids: list[str]


class FollowUpCancelled(_FollowUpEvent):
    """A follow-up was cancelled, for a reason."""

    TYPE: ClassVar[str] = "FollowUp.Cancelled"
    reason: str


class FollowUpOverdue(_FollowUpEvent):
    """A follow-up's due time passed (in its assignee's timezone) while it was open: published
    once per due time by the follow-up sweep."""

    TYPE: ClassVar[str] = "FollowUp.Overdue"
    overdue_at: str
