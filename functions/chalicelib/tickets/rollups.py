"""The weekly SLA rollup (for the reports room): per ISO week x priority x customer tier, how
many tickets were created and reopened, which SLA targets were met or missed, and the CSAT
answers. Moved by the `tickets_sla_rollup` consumer (tickets/consumers.py) from the ticket
events, never in the ticket's own transaction: the figures are eventually consistent (the
local stack shows them within ~2 s of the change).

Each event's counts are ADDs — commutative, so any order of delivery gives the same figures —
committed with the consumer's processed marker (core.consumers.commit_once), so no copy of an
event counts twice. A week's row lives on shards (core.counters): concurrent consumer
transactions on one item conflict, on SHARDS items rarely."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from chalicelib.core.consumers import commit_once
from chalicelib.core.counters import shard_sort_key, summed
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction
from chalicelib.sla import clock

from .models import SlaRollup

COUNTERS = ("created", "first_response_met", "first_response_missed", "resolution_met", "resolution_missed",
            "reopened", "csat_responses", "csat_satisfied")


def iso_week(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def count(event: Event, at: str, priority: str, tier: str | None, counts: Counter[str]) -> bool:
    """Add one event's counts to one shard of its week's row (False if this consumer counted
    this event before)."""
    tier, week = tier or "none", iso_week(clock.parse_instant(at))
    item = SlaRollup(SlaRollup.pk(event.tenant_id, week), shard_sort_key(f"{priority}#{tier}"))
    actions = [getattr(SlaRollup, name).add(number) for name, number in sorted(counts.items()) if number]
    if not actions:
        return False
    actions += [SlaRollup.type.set("SlaRollup"), SlaRollup.tenant_id.set(event.tenant_id),
                SlaRollup.week.set(week), SlaRollup.priority.set(priority), SlaRollup.tier.set(tier)]
    tx = Transaction()
    tx.update(item, actions)
    return commit_once(tx, event)


def rollup(tenant_id: str, week: str) -> list[dict[str, Any]]:
    """The counters of one ISO week, one row per priority x tier: the shards of each row, summed."""
    rows = summed(SlaRollup.query(SlaRollup.pk(tenant_id, week)), lambda r: (r.week, r.priority, r.tier), COUNTERS)
    return [{"week": week_, "priority": priority, "tier": tier, **counts}
            for (week_, priority, tier), counts in rows.items()]
