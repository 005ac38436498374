"""Events the timeline room publishes (source `bluehill.timeline`), each declared once. Every
one carries the interaction's `customer_id` (the follow-ups room files its follow-ups by it)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.timeline"


class FollowUpRequest(BaseModel):
    """A follow-up asked for while logging an interaction (the follow-ups room creates it)."""

    model_config = ConfigDict(extra="forbid")

    title: str
    due_date: str
    assignee_id: str | None = None


class _InteractionEvent(_Published):
    interaction_id: str
    customer_id: str
    version: int


class _InteractionState(_InteractionEvent):
    """The interaction as it stands after the change: what the feed shows of it."""

    type: str
    occurred_at: str
    summary: str
    direction: str | None = None
    visibility: str
    contact_ids: list[str] = Field(default_factory=list)
    project_id: str | None = None
    task_id: str | None = None
    ticket_id: str | None = None
    author_id: str
    duration_minutes: int | None = None
    sentiment: str | None = None
    tags: list[str] = Field(default_factory=list)


class InteractionCreated(_InteractionState):
    """An interaction (an email, call, meeting, note…) was logged on a customer; `follow_up`, when
    the person logging it asked for one in the same call."""

    TYPE: ClassVar[str] = "Interaction.Created"
    follow_up: FollowUpRequest | None = None


class InteractionUpdated(_InteractionState):
    """An interaction was changed; the data is the whole interaction after the change."""

    TYPE: ClassVar[str] = "Interaction.Updated"
    changes: list[str] = Field(default_factory=list)


class InteractionDeleted(_InteractionEvent):
    """An interaction was deleted: it leaves the feed (its audit trail stays)."""

    TYPE: ClassVar[str] = "Interaction.Deleted"


class InteractionMentioned(_Published):
    """Team members were @mentioned in an interaction's body (those newly mentioned by this change)."""

    TYPE: ClassVar[str] = "Interaction.Mentioned"
    interaction_id: str
    customer_id: str
    mention_ids: list[str]
    author_id: str
