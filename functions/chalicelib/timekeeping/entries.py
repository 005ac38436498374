"""Time entries: record (manual), read, change, delete, list (and CSV), re-rate.

Every write of an entry carries the lock rules of timekeeping/ledger.py: the entry's own
version and invoice, and a condition check of its week's timesheet (the lock approval sets)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Forbidden, NotFound, PayloadTooLarge, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import Reach, require, sees_financials
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version

from . import rules
from .events import TimeEntryCreated, TimeEntryDeleted, TimeEntryUpdated
from .ledger import (
    check_week_open,
    effective_status,
    entry_data,
    on_entry_refused,
    read_timesheets,
    refuse_locked,
    unlocked_condition,
)
from .models import END, TimeEntry, all_pk, customer_pk, date_key, project_pk, timesheet_id, user_pk
from .settings import Context, context
from .targets import Target, billable_of, category_of, rate_of, resolve

MAX_MINUTES = 24 * 60
FINANCIAL_FIELDS = ("rate", "rate_source", "amount", "currency")
CSV_MAX_ROWS = 10_000
KEYED_FILTERS = ("user_id", "customer_id", "project_id")
RERATE_CHUNK = 45  # entries per transaction: each may add its week's check, and the outbox one item


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def minutes_between(started_at: str, ended_at: str) -> int:
    """Whole minutes worked between two instants (to the nearest minute)."""
    seconds = (_instant(ended_at) - _instant(started_at)).total_seconds()
    return int((seconds + 30) // 60)


def acting_user(principal: Principal, reach: Reach, user_id: str | None) -> str:
    """Whose time: your own; owners and admins may name anyone."""
    if user_id is None or user_id == principal.user_id:
        return principal.user_id
    if reach is not Reach.ALL:
        raise Forbidden(f"role '{principal.role}' may record and read only their own time")
    return user_id


def _when(fields: dict[str, Any], ctx: Context) -> tuple[str, int, str | None, str | None]:
    started, ended = fields.get("started_at"), fields.get("ended_at")
    if started and ended:
        minutes = minutes_between(started, ended)
        if minutes < 1:
            raise validation_error("ended_at", "must be at least a minute after started_at")
        day = fields.get("date") or rules.local_date(started, ctx.timezone).isoformat()
    else:
        if fields.get("minutes") is None:
            raise validation_error("minutes", "send date and minutes, or started_at and ended_at")
        if not fields.get("date"):
            raise validation_error("date", "send date and minutes, or started_at and ended_at")
        minutes, day = fields["minutes"], fields["date"]
    if minutes > MAX_MINUTES:
        raise validation_error("minutes" if not ended else "ended_at", f"an entry is at most {MAX_MINUTES} minutes")
    return day, minutes, started, ended


def build_entry(principal: Principal, user_id: str, target: Target, ctx: Context, fields: dict[str, Any],
                entry_id: str | None = None) -> TimeEntry:
    """A new entry with billable, category, rate and amount decided by the rules."""
    day, minutes, started, ended = _when(fields, ctx)
    billable, source = billable_of(ctx, target, fields.get("billable"))
    rate = rate_of(ctx, target, user_id)
    now = now_iso()
    entry_id = entry_id or new_id()
    return TimeEntry(
        TimeEntry.pk(principal.tenant_id, entry_id), TimeEntry.SORT, type="TimeEntry",
        tenant_id=principal.tenant_id, id=entry_id, user_id=user_id, **target.fields(), date=day, started_at=started,
        ended_at=ended, minutes=minutes, billable=billable, billable_source=source,
        category=category_of(ctx, target, fields.get("category"), fields.get("interaction_type")),
        rate=rate.amount, rate_source=rate.source, amount=rules.amount_of(minutes, rate.amount) if billable else 0,
        currency=rate.currency, status="open", timesheet_id=timesheet_id(user_id, ctx.week_of(day)),
        notes=fields.get("notes"), timer_id=fields.get("timer_id"), version=1, created_at=now, updated_at=now,
    )


def stage_create(tx: Transaction, principal: Principal, entry: TimeEntry) -> None:
    entry.index()
    check_week_open(tx, principal.tenant_id, entry.timesheet_id, f"an entry dated {entry.date}")
    tx.create(entry, on_entry_refused(entry.id))
    tx.publish(TimeEntryCreated(entry=entry_data(entry)).event(principal.tenant_id))


def create_entry(principal: Principal, fields: dict[str, Any]) -> TimeEntry:
    reach = require(principal, "time:write")
    user_id = acting_user(principal, reach, fields.get("user_id"))
    target, ctx = resolve(principal, fields)
    if user_id != principal.user_id:
        try:
            context(principal.tenant_id, user_id)
        except NotFound as missing:
            raise validation_error("user_id", f"user {user_id} does not exist") from missing
    entry = build_entry(principal, user_id, target, ctx, fields)
    tx = Transaction()
    stage_create(tx, principal, entry)
    tx.commit()
    return entry


def _load(principal: Principal, entry_id: str, action: str) -> TimeEntry:
    reach = require(principal, action)
    try:
        entry = TimeEntry.get(TimeEntry.pk(principal.tenant_id, entry_id), TimeEntry.SORT, consistent_read=True)
    except TimeEntry.DoesNotExist as missing:
        raise NotFound(f"time entry {entry_id} not found") from missing
    if reach is not Reach.ALL and entry.user_id != principal.user_id:
        raise NotFound(f"time entry {entry_id} not found")
    return entry


def get_entry(principal: Principal, entry_id: str) -> dict[str, Any]:
    entry = _load(principal, entry_id, "time:read")
    return entry_views(principal, [entry])[0]


def update_entry(principal: Principal, entry_id: str, changes: dict[str, Any], expected_version: int) -> dict[str, Any]:
    entry = _load(principal, entry_id, "time:write")
    ctx = context(principal.tenant_id)
    sheets = read_timesheets(principal.tenant_id, [entry.timesheet_id])
    refuse_locked(entry, sheets.get(entry.timesheet_id))
    require_version(entry, expected_version, "time entry")
    before = entry_data(entry)
    if {"date", "minutes", "started_at", "ended_at"} & changes.keys():
        merged = {"date": entry.date, "minutes": entry.minutes, **changes}
        if "started_at" not in changes and "ended_at" not in changes:
            merged.update(started_at=None, ended_at=None)
        elif not (merged.get("started_at") and merged.get("ended_at")):
            merged.setdefault("started_at", entry.started_at)
            merged.setdefault("ended_at", entry.ended_at)
        entry.date, entry.minutes, entry.started_at, entry.ended_at = _when(merged, ctx)
    if "billable" in changes:
        target = Target(entry.customer_id, entry.project_id, entry.task_id, entry.ticket_id, entry.interaction_id,
                        entry.task_type)
        entry.billable, entry.billable_source = billable_of(ctx, target, changes["billable"])
    if "category" in changes:
        entry.category = category_of(ctx, Target(entry.customer_id), changes["category"])
    if "notes" in changes:
        entry.notes = changes["notes"]
    entry.amount = rules.amount_of(entry.minutes, entry.rate) if entry.billable else 0
    entry.timesheet_id = timesheet_id(entry.user_id, ctx.week_of(entry.date))
    entry.version, entry.updated_at = entry.version + 1, now_iso()
    entry.index()
    tx = Transaction()
    check_week_open(tx, principal.tenant_id, before.timesheet_id, f"time entry {entry_id}")
    if entry.timesheet_id != before.timesheet_id:
        check_week_open(tx, principal.tenant_id, entry.timesheet_id, f"an entry dated {entry.date}")
    tx.put(entry, unlocked_condition(before), on_entry_refused(entry_id))
    tx.publish(TimeEntryUpdated(before=before, after=entry_data(entry)).event(principal.tenant_id))
    tx.commit()
    return entry_views(principal, [entry])[0]


def delete_entry(principal: Principal, entry_id: str) -> None:
    entry = _load(principal, entry_id, "time:write")
    sheets = read_timesheets(principal.tenant_id, [entry.timesheet_id])
    refuse_locked(entry, sheets.get(entry.timesheet_id))
    tx = Transaction()
    check_week_open(tx, principal.tenant_id, entry.timesheet_id, f"time entry {entry_id}")
    tx.delete(entry, unlocked_condition(entry), on_entry_refused(entry_id))
    tx.publish(TimeEntryDeleted(entry=entry_data(entry)).event(principal.tenant_id))
    audit.record(tx, principal, "delete", "time_entry", entry_id, audit.diff(entry_data(entry).model_dump(), {}))
    tx.commit()


# ---------- reading ----------

def entry_views(principal: Principal, entries: list[TimeEntry], sheets: dict[str, Any] | None = None) -> list[dict]:
    """Entries as a reader sees them: the status their week's timesheet gives them (see
    ledger.effective_status), and no rate or amount for those who may not see money."""
    if sheets is None:
        sheets = read_timesheets(principal.tenant_id, {e.timesheet_id for e in entries}) if entries else {}
    money = sees_financials(principal)
    views = []
    for entry in entries:
        view = {**entry_data(entry).model_dump(), "ended_at": entry.ended_at, "notes": entry.notes,
                "status": effective_status(entry, sheets.get(entry.timesheet_id)),
                "created_at": entry.created_at, "updated_at": entry.updated_at}
        if not money:
            for name in FINANCIAL_FIELDS:
                view.pop(name, None)
        views.append(view)
    return views


def _list_source(principal: Principal, reach: Reach, filters: dict[str, Any]) -> Any:
    tenant = principal.tenant_id
    if reach is not Reach.ALL:
        filters["user_id"] = acting_user(principal, reach, filters.get("user_id"))
    low = date_key(filters["from"]) if filters.get("from") else "0"
    high = date_key(filters["to"], END) if filters.get("to") else END
    for field_name, index, pk in (("project_id", TimeEntry.by_project, project_pk),
                                  ("user_id", TimeEntry.by_user, user_pk),
                                  ("customer_id", TimeEntry.by_customer, customer_pk)):
        if filters.get(field_name):
            sort_attr = getattr(TimeEntry, f"{index.Meta.index_name}SK")
            return field_name, index, pk(tenant, filters[field_name]), sort_attr.between(low, high)
    return None, TimeEntry.by_tenant, all_pk(tenant), TimeEntry.GSI4SK.between(low, high)


def list_entries(principal: Principal, filters: dict[str, Any], limit: int, cursor: str | None) -> Page[dict]:
    reach = require(principal, "time:read")
    keyed, index, pk, key_condition = _list_source(principal, reach, filters)
    condition = None
    for name in ("user_id", "customer_id", "project_id", "task_id", "billable"):
        if name != keyed and filters.get(name) is not None:
            clause = getattr(TimeEntry, name) == filters[name]
            condition = clause if condition is None else condition & clause
    wanted_status = filters.get("status")
    sheets: dict[str, Any] = {}

    def with_sheets(found: list[TimeEntry]) -> list[TimeEntry | None]:
        missing = {e.timesheet_id for e in found} - sheets.keys()
        if missing:
            sheets.update(read_timesheets(principal.tenant_id, missing))
        return list(found)

    reader = query_reader(index, pk, key_condition, condition, resolve=with_sheets if wanted_status else None,
                          keep=(lambda e: effective_status(e, sheets.get(e.timesheet_id)) == wanted_status)
                          if wanted_status else None)
    page = read_page([reader], limit, cursor)
    return Page(entry_views(principal, page.items, sheets or None), page.next_cursor)


CSV_COLUMNS = ("id", "date", "user_id", "customer_id", "project_id", "task_id", "ticket_id", "category", "minutes",
               "billable", "billable_source", "rate", "currency", "amount", "status", "invoice_id", "notes")


def entries_csv(principal: Principal, filters: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Every entry the filters match (up to CSV_MAX_ROWS), as CSV columns and rows."""
    rows: list[dict] = []
    cursor = None
    while True:
        page = list_entries(principal, dict(filters), 200, cursor)
        rows += page.items
        if len(rows) > CSV_MAX_ROWS:
            raise PayloadTooLarge(f"more than {CSV_MAX_ROWS} entries match; narrow from/to")
        cursor = page.next_cursor
        if cursor is None:
            break
    columns = [c for c in CSV_COLUMNS if sees_financials(principal) or c not in FINANCIAL_FIELDS]
    return columns, [[row.get(c) for c in columns] for row in rows]


