"""Invoices: drafts from approved billable time (claims keep each entry on one invoice), edits
of drafts, finalize (the next gap-free number), send, payments, void, and reads.

A draft over many entries cannot be one transaction (100 items): it is written `drafting` —
invisible, in no list, 404 to every other request — then its claims in batches, then turned
`draft` with its lines and its Invoice.Drafted event in one last transaction. A failure on the
way releases what it claimed and deletes the invoice: all or nothing as anyone can see it."""

from __future__ import annotations

import time
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version
from chalicelib.customers import service as customers
from chalicelib.team import service as team
from chalicelib.work import service as work

from . import claims, credits, lines, time_source
from . import settings as billing_settings
from .events import InvoiceDrafted, InvoiceFinalized, InvoiceLinesReleased, InvoicePaid, InvoiceSent, InvoiceVoided
from .models import DRAFT, DRAFTING, FINALIZED, PAID, SENT, VOID, Invoice, InvoiceNumber, InvoiceSeries

DRAFTING_LEASE_SECONDS = 300
MAX_ENTRIES_PER_INVOICE = 2000  # lines and their entry ids stay far below DynamoDB's 400 KB item
FINALIZE_ATTEMPTS = 50
OVERDUE = "overdue"
EDITABLE = ("due_date", "terms", "notes", "po_number")
RECIPIENT_CONTACTS, MAX_RECIPIENTS = 100, 10  # an invoice email: contacts read, addresses it goes to


# ---------- reading ----------


def _invoice(tenant_id: str, invoice_id: str, consistent: bool = True) -> Invoice:
    try:
        invoice = Invoice.get(Invoice.pk(tenant_id, invoice_id), Invoice.SORT, consistent_read=consistent)
    except Invoice.DoesNotExist as missing:
        raise NotFound(f"invoice {invoice_id} not found") from missing
    if invoice.status == DRAFTING:
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice


def today_for(tenant_id: str) -> date:
    zone = team.tenant_settings(tenant_id).get("timezone") or "UTC"
    return datetime.now(ZoneInfo(zone)).date()


def shown_status(invoice: Invoice, today: date) -> str:
    """The status as read: a sent invoice past its due date reads `overdue`."""
    if invoice.status == SENT and invoice.due_date and date.fromisoformat(invoice.due_date) < today:
        return OVERDUE
    return invoice.status


def invoice_view(invoice: Invoice, today: date) -> dict[str, Any]:
    return {
        "id": invoice.id, "number": invoice.number, "customer_id": invoice.customer_id,
        "customer_name": invoice.customer_name, "from": invoice.period_from, "to": invoice.period_to,
        "group_by": invoice.group_by, "status": shown_status(invoice, today), "currency": invoice.currency,
        "lines": [{k: v for k, v in line.items() if k != "group"} for line in invoice.lines],
        "total": int(invoice.total), "amount_paid": int(invoice.amount_paid or 0),
        "balance": int(invoice.total) - int(invoice.amount_paid or 0), "payments": invoice.payments or [],
        "issue_date": invoice.issue_date, "due_date": invoice.due_date, "terms": invoice.terms,
        "notes": invoice.notes, "po_number": invoice.po_number, "sent_at": invoice.sent_at,
        "voided_at": invoice.voided_at, "version": invoice.version, "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
    }


def get_invoice(principal: Principal, invoice_id: str) -> Invoice:
    require(principal, "invoices:read")
    return _invoice(principal.tenant_id, invoice_id)


def list_invoices(principal: Principal, filters: dict[str, Any], limit: int, cursor: str | None) -> Page[Invoice]:
    require(principal, "invoices:read")
    tenant = principal.tenant_id
    low, high = filters.get("from") or "0000", (filters.get("to") or "9999") + "#~"
    sort_range = None
    if filters.get("customer_id"):
        source, pk = Invoice.by_customer, Invoice.customer_pk(tenant, filters["customer_id"])
        sort_range = Invoice.GSI2SK.between(low, high)
    else:
        source, pk = Invoice.by_date, Invoice.list_pk(tenant)
        sort_range = Invoice.GSI1SK.between(low, high)
    status = filters.get("status")
    condition, keep = None, None
    if status == OVERDUE:
        today = today_for(tenant)
        condition = Invoice.status == SENT
        keep = lambda invoice: shown_status(invoice, today) == OVERDUE  # noqa: E731
    elif status == SENT:
        today = today_for(tenant)
        condition = Invoice.status == SENT
        keep = lambda invoice: shown_status(invoice, today) == SENT  # noqa: E731
    elif status:
        condition = Invoice.status == status
    return read_page([query_reader(source, pk, sort_range, condition, newest_first=True, keep=keep)], limit, cursor)


