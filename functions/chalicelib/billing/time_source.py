"""What billing reads of the time room, through its service (reads only; billing never writes
a time entry — the time room follows the invoice events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.timekeeping import invoicing
from chalicelib.timekeeping import settings as time_settings

from .lines import Rounding


def uninvoiced_entries(tenant_id: str, customer_id: str, date_from: str, date_to: str) -> list[Any]:
    """The customer's approved, billable, not yet invoiced entries dated in the period."""
    return invoicing.billable_uninvoiced_entries(tenant_id, customer_id, date_from, date_to)


def entries_by_ids(tenant_id: str, entry_ids: Sequence[str]) -> list[Any]:
    return invoicing.entries_by_ids(tenant_id, list(entry_ids))


def rounding(tenant_id: str) -> Rounding:
    """The tenant's invoice rounding (a time setting: PUT /time/settings)."""
    increment, mode = time_settings.rounding(tenant_id)
    return Rounding(increment, mode)
