"""The follow-up sweep's schedule (sweep.py): every minute, mark what fell due overdue, once.
"Now" is the scheduled event's `time`, so a replayed event asks the same question and finds
everything it marked already gone from the due index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalice import Blueprint

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py)
from chalicelib.core.events import Event
from chalicelib.core.observability import logger
from chalicelib.core.scope import system_scope, tenant_scope

from . import dates, sweep
from .models import DUE_SHARDS

bp = Blueprint(__name__)


@dataclass
class SweepReport:
    now: str
    read: int = 0
    marked: int = 0
    events: list[Event] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"now": self.now, "follow_ups_read": self.read, "follow_ups_marked": self.marked}


def run(moment: datetime) -> SweepReport:
    report = SweepReport(now=dates.format_instant(moment))
    for shard in range(DUE_SHARDS):
        with system_scope():
            due = list(sweep.due_in_shard(shard, moment))
        for found in due:
            report.read += 1
            with tenant_scope(found.tenant_id):
                event = sweep.mark_overdue(found, moment)
            if event is not None:
                report.marked += 1
                report.events.append(event)
    return report


@bp.schedule("rate(1 minute)", name="follow_up_sweep", description="Mark follow-ups overdue once their due time passes")
def follow_up_sweep(event: Any) -> dict[str, Any]:
    summary = run(dates.parse_instant(event.time)).summary()
    logger().info("follow-up sweep", extra=summary)
    return summary
