"""Weekly timesheets: a user's ISO week (in the tenant's timezone and week start) with its
totals, and its review — submit, approve, reject, reopen — each in the timesheet's history and
the audit trail.

The timesheet item is the lock: every entry write checks it (ledger.check_week_open), so a week
is locked the moment its approval commits, in one small transaction whatever its size. The
entries' own status follows in steps (consumers.follow_timesheet, at most 90 entries a
transaction); until it lands, readers see each entry's status through its timesheet
(ledger.effective_status), so no reader sees a week half approved."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import Reach, require, sees_financials
from chalicelib.core.table import Transaction, now_iso, query_reader

from . import rules
from .entries import acting_user
from .events import TimesheetApproved, TimesheetRejected, TimesheetReopened, TimesheetSubmitted
from .ledger import Locked, effective_status
from .models import END, TimeEntry, Timesheet, TimesheetHistory, date_key, timesheet_id, user_pk
from .settings import Context, context

# status -> action -> next status
TRANSITIONS: dict[str, dict[str, str]] = {
    "open": {"submit": "submitted"},
    "rejected": {"submit": "submitted"},
    "submitted": {"approve": "approved", "reject": "rejected"},
    "approved": {"reopen": "open"},
}
EVENTS = {"submit": TimesheetSubmitted, "approve": TimesheetApproved, "reject": TimesheetRejected,
          "reopen": TimesheetReopened}


def parse_id(sheet_id: str) -> tuple[str, str]:
    user_id, sep, week = sheet_id.rpartition("--")
    if not sep or not user_id or len(week) != 8 or week[4:6] != "-W":
        raise NotFound(f"timesheet {sheet_id} not found")
    return user_id, week


def week_entries(tenant_id: str, user_id: str, first: date, last: date) -> list[TimeEntry]:
    """Every entry of a user's week (Queries of the user's partition, the dates as key condition)."""
    reader = query_reader(TimeEntry.by_user, user_pk(tenant_id, user_id),
                          TimeEntry.GSI1SK.between(date_key(first.isoformat()), date_key(last.isoformat(), END)))
    found: list[TimeEntry] = []
    start = None
    while True:
        items, start = reader(1000, start)
        found += items
        if start is None:
            return found


def _stored(tenant_id: str, sheet_id: str) -> Timesheet | None:
    try:
        return Timesheet.get(Timesheet.pk(tenant_id, sheet_id), Timesheet.SORT, consistent_read=True)
    except Timesheet.DoesNotExist:
        return None


def _new(tenant_id: str, user_id: str, week: str, ctx: Context) -> Timesheet:
    first, last = rules.week_bounds(week, ctx.week_start)
    now = now_iso()
    return Timesheet(Timesheet.pk(tenant_id, timesheet_id(user_id, week)), Timesheet.SORT, type="Timesheet",
                     tenant_id=tenant_id, id=timesheet_id(user_id, week), user_id=user_id, week=week,
                     starts_on=first.isoformat(), ends_on=last.isoformat(), status="open", version=0,
                     created_at=now, updated_at=now)


def totals(principal: Principal, entries: list[TimeEntry], first: date) -> dict[str, Any]:
    money = sees_financials(principal)
    days = {(first + timedelta(days=n)).isoformat(): 0 for n in range(7)}
    groups: dict[str, dict[str, dict[str, int]]] = {name: defaultdict(lambda: defaultdict(int))
                                                     for name in ("customer", "project", "category")}
    billable = internal = 0
    amounts: dict[str, int] = defaultdict(int)
    for entry in entries:
        days[entry.date] = days.get(entry.date, 0) + entry.minutes
        kind = "billable_minutes" if entry.billable else "internal_minutes"
        for name, key in (("customer", entry.customer_id), ("project", entry.project_id or "none"),
                          ("category", entry.category)):
            groups[name][key]["minutes"] += entry.minutes
            groups[name][key][kind] += entry.minutes
        billable += entry.minutes if entry.billable else 0
        internal += 0 if entry.billable else entry.minutes
        amounts[entry.currency] += entry.amount
    answer: dict[str, Any] = {
        "minutes": billable + internal, "billable_minutes": billable, "internal_minutes": internal,
        "by_day": [{"date": day, "minutes": minutes} for day, minutes in days.items()],
        **{f"by_{name}": [{"id": key, "minutes": v["minutes"], "billable_minutes": v["billable_minutes"],
                           "internal_minutes": v["internal_minutes"]} for key, v in sorted(group.items())]
           for name, group in groups.items()},
    }
    if money:
        answer["amounts"] = [{"currency": c, "amount": a} for c, a in sorted(amounts.items())]
    return answer


def _history(tenant_id: str, sheet_id: str) -> list[dict[str, Any]]:
    reader = query_reader(TimesheetHistory, Timesheet.pk(tenant_id, sheet_id),
                          TimesheetHistory.SK.startswith(TimesheetHistory.PREFIX), models=[TimesheetHistory])
    items, _ = reader(200, None)
    return [{"from": h.from_status, "to": h.to_status, "actor_id": h.actor_id, "reason": h.reason, "at": h.at}
            for h in items]


def view(principal: Principal, sheet: Timesheet, entries: list[TimeEntry] | None = None,
         with_history: bool = True) -> dict[str, Any]:
    first = date.fromisoformat(sheet.starts_on)
    if entries is None:
        entries = week_entries(principal.tenant_id, sheet.user_id, first, date.fromisoformat(sheet.ends_on))
    statuses = defaultdict(int)
    for entry in entries:
        statuses[effective_status(entry, sheet)] += 1
    return {"id": sheet.id, "user_id": sheet.user_id, "week": sheet.week, "starts_on": sheet.starts_on,
            "ends_on": sheet.ends_on, "status": sheet.status, "version": sheet.version,
            "submitted_at": sheet.submitted_at, "decided_at": sheet.decided_at, "decided_by": sheet.decided_by,
            "reason": sheet.reason, "entry_count": len(entries), "entry_statuses": dict(statuses),
            "totals": totals(principal, entries, first),
            "history": _history(principal.tenant_id, sheet.id) if with_history and sheet.version else []}


def _reach_sheet(principal: Principal, action: str, user_id: str) -> Reach:
    reach = require(principal, action)
    if reach is not Reach.ALL and user_id != principal.user_id:
        raise NotFound("timesheet not found")
    return reach


def get_week(principal: Principal, user_id: str | None, week: str) -> dict[str, Any]:
    reach = require(principal, "time:read")
    user = acting_user(principal, reach, user_id)
    ctx = context(principal.tenant_id, user)
    try:
        rules.week_bounds(week, ctx.week_start)
    except ValueError as bad:
        raise validation_error("week", "must be an ISO week such as 2026-W23") from bad
    sheet = _stored(principal.tenant_id, timesheet_id(user, week)) or _new(principal.tenant_id, user, week, ctx)
    return view(principal, sheet)


def get_timesheet(principal: Principal, sheet_id: str) -> dict[str, Any]:
    user_id, week = parse_id(sheet_id)
    _reach_sheet(principal, "time:read", user_id)
    ctx = context(principal.tenant_id, user_id)
    try:
        sheet = _stored(principal.tenant_id, sheet_id) or _new(principal.tenant_id, user_id, week, ctx)
    except ValueError as bad:
        raise NotFound(f"timesheet {sheet_id} not found") from bad
    return view(principal, sheet)


def list_by_status(principal: Principal, status: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The approver's queue (`status=submitted`), oldest week first; members their own only."""
    reach = require(principal, "time:read")
    keep = None if reach is Reach.ALL else (lambda sheet: sheet.user_id == principal.user_id)
    reader = query_reader(Timesheet.by_status, Timesheet.status_pk(principal.tenant_id, status), keep=keep)
    page = read_page([reader], limit, cursor)
    return Page([view(principal, sheet, with_history=False) for sheet in page.items], page.next_cursor)


