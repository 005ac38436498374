"""What the timeline does on the other rooms' events (and its own): the feed consumer projects
every event type with a registered projection (projections.py) into the feed and the daily
counters; the touch consumer keeps each customer's name and people for the quiet-customers
report. Both run once per event id (core.consumers) and tolerate any order (versions, ADDs)."""

from __future__ import annotations

from chalicelib.core.consumers import commit_once, consumer
from chalicelib.core.errors import Conflict
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction
from chalicelib.customers.events import CustomerArchived, CustomerCreated, CustomerUpdated

from . import feed, projections  # noqa: F401 (projections registers the feed's kinds)
from .models import CustomerTouch
from .registry import PROJECTIONS, project

FEED_CONSUMER = "timeline_feed"


def project_into_feed(event: Event) -> bool:
    """An event with a projection becomes (or replaces, or removes) its feed entry, with the
    daily counters and the customer's last touch it moves."""
    entry = project(event)
    return entry is not None and feed.apply(event, entry)


consumer(FEED_CONSUMER, *(model for model, _ in PROJECTIONS.values()))(project_into_feed)

PEOPLE = ("name", "owner_id", "team_ids")


@consumer("timeline_customer_touch", CustomerCreated, CustomerUpdated, CustomerArchived)
def follow_customer(event: Event) -> bool:
    """A customer's name and people (for the quiet-customers report and its members' reach),
    and whether it is archived (then it leaves the report)."""
    data = event.typed()
    assert isinstance(data, CustomerCreated | CustomerUpdated | CustomerArchived)
    tenant = event.tenant_id
    pk = CustomerTouch.pk(tenant, data.customer_id)
    try:
        current = CustomerTouch.get(pk, CustomerTouch.SORT, consistent_read=True)
    except CustomerTouch.DoesNotExist:
        current = None
    version = getattr(data, "version", 1)
    if current is not None and int(current.customer_version or 0) >= version:
        return False  # a later change of the customer was applied first
    if isinstance(data, CustomerCreated):
        fields = data.fields
    elif isinstance(data, CustomerUpdated):
        fields = {name: change.after for name, change in data.changes.items()}
    else:
        fields = {}
    actions = [CustomerTouch.type.set("CustomerTouch"), CustomerTouch.tenant_id.set(tenant),
               CustomerTouch.customer_id.set(data.customer_id), CustomerTouch.customer_version.set(version)]
    for name in PEOPLE:
        if name in fields:
            value = fields[name] or ([] if name == "team_ids" else None)
            attribute = getattr(CustomerTouch, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
    if isinstance(data, CustomerArchived):
        actions += [CustomerTouch.archived.set(True), CustomerTouch.GSI2PK.remove(), CustomerTouch.GSI2SK.remove()]
    elif current is None or not current.archived:
        touched = current.last_customer_touch_at if current else None
        actions += [CustomerTouch.GSI2PK.set(CustomerTouch.index_pk(tenant)),
                    CustomerTouch.GSI2SK.set(CustomerTouch.index_sk(touched, data.customer_id))]
    unchanged = CustomerTouch.PK.does_not_exist()
    if current is not None:  # neither the customer nor its touch (which keys the index) moved meanwhile
        touched = current.last_customer_touch_at
        unchanged = (CustomerTouch.customer_version == current.customer_version) & (
            CustomerTouch.last_customer_touch_at == touched if touched
            else CustomerTouch.last_customer_touch_at.does_not_exist())
    tx = Transaction()
    tx.update(CustomerTouch(pk, CustomerTouch.SORT), actions, unchanged,
              lambda: Conflict(f"customer {data.customer_id}'s touch moved meanwhile; retried"))
    return commit_once(tx, event)
