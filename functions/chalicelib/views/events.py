"""Events the views room publishes (source `bluehill.views`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.views"


class _ViewEvent(_Published):
    view_id: str
    kind: str
    visibility: str


class ViewCreated(_ViewEvent):
    """A saved view was created."""

    TYPE: ClassVar[str] = "View.Created"


class ViewUpdated(_ViewEvent):
    """A saved view was changed."""

    TYPE: ClassVar[str] = "View.Updated"


class ViewDeleted(_ViewEvent):
    """A saved view was deleted."""

    TYPE: ClassVar[str] = "View.Deleted"
