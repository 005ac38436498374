"""Events the tickets room publishes (source `bluehill.tickets`), each declared once."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from chalicelib.core.events import Change, EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.tickets"


class _TicketEvent(_Published):
    ticket_id: str


class Measured(_TicketEvent):
    """What the week's SLA rollup counts a change under (tickets/consumers.py): the instant of
    the change on the SLA clock and the ticket's priority and customer tier then. Absent on
    events published before the rollups moved to a consumer (counted in their transaction)."""

    at: str | None = None
    priority: str | None = None
    customer_tier: str | None = None




class TicketCreated(Measured):
    """A ticket was opened (by the team, a portal user, or as a follow-up of a closed one)."""

    TYPE: ClassVar[str] = "Ticket.Created"
    status: str
    priority: str  # type: ignore[assignment]
    customer_id: str | None = None
    assignee_id: str | None = None
    queue_id: str | None = None
    follow_up_of: str | None = None


class TicketUpdated(Measured):
    """A ticket's fields changed (before/after per field); `sla_outcomes` names the SLA targets
    this change met or missed, `open_load` the (queue, assignee) the ticket counted on as an
    open ticket before and after (null when it weighed on nobody)."""

    TYPE: ClassVar[str] = "Ticket.Updated"
    version: int
    changes: dict[str, Change]
    sla_outcomes: dict[str, Literal["met", "missed"]] = Field(default_factory=dict)
    open_load: Change | None = None


class TicketStatusChanged(_TicketEvent):
    """A ticket's status moved."""

    TYPE: ClassVar[str] = "Ticket.StatusChanged"
    from_: str = Field(alias="from")
    to: str


class TicketResolved(_TicketEvent):
    """A ticket was resolved (its CSAT survey opens)."""

    TYPE: ClassVar[str] = "Ticket.Resolved"
    resolved_at: str


class TicketClosed(_TicketEvent):
    """A ticket was closed."""

    TYPE: ClassVar[str] = "Ticket.Closed"
    closed_at: str


class TicketReopened(Measured):
    """A resolved ticket was reopened (a new resolution clock starts)."""

    TYPE: ClassVar[str] = "Ticket.Reopened"
    reopen_count: int


class TicketEscalated(_TicketEvent):
    """A ticket was escalated (a customer's words matched the policy's escalation terms)."""

    TYPE: ClassVar[str] = "Ticket.Escalated"
    reason: str
    terms: list[str]
    escalation_level: int


class TicketMessagePosted(_TicketEvent):
    """A message was posted on a ticket (public or internal, by the team or the customer)."""

    TYPE: ClassVar[str] = "Ticket.MessagePosted"
    message_id: str
    visibility: str
    author_type: str


class TicketCsatSubmitted(Measured):
    """A customer answered a resolved ticket's satisfaction survey."""

    TYPE: ClassVar[str] = "Ticket.CsatSubmitted"
    score: int
    cycle: int


class _SlaMark(Measured):
    target: str
    due_at: str
    escalation_level: int
    customer_id: str | None = None  # whose SLA it is (billing's service-credit ledger)


class TicketSLAWarning(_SlaMark):
    """An SLA target of a ticket is close to its deadline."""

    TYPE: ClassVar[str] = "Ticket.SLAWarning"


class TicketSLABreached(_SlaMark):
    """An SLA target of a ticket passed its deadline."""

    TYPE: ClassVar[str] = "Ticket.SLABreached"
