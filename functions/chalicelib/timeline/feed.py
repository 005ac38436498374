"""The feed, written and read.

Written by the feed consumer (consumers.py) from an `Entry` (registry.py): one transaction puts
the entry's placements (models.py), its head, the daily counters it moves and — for an
interaction or a customer-facing entry (an email) — the customer's last touch, with the
consumer's replay guard (`commit_once`). A later version of an entry (an interaction changed,
deleted) replaces it: its old placements go, and what it counted is taken back before the
new one counts.

Read one Query per page: the caller's reach and the filters choose ONE placement partition of
GSI1 (`plan_*`), `from`/`to` are its key condition, and every other filter is a FilterExpression
on that same Query (see FILTERS_IN_KEY below)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.core.consumers import commit_once
from chalicelib.core.errors import Conflict
from chalicelib.core.events import Event
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor, list_identity
from chalicelib.core.table import Transaction, item_typer, query_reader, sync_derived

from . import counters
from .models import CustomerTouch, EntryHead, FeedEntry, feed_pk
from .registry import SHARED, Entry

_typed = item_typer([FeedEntry, EntryHead])


def placements(entry: Entry) -> list[str]:
    """The feeds an entry is in (see models.py)."""
    found = ["ALL"]
    if entry.customer_id:
        found.append(f"C#{entry.customer_id}")
        if entry.visibility == SHARED:
            found.append(f"C#{entry.customer_id}#S")
        if not entry.system:
            found.append(f"C#{entry.customer_id}#H")
    if entry.project_id:
        found.append(f"P#{entry.project_id}")
    if entry.ticket_id:
        found.append(f"K#{entry.ticket_id}")
    found += [f"CT#{contact}" for contact in entry.contact_ids]
    if entry.actor_id:
        found.append(f"U#{entry.actor_id}")
    found += [f"A#{user}" for user in entry.assignee_ids]
    return list(dict.fromkeys(found))


def _item(tenant_id: str, entry: Entry, placement: str) -> FeedEntry:
    item = FeedEntry(FeedEntry.pk(tenant_id, entry.id), FeedEntry.sort(placement), type="FeedEntry",
                     tenant_id=tenant_id, id=entry.id, kind=entry.kind, etype=entry.etype,
                     occurred_at=entry.occurred_at, actor=entry.actor, summary=entry.summary,
                     visibility=entry.visibility, system=entry.system, customer_id=entry.customer_id,
                     project_id=entry.project_id, task_id=entry.task_id, ticket_id=entry.ticket_id,
                     interaction_id=entry.interaction_id, contact_ids=entry.contact_ids,
                     assignee_ids=entry.assignee_ids, actor_id=entry.actor_id)
    item.GSI1PK, item.GSI1SK = feed_pk(tenant_id, placement), f"{entry.occurred_at}#{entry.id}"
    return item


def _stored(tenant_id: str, entry_id: str) -> tuple[EntryHead | None, dict[str, FeedEntry]]:
    answer = FeedEntry._get_connection().query(FeedEntry.pk(tenant_id, entry_id), consistent_read=True)
    items = [_typed(raw) for raw in answer.get("Items", [])]
    head = next((item for item in items if isinstance(item, EntryHead)), None)
    return head, {item.SK: item for item in items if isinstance(item, FeedEntry)}


def apply(event: Event, entry: Entry) -> bool:
    """Put (or replace, or remove) the entry with everything it moves, once per event: False
    when nothing changed (an older version than the one shown, or this event applied before)."""
    tenant = event.tenant_id
    head, before = _stored(tenant, entry.id)
    if head is not None and int(head.version) >= entry.version:
        return False  # the entry already shows this change or a later one
    after = {} if entry.removed else {
        FeedEntry.sort(placement): _item(tenant, entry, placement) for placement in placements(entry)}
    tx = Transaction()
    sync_derived(tx, before, after)
    counted = None if entry.removed else counters.keys_of(entry)
    counters.move(tx, tenant, (head.counted if head else None) or [], counted or [])
    new_head = EntryHead(FeedEntry.pk(tenant, entry.id), EntryHead.SORT, type="EntryHead", tenant_id=tenant,
                         version=entry.version, placements=sorted(after), counted=counted, removed=entry.removed)
    unchanged = EntryHead.PK.does_not_exist() if head is None else EntryHead.version == head.version
    tx.put(new_head, unchanged, lambda: Conflict(f"entry {entry.id} changed meanwhile; retried"))
    if (entry.kind == "interaction" or entry.customer_facing) and not entry.removed and entry.customer_id:
        touch(tx, tenant, entry)
    return commit_once(tx, event)


def touch(tx: Transaction, tenant_id: str, entry: Entry) -> None:
    """The customer's last interaction (and last customer-facing one) moves to this one's
    instant if it is later, conditioned on what was read (a concurrent touch: retried)."""
    pk = CustomerTouch.pk(tenant_id, entry.customer_id or "")
    try:
        current = CustomerTouch.get(pk, CustomerTouch.SORT, consistent_read=True)
    except CustomerTouch.DoesNotExist:
        current = None
    last = current.last_interaction_at if current else None
    facing = current.last_customer_touch_at if current else None
    new_last = max(filter(None, [last, entry.occurred_at]))
    new_facing = max(filter(None, [facing, entry.occurred_at])) if entry.customer_facing else facing
    if (new_last, new_facing) == (last, facing):
        return
    item = CustomerTouch(pk, CustomerTouch.SORT)
    actions = [CustomerTouch.type.set("CustomerTouch"), CustomerTouch.tenant_id.set(tenant_id),
               CustomerTouch.customer_id.set(entry.customer_id), CustomerTouch.last_interaction_at.set(new_last)]
    if new_facing:
        actions.append(CustomerTouch.last_customer_touch_at.set(new_facing))
    if current is None or not current.archived:
        actions += [CustomerTouch.GSI2PK.set(CustomerTouch.index_pk(tenant_id)),
                    CustomerTouch.GSI2SK.set(CustomerTouch.index_sk(new_facing, entry.customer_id or ""))]
    condition = CustomerTouch.PK.does_not_exist()
    if current is not None:
        condition = (CustomerTouch.last_interaction_at == last if last
                     else CustomerTouch.last_interaction_at.does_not_exist())
    tx.update(item, actions, condition, lambda: Conflict("the customer's touch moved meanwhile; retried"))


# ---------- reading ----------

# What each filter is, in the one Query of a page:
# - key condition: the partition (customer / its shared or logged-by-people subset / project /
#   ticket / contact / actor / a contractor's assignments / the tenant), and from/to on GSI1SK;
# - FilterExpression: everything else (types, exclude_types, customer_facing, system, and a
#   customer / project / ticket / contact / actor filter not chosen as the partition).
FILTERS_IN_KEY = ("from", "to", "the partition's own filter")


@dataclass
class Plan:
    """One Query: a placement partition and the filters applied on it."""

    placement: str
    where: dict[str, Any] = field(default_factory=dict)  # field == value
    contains: dict[str, str] = field(default_factory=dict)  # list field contains value
    etype_in: list[str] | None = None
    etype_not_in: list[str] | None = None
    customer_in: list[str] | None = None  # a member's reach on a tenant-wide feed…
    or_assigned: str | None = None  # …or entries assigned to them


def _condition(plan: Plan) -> Condition | None:
    parts: list[Condition] = []
    for name, value in plan.where.items():
        parts.append(getattr(FeedEntry, name) == value)
    for name, value in plan.contains.items():
        parts.append(getattr(FeedEntry, name).contains(value))
    if plan.etype_in is not None:
        parts.append(FeedEntry.etype.is_in(*plan.etype_in) if plan.etype_in else FeedEntry.etype == "\x00")
    if plan.etype_not_in:
        parts.append(~FeedEntry.etype.is_in(*plan.etype_not_in))
    if plan.customer_in is not None:
        reach: Condition = (FeedEntry.customer_id.is_in(*plan.customer_in) if plan.customer_in
                            else FeedEntry.customer_id == "\x00")
        if plan.or_assigned:
            reach = reach | FeedEntry.assignee_ids.contains(plan.or_assigned)
        parts.append(reach)
    condition = None
    for part in parts:
        condition = part if condition is None else condition & part
    return condition


def read(tenant_id: str, plan: Plan, start: str | None, end: str | None, limit: int,
         cursor: str | None) -> Page[FeedEntry]:
    """One page of one feed, newest first: one Query."""
    key: Condition | None = None
    if start and end:
        key = FeedEntry.GSI1SK.between(start, end + "~")
    elif start:
        key = FeedEntry.GSI1SK >= start  # noqa: SIM300
    elif end:
        key = FeedEntry.GSI1SK <= end + "~"  # noqa: SIM300
    reader = query_reader(FeedEntry.by_feed, feed_pk(tenant_id, plan.placement), key, _condition(plan),
                          newest_first=True)
    return one_query_page(reader, limit, cursor)


def one_query_page(reader: Any, limit: int, cursor: str | None) -> Page[FeedEntry]:
    """One Query, whatever the filters keep: a short (even empty) page with a cursor is a page
    (core.pagination.read_page would read up to three times to fill it)."""
    identity = list_identity([reader])
    start = decode_cursor(cursor, identity).get("key") if cursor else None
    items, next_key = reader(limit, start)
    return Page(items, encode_cursor({"list": identity, "source": 0, "key": next_key}) if next_key else None)


def entry_view(item: FeedEntry, portal: bool) -> dict[str, Any]:
    actor = dict(item.actor or {})
    if portal:
        actor = {"type": actor.get("type")}
    view = {"id": item.id, "kind": item.kind, "type": item.etype, "occurred_at": item.occurred_at, "actor": actor,
            "summary": item.summary, "visibility": item.visibility, "system": bool(item.system),
            "customer_id": item.customer_id, "project_id": item.project_id, "task_id": item.task_id,
            "ticket_id": item.ticket_id, "interaction_id": item.interaction_id,
            "contact_ids": list(item.contact_ids or [])}
    return view

