"""Events the views room publishes (source `bluehill.views`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData

SOURCE = "bluehill.views"


class _ViewEvent(EventData):
    view_id: str
    kind: str
    visibility: str


class ViewCreated(_ViewEvent):
    """A saved view was created."""

    TYPE: ClassVar[str] = "View.Created"
    SOURCE: ClassVar[str] = SOURCE


class ViewUpdated(_ViewEvent):
    """A saved view was changed."""

    TYPE: ClassVar[str] = "View.Updated"
    SOURCE: ClassVar[str] = SOURCE


class ViewDeleted(_ViewEvent):
    """A saved view was deleted."""

    TYPE: ClassVar[str] = "View.Deleted"
    SOURCE: ClassVar[str] = SOURCE
