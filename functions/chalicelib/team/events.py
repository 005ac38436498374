"""Events the team room publishes (source `bluehill.team`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import Change, EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.team"


class TenantCreated(_Published):
    """A tenant was provisioned with its first owner."""

    TYPE: ClassVar[str] = "Tenant.Created"
    owner_id: str


class TenantUpdated(_Published):
    """The tenant's settings changed (before/after per field)."""

    TYPE: ClassVar[str] = "Tenant.Updated"
    changes: dict[str, Change]


class HolidaysUpdated(_Published):
    """The tenant's holiday list was replaced."""

    TYPE: ClassVar[str] = "Holidays.Updated"
    count: int


class UserInvited(_Published):
    """A user was added to the team."""

    TYPE: ClassVar[str] = "User.Invited"
    user_id: str
    role: str


class UserUpdated(_Published):
    """A user's fields (role, name, active…) changed (before/after per field)."""

    TYPE: ClassVar[str] = "User.Updated"
    user_id: str
    changes: dict[str, Change]
