"""What the tickets room derives from its own events (see core/consumers.py): the weekly SLA
rollup (tickets/rollups.py). Runs once per event id and tolerates any order (its counts are
ADDs)."""

from __future__ import annotations

from collections import Counter

from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event

from . import rollups
from .events import Measured, TicketCreated, TicketCsatSubmitted, TicketReopened, TicketSLABreached, TicketUpdated

SATISFIED = 4  # a CSAT score at or above it counts as satisfied


def _counts(data: object) -> Counter[str]:
    if isinstance(data, TicketCreated):
        return Counter(["created"])
    if isinstance(data, TicketReopened):
        return Counter(["reopened"])
    if isinstance(data, TicketCsatSubmitted):
        return Counter(["csat_responses", *(["csat_satisfied"] if data.score >= SATISFIED else [])])
    if isinstance(data, TicketSLABreached):
        return Counter([f"{data.target}_missed"])
    if isinstance(data, TicketUpdated):
        return Counter(f"{target}_{outcome}" for target, outcome in data.sla_outcomes.items())
    return Counter()


@consumer("tickets_sla_rollup", TicketCreated, TicketUpdated, TicketReopened, TicketCsatSubmitted, TicketSLABreached)
def count_in_rollup(event: Event) -> bool:
    """A ticket's creation, reopen, SLA outcomes and CSAT answers count in its week's SLA rollup."""
    data = event.typed()
    if not isinstance(data, Measured) or data.at is None or data.priority is None:
        return False  # published before the rollup moved here: counted in its own transaction
    return rollups.count(event, data.at, data.priority, data.customer_tier, _counts(data))