# ---------- drafting ----------


def _customer(principal: Principal, customer_id: str) -> Any:
    plan = ReadPlan()
    answer = customers.customer_for(plan, principal, customer_id)
    plan.run()
    try:
        return answer()
    except NotFound as missing:
        raise validation_error("customer_id", "no such customer") from missing


def _currency_of(entries: list[Any], wanted: str | None, fallback: str) -> str:
    found = sorted({entry.currency or fallback for entry in entries})
    if wanted:
        return wanted
    if len(found) > 1:
        raise validation_error("currency", f"the entries are in {', '.join(found)}: draft one invoice per currency")
    return found[0] if found else fallback


def _names(tenant_id: str, entries: list[Any]) -> dict[str, str]:
    """The names a draft's lines say, by id — projects and task titles (work), people (team) —
    in one ReadPlan: one BatchGet per 100 distinct ids, however many entries."""
    plan = ReadPlan()
    work_names = work.names_for(plan, tenant_id, [e.project_id for e in entries if e.project_id],
                                [e.task_id for e in entries if e.task_id])
    people = team.user_names_for(plan, tenant_id, [e.user_id for e in entries if e.user_id])
    plan.run()
    return {**people(), **work_names()}


def draft_invoice(principal: Principal, fields: dict[str, Any]) -> Invoice:
    require(principal, "invoices:write")
    tenant, customer_id = principal.tenant_id, fields["customer_id"]
    customer = _customer(principal, customer_id)
    config = billing_settings.load(tenant)
    tenant_currency = team.tenant_settings(tenant).get("default_currency") or "USD"
    found = time_source.uninvoiced_entries(tenant, customer_id, fields["from"], fields["to"])
    currency = _currency_of(found, fields.get("currency"), tenant_currency)
    found = [entry for entry in found if (entry.currency or tenant_currency) == currency]
    if len(found) > MAX_ENTRIES_PER_INVOICE:
        raise validation_error("to", f"the period holds {len(found)} entries; one invoice bills at most "
                               f"{MAX_ENTRIES_PER_INVOICE}: draft a shorter period")
    now, invoice_id = now_iso(), new_id()
    invoice = Invoice(Invoice.pk(tenant, invoice_id), Invoice.SORT, type="Invoice", tenant_id=tenant, id=invoice_id,
                      customer_id=customer_id, customer_name=customer.name, period_from=fields["from"],
                      period_to=fields["to"], group_by=fields["group_by"], status=DRAFTING, currency=currency,
                      lines=[], total=0, terms=config["default_terms"], version=1, created_at=now, updated_at=now,
                      drafting_expires_at=int(time.time()) + DRAFTING_LEASE_SECONDS)
    start = Transaction()
    start.create(invoice, lambda: Conflict("invoice already exists"))
    start.commit()
    claimed: list[str] = []
    try:
        for batch in claims.batches([entry.id for entry in found]):
            claimed += claims.claim_batch(tenant, invoice_id, batch)
        mine = set(claimed)
        billed = [entry for entry in found if entry.id in mine]
        rounding = time_source.rounding(tenant)
        drafted = lines.time_lines(billed, fields["group_by"], rounding, _names(tenant, billed))
        drafted += credits.credit_lines(tenant, customer_id, customer.tier, fields["from"], fields["to"],
                                        config["credit_rules"], drafted)
        return _complete_draft(principal, invoice, drafted, lines.entry_amounts(billed, rounding))
    except BaseException:
        claims.release(tenant, invoice_id, claimed)
        _discard(invoice)
        raise


def _discard(invoice: Invoice) -> None:
    tx = Transaction()
    tx.delete(invoice, Invoice.status == DRAFTING)
    with suppress(Exception):  # if it stays, its claims are stale once its lease ends (claims.py)
        tx.commit()


