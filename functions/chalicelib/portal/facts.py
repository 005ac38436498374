"""For other rooms: the portal's facts about a portal user (its contact, whether it is the
company's portal admin), read by key. Imports nothing but the portal's models, so the tickets
room may ask it without a cycle (the portal's service imports the tickets room)."""

from __future__ import annotations

from .models import PortalUser


def portal_user(tenant_id: str, user_id: str) -> PortalUser | None:
    try:
        return PortalUser.get(PortalUser.pk(tenant_id, user_id), PortalUser.SORT)
    except PortalUser.DoesNotExist:
        return None
