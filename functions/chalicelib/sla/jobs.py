"""The SLA sweep: every minute, across every tenant, mark each ticket whose next SLA warning
or deadline has passed — exactly once — and publish Ticket.SLAWarning / Ticket.SLABreached.

It reads only what is due: one Query per SYSDUE shard for keys at or before the schedule's
time. "Now" is the scheduled event's `time`, so replaying an event repeats the same question,
and every answer it already acted on has moved out of the range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalice import Blueprint

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py)
from chalicelib.core.events import Event
from chalicelib.core.observability import logger
from chalicelib.core.scope import system_scope
from chalicelib.tickets import service as tickets
from chalicelib.tickets.models import DUE_SHARDS

from .clock import parse_instant

bp = Blueprint(__name__)


@dataclass
class SweepReport:
    now: str
    tickets_read: int = 0
    tickets_marked: int = 0
    events: list[Event] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        kinds = [event.type for event in self.events]
        return {"now": self.now, "tickets_read": self.tickets_read, "tickets_marked": self.tickets_marked,
                "warnings": kinds.count("Ticket.SLAWarning"), "breaches": kinds.count("Ticket.SLABreached")}


def sweep(now: datetime) -> SweepReport:
    report = SweepReport(now=now.isoformat())
    with system_scope():
        for shard in range(DUE_SHARDS):
            for ticket in tickets.due_in_shard(shard, now):
                report.tickets_read += 1
                events = tickets.apply_due(ticket, now)
                report.tickets_marked += bool(events)
                report.events.extend(events)  # committed with the marks (the outbox)
    return report


@bp.schedule("rate(1 minute)", name="sla_sweep", description="Mark SLA warnings and breaches")
def sla_sweep(event: Any) -> dict[str, Any]:
    summary = sweep(parse_instant(event.time)).summary()
    logger().info("sla sweep", extra=summary)
    return summary
