"""Running timers: one per user (the item's key is the user), started, stopped into an entry,
discarded. Starting a timer while one runs stops the running one in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso

from . import entries, rules
from .events import TimerData, TimerDiscarded, TimerStarted, TimerStopped
from .models import TimeEntry, Timer
from .settings import Context, context
from .targets import Target, resolve

STALE_AFTER = timedelta(hours=12)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_stale(timer: Timer, now: datetime | None = None) -> bool:
    started = datetime.fromisoformat(timer.started_at.replace("Z", "+00:00"))
    return (now or _now()) - started > STALE_AFTER


def timer_view(timer: Timer) -> dict[str, Any]:
    elapsed = int(((_now() - datetime.fromisoformat(timer.started_at.replace("Z", "+00:00"))).total_seconds()) // 60)
    return {**TimerData.model_validate(timer, from_attributes=True).model_dump(), "notes": timer.notes,
            "task_type": timer.task_type, "elapsed_minutes": max(elapsed, 0), "stale": is_stale(timer)}


def _running(tenant_id: str, user_id: str) -> Timer | None:
    try:
        return Timer.get(Timer.pk(tenant_id, user_id), Timer.SORT, consistent_read=True)
    except Timer.DoesNotExist:
        return None


def current(principal: Principal) -> Timer | None:
    require(principal, "time:read")
    return _running(principal.tenant_id, principal.user_id)


def _target_of(timer: Timer) -> Target:
    return Target(timer.customer_id, timer.project_id, timer.task_id, timer.ticket_id, timer.interaction_id,
                  timer.task_type)


def _stop_into(tx: Transaction, principal: Principal, timer: Timer, ctx: Context, fields: dict[str, Any],
               remove: bool = True) -> TimeEntry:
    """Stage the timer's entry (its week checked open) and the timer's removal (unless a new
    timer is put over it: one item, one operation in the transaction)."""
    ended = fields.get("ended_at") or now_iso()
    if fields.get("minutes") is None and is_stale(timer, datetime.fromisoformat(ended.replace("Z", "+00:00"))):
        raise Conflict(f"timer {timer.id} ran past 12 hours: it is never billed as it is; stop it with the "
                       "minutes you worked (or discard it)")
    worked = fields.get("minutes") or max(entries.minutes_between(timer.started_at, ended), 1)
    values = {"date": rules.local_date(timer.started_at, ctx.timezone).isoformat(), "minutes": worked,
              "billable": fields.get("billable"), "category": fields.get("category"),
              "notes": fields.get("notes", timer.notes), "timer_id": timer.id}
    entry = entries.build_entry(principal, timer.user_id, _target_of(timer), ctx, values)
    entry.started_at = timer.started_at
    if fields.get("minutes") is None:
        entry.ended_at = ended
    entries.stage_create(tx, principal, entry)
    if remove:
        tx.delete(timer, Timer.id == timer.id, lambda: Conflict(f"timer {timer.id} was stopped meanwhile"))
    tx.publish(TimerStopped(timer=TimerData.model_validate(timer, from_attributes=True), entry_id=entry.id,
                            minutes=entry.minutes).event(principal.tenant_id))
    return entry


def start(principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """Start a timer; a running one is stopped into its entry in the same transaction."""
    require(principal, "time:write")
    target, ctx = resolve(principal, fields)
    running = _running(principal.tenant_id, principal.user_id)
    timer = Timer(Timer.pk(principal.tenant_id, principal.user_id), Timer.SORT, type="Timer",
                  tenant_id=principal.tenant_id, id=new_id(), user_id=principal.user_id, started_at=now_iso(),
                  notes=fields.get("notes"), **target.fields())
    tx = Transaction()
    stopped = None
    if running is not None:
        stopped = _stop_into(tx, principal, running, ctx, {}, remove=False)
        tx.put(timer, Timer.id == running.id, lambda: Conflict("another timer was started meanwhile; try again"))
    else:
        tx.put(timer, Timer.PK.does_not_exist(), lambda: Conflict("another timer was started meanwhile; try again"))
    tx.publish(TimerStarted(timer=TimerData.model_validate(timer, from_attributes=True)).event(principal.tenant_id))
    tx.commit()
    return {"timer": timer_view(timer),
            "stopped": {"timer": timer_view(running), "entry": entries.entry_views(principal, [stopped])[0]}
            if running is not None and stopped is not None else None}


def _own(principal: Principal, timer_id: str) -> Timer:
    require(principal, "time:write")
    timer = _running(principal.tenant_id, principal.user_id)
    if timer is None or timer.id != timer_id:
        raise NotFound(f"timer {timer_id} not found (it is not your running timer)")
    return timer


def stop(principal: Principal, timer_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    timer = _own(principal, timer_id)
    if fields.get("minutes") is not None and fields["minutes"] < 1:
        raise validation_error("minutes", "must be at least 1")
    ctx = context(principal.tenant_id)
    tx = Transaction()
    entry = _stop_into(tx, principal, timer, ctx, fields)
    tx.commit()
    return entries.entry_views(principal, [entry])[0]


def discard(principal: Principal, timer_id: str) -> None:
    timer = _own(principal, timer_id)
    tx = Transaction()
    tx.delete(timer, Timer.id == timer.id, lambda: NotFound(f"timer {timer_id} not found"))
    tx.publish(TimerDiscarded(timer=TimerData.model_validate(timer, from_attributes=True)).event(principal.tenant_id))
    tx.commit()
