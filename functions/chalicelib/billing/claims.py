"""Which invoice a time entry is on: one EntryClaim item per entry, created conditionally, so
two drafts racing for the same entries each get a disjoint set. Billing never writes a time
entry; the time room follows these claims through the invoice events.

A claim is live while its invoice holds the entry. Claims left behind by a draft that died
half-way (its invoice `drafting` past its lease, or gone), by a line deletion or a void whose
later batches did not commit (the invoice no longer lists the entry) are stale: the next
draft that meets one releases it (a conditional delete) and claims the entry."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import suppress

from chalicelib.core.errors import Conflict
from chalicelib.core.table import MAX_TRANSACTION_ITEMS, Transaction, now_iso, read_items

from .lines import entry_ids as line_entry_ids
from .models import DRAFTING, VOID, EntryClaim, Invoice

BATCH = MAX_TRANSACTION_ITEMS - 2  # room for the invoice write and the outbox item
CLAIM_ATTEMPTS = 20


class EntryTaken(Conflict):
    pass


def claim_item(tenant_id: str, entry_id: str, invoice_id: str) -> EntryClaim:
    return EntryClaim(EntryClaim.pk(tenant_id, entry_id), EntryClaim.SORT, type="EntryClaim", tenant_id=tenant_id,
                      entry_id=entry_id, invoice_id=invoice_id, claimed_at=now_iso())


def batches(values: Sequence[str], size: int = BATCH) -> list[list[str]]:
    return [list(values[start:start + size]) for start in range(0, len(values), size)]


def _live(claim: EntryClaim, invoices: dict[str, Invoice], now: float) -> bool:
    invoice = invoices.get(claim.invoice_id)
    if invoice is None or invoice.status == VOID:
        return False
    if invoice.status == DRAFTING:
        return int(invoice.drafting_expires_at or 0) > now
    return claim.entry_id in set(line_entry_ids(invoice.lines))


def held(tenant_id: str, entry_ids: Iterable[str], mine: str) -> set[str]:
    """Of `entry_ids`, those a live claim of another invoice holds (stale claims are released)."""
    ids = list(entry_ids)
    if not ids:
        return set()
    claims = [c for c in read_items([(EntryClaim.pk(tenant_id, e), EntryClaim.SORT) for e in ids], [EntryClaim])
              if c.invoice_id != mine]
    if not claims:
        return set()
    owners = {c.invoice_id for c in claims}
    invoices = {i.id: i for i in read_items([(Invoice.pk(tenant_id, o), Invoice.SORT) for o in owners], [Invoice])}
    now, taken = time.time(), set()
    for claim in claims:
        if _live(claim, invoices, now):
            taken.add(claim.entry_id)
        else:
            release(tenant_id, claim.invoice_id, [claim.entry_id])
    return taken


def add_claims(tx: Transaction, tenant_id: str, invoice_id: str, entry_ids: Iterable[str]) -> None:
    for entry_id in entry_ids:
        tx.create(claim_item(tenant_id, entry_id, invoice_id),
                  lambda entry_id=entry_id: EntryTaken(f"time entry {entry_id} is on another invoice"))


def claim_batch(tenant_id: str, invoice_id: str, wanted: list[str]) -> list[str]:
    """Claim what it can of `wanted` (at most one batch) in one transaction: the ids it
    claimed. An entry another invoice claimed meanwhile is left out and the rest sent again."""
    taken = held(tenant_id, wanted, invoice_id)
    remaining = [e for e in wanted if e not in taken]
    for _ in range(CLAIM_ATTEMPTS):
        if not remaining:
            return []
        tx = Transaction()
        add_claims(tx, tenant_id, invoice_id, remaining)
        try:
            tx.commit()
            return remaining
        except EntryTaken:
            taken = held(tenant_id, remaining, invoice_id)
            remaining = [e for e in remaining if e not in taken]
    raise Conflict("the time entries are being invoiced by other requests right now; retry")


def release(tenant_id: str, invoice_id: str, entry_ids: Sequence[str]) -> None:
    """Delete `invoice_id`'s claims on `entry_ids` (those still its own), in batches."""
    for batch in batches(entry_ids, MAX_TRANSACTION_ITEMS):
        tx = Transaction()
        for entry_id in batch:
            tx.delete(EntryClaim(EntryClaim.pk(tenant_id, entry_id), EntryClaim.SORT),
                      (EntryClaim.invoice_id == invoice_id) | EntryClaim.PK.does_not_exist())
        try:
            tx.commit()
        except Exception:  # one not ours any more: release the others one by one
            for entry_id in batch:
                single = Transaction()
                single.delete(EntryClaim(EntryClaim.pk(tenant_id, entry_id), EntryClaim.SORT),
                              EntryClaim.invoice_id == invoice_id)
                with suppress(Exception):  # taken by another invoice: nothing of ours to release
                    single.commit()


def delete_in(tx: Transaction, tenant_id: str, invoice_id: str, entry_ids: Iterable[str]) -> None:
    for entry_id in entry_ids:
        tx.delete(EntryClaim(EntryClaim.pk(tenant_id, entry_id), EntryClaim.SORT),
                  EntryClaim.invoice_id == invoice_id)