def transition(principal: Principal, sheet_id: str, action: str, reason: str | None = None,
               expected_version: int | None = None) -> dict[str, Any]:
    """Move a timesheet: submit (the user, or an owner/admin), approve and reject (owner/admin,
    or the user on their own week when the tenant's self_approval is on), reopen (owner/admin).
    One transaction: the timesheet (its status is the week's lock), a history entry, the audit
    entry and the event."""
    user_id, week = parse_id(sheet_id)
    permission = {"submit": "time:write", "approve": "timesheets:approve", "reject": "timesheets:approve",
                  "reopen": "timesheets:reopen"}[action]
    reach = _reach_sheet(principal, permission, user_id)
    ctx = context(principal.tenant_id, user_id)
    if action in ("approve", "reject") and reach is not Reach.ALL and not ctx.settings.get("self_approval"):
        raise Forbidden(f"role '{principal.role}' may not {action} timesheets (the tenant's self_approval is off)")
    try:
        sheet = _stored(principal.tenant_id, sheet_id) or _new(principal.tenant_id, user_id, week, ctx)
    except ValueError as bad:
        raise NotFound(f"timesheet {sheet_id} not found") from bad
    if expected_version is not None and expected_version != sheet.version:
        raise Conflict(f"version {expected_version} is stale; the timesheet is at version {sheet.version}")
    target = TRANSITIONS.get(sheet.status, {}).get(action)
    if target is None:
        raise Conflict(f"a timesheet that is {sheet.status} cannot be {action}{'ed' if action[-1] != 'e' else 'd'}")
    first, last = date.fromisoformat(sheet.starts_on), date.fromisoformat(sheet.ends_on)
    entries = week_entries(principal.tenant_id, user_id, first, last)
    if action == "reopen" and any(e.status == "invoiced" or e.invoice_id for e in entries):
        raise Locked(f"timesheet {sheet_id} has invoiced entries; void the invoice (or release its lines) "
                     "before reopening the week", "invoice")
    before_status, before_version, now = sheet.status, sheet.version, now_iso()
    sheet.status, sheet.version, sheet.updated_at = target, sheet.version + 1, now
    sheet.reason = reason
    if action == "submit":
        sheet.submitted_at = now
    else:
        sheet.decided_at, sheet.decided_by = now, principal.user_id
    sheet.GSI1PK, sheet.GSI1SK = Timesheet.status_pk(principal.tenant_id, target), f"{week}#{user_id}"
    tx = Transaction()
    condition = Timesheet.PK.does_not_exist() if before_version == 0 else \
        (Timesheet.version == before_version) & (Timesheet.status == before_status)
    tx.put(sheet, condition, lambda: Conflict(f"timesheet {sheet_id} changed meanwhile; read it again"))
    tx.put(TimesheetHistory(sheet.PK, f"{TimesheetHistory.PREFIX}{now}#{new_id()}", type="TimesheetHistory",
                            tenant_id=principal.tenant_id, timesheet_id=sheet_id, from_status=before_status,
                            to_status=target, actor_id=principal.user_id, reason=reason, at=now))
    changes: dict[str, Any] = {"status": {"before": before_status, "after": target}}
    if reason:
        changes["reason"] = {"before": None, "after": reason}
    audit.record(tx, principal, action, "timesheet", sheet_id, changes)
    tx.publish(EVENTS[action](timesheet_id=sheet_id, user_id=user_id, week=week, entry_ids=[e.id for e in entries],
                              reason=reason).event(principal.tenant_id))
    tx.commit()
    return view(principal, sheet, entries)
