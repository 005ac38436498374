"""Events the team room publishes (source `bluehill.team`), each declared once."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.core.events import Change, EventData

SOURCE = "bluehill.team"


class TenantCreated(EventData):
    """A tenant was provisioned with its first owner."""

    TYPE: ClassVar[str] = "Tenant.Created"
    SOURCE: ClassVar[str] = SOURCE
    owner_id: str


class TenantUpdated(EventData):
    """The tenant's settings changed (before/after per field)."""

    TYPE: ClassVar[str] = "Tenant.Updated"
    SOURCE: ClassVar[str] = SOURCE
    changes: dict[str, Change]


class HolidaysUpdated(EventData):
    """The tenant's holiday list was replaced."""

    TYPE: ClassVar[str] = "Holidays.Updated"
    SOURCE: ClassVar[str] = SOURCE
    count: int


class UserInvited(EventData):
    """A user was added to the team."""

    TYPE: ClassVar[str] = "User.Invited"
    SOURCE: ClassVar[str] = SOURCE
    user_id: str
    role: str


class UserUpdated(EventData):
    """A user's fields (role, name, active…) changed (before/after per field)."""

    TYPE: ClassVar[str] = "User.Updated"
    SOURCE: ClassVar[str] = SOURCE
    user_id: str
    changes: dict[str, Change]
