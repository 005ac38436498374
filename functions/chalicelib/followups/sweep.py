"""The follow-up sweep (jobs.py): every minute, across every tenant, mark each open follow-up
whose due time has passed overdue — exactly once — and publish FollowUp.Overdue with the mark.

It reads only what is due: one Query per shard of the SYSDUE index for keys at or before the
schedule's time (the keys exist only while a follow-up is open and unmarked). Each mark is a
write conditional on the version the sweep read: a replay, a second sweep running at the same
time, or a postponement meanwhile finds the condition false and does nothing. The due instant
was fixed in the assignee's timezone when the due date was set (dates.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from chalicelib.core.errors import Conflict
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction

from . import dates, service
from .events import FollowUpOverdue
from .models import FollowUp, due_pk


def due_in_shard(shard: int, moment: datetime) -> Iterator[FollowUp]:
    """Open follow-ups of every tenant in this shard whose due instant is at or before `moment`
    (system scope: the SYSDUE index crosses tenants)."""
    bound = f"{dates.format_instant(moment)}#~"
    return FollowUp.by_due.query(due_pk(shard), FollowUp.SYSDUESK <= bound)  # noqa: SIM300


def mark_overdue(found: FollowUp, moment: datetime) -> Event | None:
    """Mark one follow-up overdue (in its tenant's scope), with its history entry, its count
    and its event; None when it was not open and due any more (someone got there first)."""
    if found.status != "open" or dates.parse_instant(found.due_at) > moment:
        return None
    change = service.Change(found.tenant_id, moment, None)
    after = service.copy(found)
    after.status, after.overdue_at = "overdue", change.iso
    tx = Transaction()
    after.version, after.updated_at = found.version + 1, change.iso
    service.index(after)
    condition = (FollowUp.version == found.version) & (FollowUp.status == "open") & (FollowUp.due_at == found.due_at)
    tx.put(after, condition, lambda: Conflict("changed since the sweep read it"))
    change.history.append(service.history_entry(after, "overdue", change.iso, None, to_due_at=after.due_at,
                                                to_due_date=after.due_date))
    change.tally.add(after, "overdue")
    event = FollowUpOverdue(**service.event_fields(after), overdue_at=change.iso).event(found.tenant_id)
    change.events.append(event)
    try:
        service.commit(tx, None, change, [])
    except Conflict:
        return None
    return event