def _complete_draft(principal: Principal, invoice: Invoice, drafted: list[dict[str, Any]],
                    amounts: dict[str, int]) -> Invoice:
    invoice.status = DRAFT
    invoice.lines, invoice.total = drafted, lines.invoice_total(drafted)
    index = invoice.index_keys()
    actions = [Invoice.status.set(DRAFT), Invoice.lines.set(drafted), Invoice.total.set(invoice.total),
               Invoice.drafting_expires_at.remove()]
    actions += [getattr(Invoice, name).set(value) for name, value in index.items()]
    tx = Transaction()
    tx.update(invoice, actions, Invoice.status == DRAFTING,
              lambda: Conflict("the draft's lease ran out before it was complete; draft again"))
    audit.record(tx, principal, "create", "invoice", invoice.id,
                 {"status": {"before": None, "after": DRAFT}, "total": {"before": None, "after": invoice.total}})
    tx.publish(InvoiceDrafted(invoice_id=invoice.id, customer_id=invoice.customer_id,
                              entry_ids=lines.entry_ids(drafted), amounts=amounts).event(principal.tenant_id))
    tx.commit()
    return _invoice(principal.tenant_id, invoice.id)


# ---------- editing drafts ----------


def _draft(principal: Principal, invoice_id: str) -> Invoice:
    require(principal, "invoices:write")
    invoice = _invoice(principal.tenant_id, invoice_id)
    if invoice.status != DRAFT:
        raise Conflict(f"invoice {invoice_id} is {invoice.status}: only a draft can be edited")
    return invoice


def _changed_meanwhile(invoice_id: str) -> Conflict:
    return Conflict(f"invoice {invoice_id} was changed by another request; reload and retry")


def _write(principal: Principal, invoice: Invoice, actions: list[Any], changes: dict[str, Any],
           tx: Transaction | None = None, events: list[Any] | None = None, status: str | None = None) -> Invoice:
    tx = tx or Transaction()
    condition = Invoice.version == invoice.version
    if status is not None:
        condition &= Invoice.status == status
    actions = [*actions, Invoice.version.add(1), Invoice.updated_at.set(now_iso())]
    tx.update(invoice, actions, condition, lambda: _changed_meanwhile(invoice.id))
    audit.record(tx, principal, "update", "invoice", invoice.id, changes)
    if events:
        tx.publish(*events)
    tx.commit()
    return _invoice(principal.tenant_id, invoice.id)


def update_invoice(principal: Principal, invoice_id: str, changes: dict[str, Any], expected_version: int) -> Invoice:
    invoice = _draft(principal, invoice_id)
    require_version(invoice, expected_version, "invoice")
    before = {name: getattr(invoice, name) for name in EDITABLE}
    changed = audit.diff(before, {**before, **changes})
    if not changed:
        return invoice
    actions = [getattr(Invoice, name).set(changes[name]) if changes[name] is not None
               else getattr(Invoice, name).remove() for name in changed]
    return _write(principal, invoice, actions, changed)


def _set_lines(invoice: Invoice, new_lines: list[dict[str, Any]]) -> tuple[list[Any], dict[str, Any]]:
    new_lines = lines.with_credits_recomputed(new_lines)
    total = lines.invoice_total(new_lines)
    return ([Invoice.lines.set(new_lines), Invoice.total.set(total)],
            {"total": {"before": int(invoice.total), "after": total}})


def add_line(principal: Principal, invoice_id: str, fields: dict[str, Any]) -> Invoice:
    invoice = _draft(principal, invoice_id)
    line = lines.manual_line(fields["description"], fields["quantity"], fields["rate"], fields.get("service_date"))
    actions, changes = _set_lines(invoice, [*invoice.lines, line])
    return _write(principal, invoice, actions, changes)


def delete_line(principal: Principal, invoice_id: str, line_id: str) -> Invoice:
    invoice = _draft(principal, invoice_id)
    line = next((line for line in invoice.lines if line["id"] == line_id), None)
    if line is None:
        raise NotFound(f"line {line_id} not found on invoice {invoice_id}")
    actions, changes = _set_lines(invoice, [kept for kept in invoice.lines if kept["id"] != line_id])
    released = list(line.get("entry_ids", []))
    tx = Transaction()
    first, rest = released[:claims.BATCH - 1], released[claims.BATCH - 1:]
    claims.delete_in(tx, principal.tenant_id, invoice_id, first)
    events = [InvoiceLinesReleased(invoice_id=invoice_id, customer_id=invoice.customer_id,
                                   entry_ids=released).event(principal.tenant_id)] if released else []
    shown = _write(principal, invoice, actions, changes, tx, events)
    claims.release(principal.tenant_id, invoice_id, rest)  # if this stops half-way, the rest are stale
    return shown


# ---------- finalize, send, pay, void ----------


