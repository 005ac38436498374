"""The SLA sweep (system scope): tickets of every tenant whose next deadline or warning is due,
marked once each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict
from chalicelib.core.events import Event, new_event
from chalicelib.core.table import Transaction
from chalicelib.sla import clock, tracker

from . import ledger, machine
from .models import Ticket, due_pk

SYSTEM = "system"


def due_in_shard(shard: int, now: datetime) -> Any:
    """Tickets of every tenant whose next deadline or warning in this shard is at or before now."""
    bound = f"{clock.format_instant(now)}#~"
    return Ticket.by_due.query(due_pk(shard), Ticket.SYSDUESK <= bound)  # noqa: SIM300


def apply_due(ticket: Ticket, now: datetime) -> list[Event]:
    """Mark what is due on one ticket, exactly once: the write is conditional on the version the
    sweep read, so a replay or a concurrent sweep finds nothing left to do."""
    after, marks = ledger.copy_ticket(ticket), []
    for target, state in ticket.sla.items():
        for kind in tracker.marks_due(state, now):
            after.sla[target] = tracker.mark(after.sla[target], kind)
            marks.append((target, kind, state["due_at"]))
    if not marks:
        return []
    after.escalation_level = int(ticket.escalation_level or 0) + len(marks)
    after.version = ticket.version + 1
    system = Principal(tenant_id=ticket.tenant_id, user_id=SYSTEM, role=SYSTEM, email="")
    tx = Transaction()
    ledger.save(tx, ticket, after)
    for target, kind, due in marks:
        text = f"SLA {target.replace('_', ' ')} {'breached' if kind == 'breached' else 'warning'}: due {due}"
        tx.put(ledger.new_message(after, "internal", SYSTEM, None, text, now))
    audit.record(tx, system, "sla_mark", "ticket", ticket.id,
                 {"escalation_level": {"before": ticket.escalation_level, "after": after.escalation_level}})
    events = [
        new_event(ticket.tenant_id, "Ticket.SLABreached" if kind == "breached" else "Ticket.SLAWarning",
                  {"ticket_id": ticket.id, "target": target, "due_at": due, "escalation_level": after.escalation_level,
                   "customer_id": ticket.customer_id,
                   **machine.measured(after, now)})
        for target, kind, due in marks
    ]
    tx.publish(*events)
    try:
        tx.commit()
    except Conflict:
        return []  # changed since it was read: whoever changed it owns the next deadline
    return events

