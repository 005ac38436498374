"""Events the portal room publishes (source `bluehill.portal`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.portal"


class CustomerPortalFirstLogin(_Published):
    """A customer's first portal sign-in (any of its people): once per customer. The templates
    room anchors projects on it (anchor source `first_portal_login`)."""

    TYPE: ClassVar[str] = "Customer.PortalFirstLogin"
    customer_id: str
    user_id: str
    logged_in_at: str


class PortalLogin(_Published):
    """A portal user signed in (a magic link exchanged)."""

    TYPE: ClassVar[str] = "Portal.Login"
    customer_id: str
    user_id: str
    month: str


class _MilestoneDecision(_Published):
    task_id: str
    project_id: str
    customer_id: str
    decided_by: str
    decided_at: str
    comment: str | None = None


class MilestoneApproved(_MilestoneDecision):
    """The customer approved a milestone marked `needs_approval`."""

    TYPE: ClassVar[str] = "Milestone.Approved"


class MilestoneChangesRequested(_MilestoneDecision):
    """The customer asked for changes on a milestone marked `needs_approval` (the comment says which)."""

    TYPE: ClassVar[str] = "Milestone.ChangesRequested"