def _series_item(tenant_id: str, series: str) -> InvoiceSeries:
    try:
        return InvoiceSeries.get(InvoiceSeries.pk(tenant_id), series, consistent_read=True)
    except InvoiceSeries.DoesNotExist:
        return InvoiceSeries(InvoiceSeries.pk(tenant_id), series, type="InvoiceSeries", tenant_id=tenant_id, last=0)


class _SeriesMoved(Conflict):
    pass


class _NumberUsed(Conflict):
    pass


def finalize(principal: Principal, invoice_id: str) -> Invoice:
    """Give the draft the next number of the series, in one transaction with the series'
    counter (conditional on the value read) and the number's uniqueness item: concurrent
    finalizes take consecutive numbers, a retry of a finalized invoice answers it unchanged."""
    require(principal, "invoices:write")
    tenant = principal.tenant_id
    config = billing_settings.load(tenant)
    for _ in range(FINALIZE_ATTEMPTS):
        invoice = _invoice(tenant, invoice_id)
        if invoice.status in (FINALIZED, SENT, PAID) and invoice.number:
            return invoice  # a retried request: already done
        if invoice.status != DRAFT:
            raise Conflict(f"invoice {invoice_id} is {invoice.status}: only a draft can be finalized")
        if not invoice.lines:
            raise validation_error("lines", "an invoice without lines cannot be finalized")
        if int(invoice.total) < 0:
            raise validation_error("lines", "the total is negative: an invoice cannot be finalized below zero")
        today = today_for(tenant)
        series = billing_settings.series_of(config["number_format"], today)
        counter = _series_item(tenant, series)
        seq = int(counter.last or 0) + 1
        number = billing_settings.render_number(series, seq)
        due = invoice.due_date or (today + timedelta(days=billing_settings.TERMS_DAYS[invoice.terms or "net_30"])
                                   ).isoformat()
        invoice.issue_date = today.isoformat()
        index = invoice.index_keys()
        tx = Transaction()
        tx.update(invoice, [Invoice.status.set(FINALIZED), Invoice.number.set(number),
                            Invoice.issue_date.set(invoice.issue_date), Invoice.due_date.set(due),
                            Invoice.version.add(1), Invoice.updated_at.set(now_iso()),
                            *[getattr(Invoice, name).set(value) for name, value in index.items()]],
                  (Invoice.version == invoice.version) & (Invoice.status == DRAFT),
                  lambda: _changed_meanwhile(invoice_id))
        guard = (InvoiceSeries.PK.does_not_exist() if seq == 1 else InvoiceSeries.last == seq - 1)
        tx.update(counter, [InvoiceSeries.last.set(seq), InvoiceSeries.type.set("InvoiceSeries"),
                            InvoiceSeries.tenant_id.set(tenant)], guard, lambda: _SeriesMoved("series moved"))
        tx.create(InvoiceNumber(InvoiceNumber.pk(tenant, number), InvoiceNumber.SORT, type="InvoiceNumber",
                                tenant_id=tenant, invoice_id=invoice_id), lambda number=number: _NumberUsed(number))
        audit.record(tx, principal, "finalize", "invoice", invoice_id, {"number": {"before": None, "after": number}})
        tx.publish(InvoiceFinalized(invoice_id=invoice_id, customer_id=invoice.customer_id, number=number,
                                    total=int(invoice.total), currency=invoice.currency).event(tenant))
        try:
            tx.commit()
            return _invoice(tenant, invoice_id)
        except _SeriesMoved:
            continue
        except _NumberUsed:
            _skip_used(tenant, series, seq)
            continue
        except Conflict:
            continue  # the invoice changed: read it again (a concurrent finalize of it answers above)
    raise Conflict("many invoices are being finalized right now; retry")


def _skip_used(tenant_id: str, series: str, seq: int) -> None:
    """A number of the series is already used (the format was changed back to an older one):
    move the counter past it; numbers are never given twice."""
    counter = _series_item(tenant_id, series)
    tx = Transaction()
    guard = InvoiceSeries.PK.does_not_exist() if seq == 1 else InvoiceSeries.last == seq - 1
    tx.update(counter, [InvoiceSeries.last.set(seq), InvoiceSeries.type.set("InvoiceSeries"),
                        InvoiceSeries.tenant_id.set(tenant_id)], guard, lambda: _SeriesMoved("moved"))
    with suppress(Conflict):
        tx.commit()


