"""What the time room does on events (see core/consumers.py): on its own, the daily rollups the
time report reads (rollups.py) and the entries' own status following their week's timesheet
(the lock itself is the timesheet, timesheets.py); on billing's, its entries marked invoiced on
a draft and approved again when released or voided (invoicing.py: billing never writes them)."""

from __future__ import annotations

from datetime import date

from chalicelib.billing.events import InvoiceDrafted, InvoiceLinesReleased, InvoiceVoided
from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction, now_iso

from . import invoicing, rollups
from .events import (
    TimeEntryCreated,
    TimeEntryDeleted,
    TimeEntryUpdated,
    TimesheetApproved,
    TimesheetRejected,
    TimesheetReopened,
)
from .invoicing import CHUNK
from .ledger import entry_data
from .models import TimeEntry, Timesheet
from .timesheets import parse_id, week_entries


@consumer("time_daily_rollup", TimeEntryCreated, TimeEntryUpdated, TimeEntryDeleted)
def count_in_rollup(event: Event) -> bool:
    """An entry's minutes, billable minutes and amount count in its day's rollup row."""
    data = event.typed()
    if isinstance(data, TimeEntryCreated):
        return rollups.apply(event, (data.entry, 1))
    if isinstance(data, TimeEntryDeleted):
        return rollups.apply(event, (data.entry, -1))
    assert isinstance(data, TimeEntryUpdated)
    return rollups.apply(event, (data.before, -1), (data.after, 1))


@consumer("time_follow_timesheet", TimesheetApproved, TimesheetRejected, TimesheetReopened)
def follow_timesheet(event: Event) -> int:
    """The week's entries take the status their timesheet gives them (approved, or back to
    open), in transactions of at most CHUNK entries: idempotent and order-tolerant, since it
    reads the timesheet as it is now, not as the event says."""
    sheet_id = str(event.data["timesheet_id"])  # each of the three names its timesheet
    user_id, _ = parse_id(sheet_id)
    try:
        sheet = Timesheet.get(Timesheet.pk(event.tenant_id, sheet_id), Timesheet.SORT, consistent_read=True)
    except Timesheet.DoesNotExist:
        return 0
    wanted = "approved" if sheet.status == "approved" else "open"
    entries = [e for e in week_entries(event.tenant_id, user_id, date.fromisoformat(sheet.starts_on),
                                       date.fromisoformat(sheet.ends_on))
               if e.timesheet_id == sheet_id and e.status != wanted and e.status != "invoiced" and not e.invoice_id]
    for start in range(0, len(entries), CHUNK):
        tx = Transaction()
        for entry in entries[start:start + CHUNK]:
            before = entry_data(entry)
            entry.status, entry.version, entry.updated_at = wanted, entry.version + 1, now_iso()
            entry.index()
            tx.put(entry, (TimeEntry.version == before.version) & TimeEntry.invoice_id.does_not_exist())
            tx.publish(TimeEntryUpdated(before=before, after=entry_data(entry)).event(event.tenant_id))
        tx.commit()
    return len(entries)


@consumer("time_invoice_links", InvoiceDrafted, InvoiceLinesReleased, InvoiceVoided)
def follow_invoices(event: Event) -> int:
    """A draft's entries become `invoiced` on it; released or voided, `approved` with no invoice.
    Idempotent (an entry already so is left alone) and order-tolerant per invoice."""
    data = event.typed()
    assert isinstance(data, InvoiceDrafted | InvoiceLinesReleased | InvoiceVoided)
    if isinstance(data, InvoiceDrafted):
        return invoicing.link_to_invoice(event.tenant_id, data.invoice_id, data.entry_ids)
    return invoicing.release_from_invoice(event.tenant_id, data.invoice_id, data.entry_ids)
