"""Events the SLA room publishes (source `bluehill.sla`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class SlaPolicyUpdated(EventData):
    """The tenant's SLA policy was replaced (the names of the fields that changed)."""

    TYPE: ClassVar[str] = "SlaPolicy.Updated"
    SOURCE: ClassVar[str] = "bluehill.sla"
    version: int
    changes: list[str]