# ---------- re-rating ----------

def rerate(principal: Principal, filters: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    """Resolve the rate again, with today's rules, for the unapproved (open or submitted week
    not locked) entries the filters match: the dry run lists what would change; otherwise the
    changes are written (in transactions of at most RERATE_CHUNK entries, each entry version-checked and
    its week checked open)."""
    require(principal, "time:rerate")
    ctx = context(principal.tenant_id)
    _, index, pk, key_condition = _list_source(principal, Reach.ALL, filters)
    reader = query_reader(index, pk, key_condition)
    changes: list[tuple[TimeEntry, dict[str, Any]]] = []
    start = None
    while True:
        found, start = reader(200, start)
        sheets = read_timesheets(principal.tenant_id, {e.timesheet_id for e in found}) if found else {}
        for entry in found:
            if effective_status(entry, sheets.get(entry.timesheet_id)) != "open":
                continue
            if any(filters.get(k) and getattr(entry, k) != filters[k] for k in KEYED_FILTERS):
                continue
            target = Target(entry.customer_id, entry.project_id, entry.task_id, entry.ticket_id)
            rate = rate_of(ctx, target, entry.user_id)
            amount = rules.amount_of(entry.minutes, rate.amount) if entry.billable else 0
            if (rate.amount, rate.currency, amount) != (entry.rate, entry.currency, entry.amount):
                changes.append((entry, {"rate": rate.amount, "rate_source": rate.source, "currency": rate.currency,
                                        "amount": amount}))
        if start is None:
            break
    if len(changes) > 5000:
        raise PayloadTooLarge("more than 5000 entries would change; narrow the filters")
    listed = [{"entry_id": e.id, "before": {"rate": e.rate, "currency": e.currency, "amount": e.amount},
               "after": c} for e, c in changes]
    if not dry_run:
        for offset in range(0, len(changes), RERATE_CHUNK):
            tx = Transaction()
            for entry, change in changes[offset:offset + RERATE_CHUNK]:
                before = entry_data(entry)
                for name, value in change.items():
                    setattr(entry, name, value)
                entry.version, entry.updated_at = entry.version + 1, now_iso()
                entry.index()
                check_week_open(tx, principal.tenant_id, entry.timesheet_id, f"time entry {entry.id}")
                tx.put(entry, unlocked_condition(before), on_entry_refused(entry.id))
                tx.publish(TimeEntryUpdated(before=before, after=entry_data(entry)).event(principal.tenant_id))
            tx.commit()
    return {"dry_run": dry_run, "count": len(listed), "changes": listed[:500]}
