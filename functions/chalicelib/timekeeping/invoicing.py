"""The billing room's reads of time entries, and what the time room does on billing's events.

Billing never writes entries: it reads them here (`billable_uninvoiced_entries`,
`entries_by_ids`) and publishes Invoice.Drafted / Invoice.LinesReleased / Invoice.Voided with
the entry ids; the time room's consumer (timekeeping/consumers.py) then sets each entry's
status `invoiced` and `invoice_id`, or back to `approved` with no invoice — idempotently, in
transactions of at most CHUNK entries. Billing guarantees (its own claim items) that an entry is
on at most one invoice at a time.

The contract with billing (chalicelib/billing/events.py declares, source bluehill.billing):
    class InvoiceDrafted:       TYPE "Invoice.Drafted";       invoice_id: str; customer_id: str; entry_ids: list[str]
    class InvoiceLinesReleased: TYPE "Invoice.LinesReleased"; invoice_id: str; entry_ids: list[str]
    class InvoiceVoided:        TYPE "Invoice.Voided";        invoice_id: str; entry_ids: list[str]
(more fields are welcome; these are the ones read here). Billing reads through
`billable_uninvoiced_entries` / `entries_by_ids` (EntryData: minutes raw, rate and amount in
minor units, currency) and rounds with `rules.round_minutes(minutes, increment, mode)`, the
tenant's increment and mode from `settings.rounding(tenant_id)`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.core.table import Transaction, now_iso, query_reader

from .events import EntryData, TimeEntryUpdated
from .ledger import entry_data, read_entries
from .models import END, TimeEntry, date_key, uninvoiced_pk

CHUNK = 90  # entries per transaction (DynamoDB's limit is 100 items; the outbox takes one)


def billable_uninvoiced_entries(tenant_id: str, customer_id: str, date_from: str, date_to: str) -> list[EntryData]:
    """A customer's approved, billable entries on no invoice, dated `date_from`..`date_to`
    (YYYY-MM-DD, inclusive), oldest first: Queries of the sparse uninvoiced index (only such
    entries have its keys), no filter. The caller has authorized the request."""
    reader = query_reader(TimeEntry.uninvoiced, uninvoiced_pk(tenant_id, customer_id),
                          TimeEntry.GSI5SK.between(date_key(date_from), date_key(date_to, END)))
    found: list[EntryData] = []
    start = None
    while True:
        items, start = reader(1000, start)
        found += [entry_data(item) for item in items]
        if start is None:
            return found


def entries_by_ids(tenant_id: str, entry_ids: Iterable[str]) -> list[EntryData]:
    """The entries at these ids that exist, in the order asked (BatchGets of 100)."""
    return [entry_data(entry) for entry in read_entries(tenant_id, entry_ids)]


def link_to_invoice(tenant_id: str, invoice_id: str, entry_ids: list[str]) -> int:
    """Billing drafted `invoice_id` with these entries: each becomes `invoiced` on it. An entry
    already on this invoice is left as it is (a replayed event changes nothing); one that is not
    approved, or is on another invoice, is skipped (billing's claim makes that not happen).
    Returns how many entries changed."""
    def change(entry: TimeEntry) -> TimeEntry | None:
        if entry.invoice_id == invoice_id or entry.status != "approved" or entry.invoice_id:
            return None
        entry.status, entry.invoice_id = "invoiced", invoice_id
        return entry

    return _apply(tenant_id, entry_ids, change, TimeEntry.status == "approved")


def release_from_invoice(tenant_id: str, invoice_id: str, entry_ids: list[str]) -> int:
    """Billing released these entries from `invoice_id` (a deleted line, a voided invoice): each
    still on that invoice returns to `approved` with no invoice."""
    def change(entry: TimeEntry) -> TimeEntry | None:
        if entry.invoice_id != invoice_id:
            return None
        entry.status, entry.invoice_id = "approved", None
        return entry

    return _apply(tenant_id, entry_ids, change, TimeEntry.invoice_id == invoice_id)


def _apply(tenant_id: str, entry_ids: list[str], change: Callable[[TimeEntry], TimeEntry | None],
           condition: Any) -> int:
    changed = 0
    entries = read_entries(tenant_id, entry_ids)
    for start in range(0, len(entries), CHUNK):
        tx = Transaction()
        for entry in entries[start:start + CHUNK]:
            before = entry_data(entry)
            after = change(entry)
            if after is None:
                continue
            after.version, after.updated_at = entry.version + 1, now_iso()
            after.index()
            tx.put(after, condition & (TimeEntry.version == before.version))
            tx.publish(TimeEntryUpdated(before=before, after=entry_data(after)).event(tenant_id))
            changed += 1
        tx.commit()
    return changed
