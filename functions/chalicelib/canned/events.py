"""Events the canned-responses room publishes (source `bluehill.tickets`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class CannedResponseCreated(EventData):
    """A canned response was created."""

    TYPE: ClassVar[str] = "CannedResponse.Created"
    SOURCE: ClassVar[str] = "bluehill.tickets"
    canned_response_id: str
