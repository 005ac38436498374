"""Events the queues room publishes (source `bluehill.tickets`: queues belong to the help
desk), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.tickets"


class QueueCreated(_Published):
    """A ticket queue was created."""

    TYPE: ClassVar[str] = "Queue.Created"
    queue_id: str
    routing: str


class QueueUpdated(_Published):
    """A ticket queue's fields changed (the names of the fields)."""

    TYPE: ClassVar[str] = "Queue.Updated"
    queue_id: str
    changes: list[str]
