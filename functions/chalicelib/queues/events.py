"""Events the queues room publishes (source `bluehill.tickets`: queues belong to the help
desk), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData

SOURCE = "bluehill.tickets"


class QueueCreated(EventData):
    """A ticket queue was created."""

    TYPE: ClassVar[str] = "Queue.Created"
    SOURCE: ClassVar[str] = SOURCE
    queue_id: str
    routing: str


class QueueUpdated(EventData):
    """A ticket queue's fields changed (the names of the fields)."""

    TYPE: ClassVar[str] = "Queue.Updated"
    SOURCE: ClassVar[str] = SOURCE
    queue_id: str
    changes: list[str]
