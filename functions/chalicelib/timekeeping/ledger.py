"""What every write of an entry shares: its event shape, the lock rules (a week's timesheet and
an invoice), and the key reads of entries and timesheets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.core.errors import Conflict
from chalicelib.core.table import Transaction, read_items

from .events import EntryData
from .models import LOCKING, TimeEntry, Timesheet

ENTRY_FIELDS = tuple(EntryData.model_fields)


def entry_data(entry: TimeEntry) -> EntryData:
    return EntryData.model_validate({name: getattr(entry, name) for name in ENTRY_FIELDS})


class Locked(Conflict):
    """A write refused because the entry is locked: `locked_by` timesheet or invoice."""

    def __init__(self, detail: str, locked_by: str) -> None:
        super().__init__(detail, extensions={"locked_by": locked_by})
        self.locked_by = locked_by


def locked_by_invoice(entry_id: str) -> Locked:
    return Locked(f"time entry {entry_id} is on an invoice; it cannot be changed or deleted", "invoice")


def locked_by_timesheet(what: str, status: str = "approved") -> Locked:
    return Locked(f"{what} is in a week whose timesheet is {status}; it cannot be changed "
                  "(reopen or reject the timesheet first)", "timesheet")


def refuse_locked(entry: TimeEntry, sheet: Timesheet | None) -> None:
    """409 when the entry, or the week it is in, is locked (checked before writing; the write
    itself carries the same conditions, so a race ends the same way)."""
    if entry.status == "invoiced" or entry.invoice_id:
        raise locked_by_invoice(entry.id)
    if entry.status == "approved":
        raise locked_by_timesheet(f"time entry {entry.id}")
    if sheet is not None and sheet.status in LOCKING:
        raise locked_by_timesheet(f"time entry {entry.id}", sheet.status)


def check_week_open(tx: Transaction, tenant_id: str, sheet_id: str, what: str) -> None:
    """The entry write holds only while the week's timesheet is absent or open/rejected: the
    timesheet's status is the lock every entry write checks, in its own transaction."""
    tx.check(Timesheet, Timesheet.pk(tenant_id, sheet_id), Timesheet.SORT,
             Timesheet.PK.does_not_exist() | ~Timesheet.status.is_in(*LOCKING),
             lambda: locked_by_timesheet(what, "submitted or approved"))


def unlocked_condition(entry: TimeEntry | EntryData) -> Any:
    """The condition an entry's change or delete carries: the version read, on no invoice (the
    week's lock is the timesheet check beside it)."""
    return (TimeEntry.version == entry.version) & TimeEntry.invoice_id.does_not_exist() \
        & (TimeEntry.status != "invoiced")


def on_entry_refused(entry_id: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"time entry {entry_id} changed meanwhile (or was locked); read it again")


def read_entries(tenant_id: str, entry_ids: Iterable[str]) -> list[TimeEntry]:
    """The entries at these ids that exist (one BatchGet per 100), in the order asked."""
    ids = list(dict.fromkeys(entry_ids))
    found = {e.id: e for e in read_items(((TimeEntry.pk(tenant_id, i), TimeEntry.SORT) for i in ids), [TimeEntry])}
    return [found[i] for i in ids if i in found]


def read_timesheets(tenant_id: str, sheet_ids: Iterable[str]) -> dict[str, Timesheet]:
    keys = ((Timesheet.pk(tenant_id, i), Timesheet.SORT) for i in dict.fromkeys(sheet_ids))
    return {sheet.id: sheet for sheet in read_items(keys, [Timesheet])}


def effective_status(entry: TimeEntry, sheet: Timesheet | None) -> str:
    """The status a reader sees: the week's timesheet is the lock, and the entries' own status
    follows it in steps (a consumer of Timesheet.Approved/Reopened); until an entry's own flip
    lands, its timesheet decides — so no reader sees a week half approved."""
    if entry.status == "invoiced" or entry.invoice_id:
        return "invoiced"
    if sheet is None:  # no timesheet was ever stored for the week: the entry's own status
        return entry.status
    sheet_status = sheet.status
    return {"submitted": "submitted", "approved": "approved"}.get(sheet_status, "open")
