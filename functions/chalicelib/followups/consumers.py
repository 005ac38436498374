"""What the follow-ups room does on others' events (see core/consumers.py).

Logging an interaction may ask for a follow-up in the same call (`POST
/customers/{customer_id}/interactions` with `follow_up: {title, due_date, assignee_id}`): the
timeline room checks the assignee and publishes Interaction.Created with the request; this
consumer creates the follow-up — due by the end of `due_date` in the assignee's timezone, linked
to the interaction (and its ticket and project), created by the person who logged it.

Idempotent twice over: the follow-up's id is the event's id (a second creation is refused by
its key), and its writes commit with this consumer's processed marker (commit_once)."""

from __future__ import annotations

from datetime import date

from chalicelib.core.consumers import commit_once, consumer
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction
from chalicelib.timeline.events import InteractionCreated

from . import service


@consumer("followups_from_interactions", InteractionCreated)
def follow_up_from_interaction(event: Event) -> bool:
    """A follow-up asked for while logging an interaction is created, once."""
    data = event.data_as(InteractionCreated)
    if data.follow_up is None:
        return False
    request = data.follow_up
    draft = service.Draft(customer_id=data.customer_id, title=request.title,
                          due_date=date.fromisoformat(request.due_date),
                          assignee_id=request.assignee_id or data.author_id, interaction_id=data.interaction_id,
                          ticket_id=data.ticket_id, project_id=data.project_id, source_event_id=event.id,
                          follow_up_id=event.id)
    tx = Transaction()
    if service.create_from_event(event.tenant_id, draft, data.author_id, tx) is None:
        return False  # the assignee left the team since: nobody to follow up
    try:
        return commit_once(tx, event)
    except service.AlreadyCreated:
        return False  # created by an earlier delivery whose marker was lost
