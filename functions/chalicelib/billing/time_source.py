"""What billing reads of the time room, through its service (reads only; billing never writes
a time entry — the time room follows the invoice events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def uninvoiced_entries(tenant_id: str, customer_id: str, date_from: str, date_to: str) -> list[Any]:
    """The customer's approved, billable, not yet invoiced entries dated in the period."""
    from chalicelib.time import service as time_service  # the time room (a read)

    return list(time_service.billable_uninvoiced_entries(tenant_id, customer_id, date_from, date_to))


def entries_by_ids(tenant_id: str, entry_ids: Sequence[str]) -> list[Any]:
    from chalicelib.time import service as time_service

    return list(time_service.entries_by_ids(tenant_id, list(entry_ids)))