def send(principal: Principal, invoice_id: str) -> Invoice:
    require(principal, "invoices:write")
    invoice = _invoice(principal.tenant_id, invoice_id)
    if invoice.status in (SENT, PAID):
        return invoice
    if invoice.status != FINALIZED:
        raise Conflict(f"invoice {invoice_id} is {invoice.status}: finalize it before sending")
    event = InvoiceSent(invoice_id=invoice_id, customer_id=invoice.customer_id, number=invoice.number or "",
                        total=int(invoice.total), currency=invoice.currency, due_date=invoice.due_date,
                        to=_invoice_recipients(principal, invoice.customer_id))
    return _write(principal, invoice, [Invoice.status.set(SENT), Invoice.sent_at.set(now_iso())],
                  {"status": {"before": invoice.status, "after": SENT}}, events=[event.event(principal.tenant_id)],
                  status=FINALIZED)


def _invoice_recipients(principal: Principal, customer_id: str) -> list[str]:
    """Who an invoice is emailed to: the customer's billing contacts (among its first
    RECIPIENT_CONTACTS, by name), else its first contact by name; none without a contact."""
    listed = customers.list_contacts(principal, customer_id, RECIPIENT_CONTACTS, None).items
    billing = [contact.email for contact in listed if contact.billing]
    return (billing or [contact.email for contact in listed[:1]])[:MAX_RECIPIENTS]


def record_payment(principal: Principal, invoice_id: str, amount: int, paid_at: str) -> Invoice:
    require(principal, "invoices:write")
    invoice = _invoice(principal.tenant_id, invoice_id)
    if invoice.status not in (FINALIZED, SENT):
        raise Conflict(f"invoice {invoice_id} is {invoice.status}: payments go on finalized or sent invoices")
    balance = int(invoice.total) - int(invoice.amount_paid or 0)
    if amount > balance:
        raise validation_error("amount", f"is more than the balance due ({balance})")
    paid = int(invoice.amount_paid or 0) + amount
    payment = {"id": new_id(), "amount": amount, "paid_at": paid_at, "recorded_at": now_iso()}
    actions = [Invoice.payments.set([*(invoice.payments or []), payment]), Invoice.amount_paid.set(paid)]
    covered = paid >= int(invoice.total)
    if covered:
        actions.append(Invoice.status.set(PAID))
    event = InvoicePaid(invoice_id=invoice_id, customer_id=invoice.customer_id, amount=amount, amount_paid=paid,
                        paid=covered)
    return _write(principal, invoice, actions, {"amount_paid": {"before": int(invoice.amount_paid or 0),
                                                                "after": paid}},
                  events=[event.event(principal.tenant_id)])


def void(principal: Principal, invoice_id: str) -> Invoice:
    require(principal, "invoices:write")
    invoice = _invoice(principal.tenant_id, invoice_id)
    if invoice.status == VOID:
        return invoice
    if int(invoice.amount_paid or 0) > 0:
        raise Conflict(f"invoice {invoice_id} has payments recorded: it cannot be voided")
    released = lines.entry_ids(invoice.lines)
    tx = Transaction()
    first, rest = released[:claims.BATCH - 1], released[claims.BATCH - 1:]
    claims.delete_in(tx, principal.tenant_id, invoice_id, first)
    event = InvoiceVoided(invoice_id=invoice_id, customer_id=invoice.customer_id, number=invoice.number,
                          entry_ids=released)
    shown = _write(principal, invoice, [Invoice.status.set(VOID), Invoice.voided_at.set(now_iso())],
                   {"status": {"before": invoice.status, "after": VOID}}, tx, [event.event(principal.tenant_id)])
    claims.release(principal.tenant_id, invoice_id, rest)  # if this stops half-way, the rest are stale
    return shown


# ---------- for the portal (finalized invoices only, never drafts) ----------

PORTAL_STATUSES = (FINALIZED, SENT, PAID, VOID)


def portal_invoices(tenant_id: str, customer_id: str, limit: int = 50, cursor: str | None = None) -> Page[Invoice]:
    """A customer's invoices as its portal shows them: finalized, sent, paid or void; never a draft."""
    read = query_reader(Invoice.by_customer, Invoice.customer_pk(tenant_id, customer_id), None,
                        Invoice.status.is_in(*PORTAL_STATUSES), newest_first=True)
    return read_page([read], limit, cursor)


def portal_invoice(tenant_id: str, customer_id: str, invoice_id: str) -> Invoice:
    """One of the customer's invoices for its portal: 404 for a draft or another customer's."""
    invoice = _invoice(tenant_id, invoice_id)
    if invoice.customer_id != customer_id or invoice.status not in PORTAL_STATUSES:
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice
