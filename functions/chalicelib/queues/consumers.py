"""What the queues room derives from ticket events (see core/consumers.py): each member's
open-ticket count per queue (queues/service.move_open_count). Runs once per event id and
tolerates any order: each event moves the count by a delta taken from its own before/after."""

from __future__ import annotations

from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.tickets.events import TicketCreated, TicketUpdated

from . import service

DONE = frozenset({"resolved", "closed"})


@consumer("queues_count_open", TicketCreated, TicketUpdated)
def count_open(event: Event) -> bool:
    """A ticket opened in a queue, or moved between queues, assignees or open and done, moves its
    members' open-ticket counts."""
    data = event.typed()
    if isinstance(data, TicketCreated):
        if data.at is None:
            return False  # published before the loads moved here: counted in its own transaction
        weighs = data.status not in DONE and data.queue_id and data.assignee_id
        return service.move_open_count(event, None, [data.queue_id, data.assignee_id] if weighs else None)
    assert isinstance(data, TicketUpdated)
    if data.open_load is None:
        return False  # published before the loads moved here: moved in its own transaction
    return service.move_open_count(event, data.open_load.before, data.open_load.after)
