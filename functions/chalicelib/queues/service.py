"""Queues and routing: a new ticket in a queue with automatic routing is assigned when it is
created; each member's open-ticket count (QueueLoad, on shards: core.counters) is moved by the
`queues_count_open` consumer (queues/consumers.py) from the ticket events, outside the ticket's
transaction — so the loads, and least-open routing that reads them, are eventually consistent
(the local stack catches up within ~2 s of the change)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.consumers import commit_once
from chalicelib.core.counters import shard_sort_key, summed
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.events import Event
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version
from chalicelib.team import service as team

from .events import QueueCreated, QueueUpdated
from .models import Queue, QueueLoad

QUEUE_FIELDS = ("name", "members", "routing")
# [queue_id, assignee_id] of an open ticket, or None when it weighs on nobody's count.
Load = list[str] | None


def queue_fields(queue: Queue) -> dict[str, Any]:
    return {name: getattr(queue, name) for name in QUEUE_FIELDS}


def queue_view(queue: Queue, loads: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """The queue as shown; `loads` (of `tenant_loads`) when showing many, else it is read."""
    counts = loads.get(queue.id, {}) if loads is not None else _counts(queue)
    return {"id": queue.id, **queue_fields(queue), "open_counts": {m: counts.get(m, 0) for m in queue.members},
            "version": queue.version, "created_at": queue.created_at, "updated_at": queue.updated_at}


def _queue(tenant_id: str, queue_id: str) -> Queue:
    try:
        return Queue.get(Queue.pk(tenant_id, queue_id), Queue.SORT)
    except Queue.DoesNotExist as missing:
        raise NotFound(f"queue {queue_id} not found") from missing


def _stale(queue_id: str) -> Conflict:
    return Conflict(f"queue {queue_id} was changed by someone else; reload and retry")


def create_queue(principal: Principal, fields: dict[str, Any]) -> Queue:
    require(principal, "queues:write")
    now, queue_id, tenant = now_iso(), new_id(), principal.tenant_id
    queue = Queue(Queue.pk(tenant, queue_id), Queue.SORT, type="Queue", tenant_id=tenant, id=queue_id, version=1,
                  created_at=now, updated_at=now, rr_pointer=0, **fields)
    queue.index_keys()
    tx = Transaction()
    tx.create(queue, lambda: Conflict("queue already exists"))
    team.require_active_users(tx, tenant, fields["members"], "members")
    audit.record(tx, principal, "create", "queue", queue_id, audit.diff({}, queue_fields(queue)))
    tx.publish(QueueCreated(queue_id=queue_id, routing=queue.routing).event(tenant))
    tx.commit()
    return queue


def get_queue(principal: Principal, queue_id: str) -> Queue:
    require(principal, "queues:read")
    return _queue(principal.tenant_id, queue_id)


def list_queues(principal: Principal, limit: int, cursor: str | None) -> Page[Queue]:
    require(principal, "queues:read")
    return read_page([query_reader(Queue.by_name, Queue.list_pk(principal.tenant_id))], limit, cursor)


def update_queue(principal: Principal, queue_id: str, changes: dict[str, Any], expected_version: int) -> Queue:
    require(principal, "queues:write")
    current = _queue(principal.tenant_id, queue_id)
    require_version(current, expected_version, "queue")
    before = queue_fields(current)
    changed = audit.diff(before, {**before, **changes})
    if not changed:
        return current
    actions = [getattr(Queue, name).set(changes[name]) for name in changed]
    actions += [Queue.version.add(1), Queue.updated_at.set(now_iso())]
    if "name" in changed:
        actions.append(Queue.GSI1SK.set(f"{changes['name'].casefold()}#{queue_id}"))
    tx = Transaction()
    tx.update(current, actions, Queue.version == current.version, lambda: _stale(queue_id))
    if "members" in changed:
        team.require_active_users(tx, principal.tenant_id, changes["members"], "members")
    audit.record(tx, principal, "update", "queue", queue_id, changed)
    tx.publish(QueueUpdated(queue_id=queue_id, changes=sorted(changed)).event(principal.tenant_id))
    tx.commit()
    return _queue(principal.tenant_id, queue_id)


def _summed_loads(rows: Any) -> dict[str, dict[str, int]]:
    """queue id → member → open tickets, from QueueLoad shards."""
    loads: dict[str, dict[str, int]] = {}
    for (queue_id, member), total in summed(rows, lambda r: (r.queue_id, r.member), ["count"]).items():
        loads.setdefault(queue_id, {})[member] = total["count"]
    return loads


def _counts(queue: Queue) -> dict[str, int]:
    rows = QueueLoad.query(QueueLoad.pk(queue.tenant_id), QueueLoad.SK.startswith(f"{queue.id}#"))
    return _summed_loads(rows).get(queue.id, {})


def tenant_loads(tenant_id: str) -> dict[str, dict[str, int]]:
    """Every queue's loads of the tenant, in one Query (to show a page of queues)."""
    return _summed_loads(QueueLoad.query(QueueLoad.pk(tenant_id)))


def _take_turn(queue: Queue) -> int:
    """Round robin's next turn: one atomic ADD on the queue item, outside the ticket's
    transaction, so concurrent tickets each get their own turn and never conflict."""
    try:
        queue.update(actions=[Queue.rr_pointer.add(1)], condition=Queue.PK.exists())
    except UpdateError as failed:
        if failed.cause_response_code == "ConditionalCheckFailedException":
            raise validation_error("queue_id", f"queue {queue.id} does not exist") from failed
        raise
    return int(queue.rr_pointer) - 1


def route_new_ticket(tenant_id: str, queue_id: str, assignee_id: str | None) -> str | None:
    """For the tickets room: check the queue exists (422 on queue_id); unless the ticket comes
    assigned, let the queue's routing choose (round robin's turn is taken at once; least open
    reads the summed loads as the consumer has moved them so far — eventually consistent, so
    tickets created within a delivery's delay may both go to the least loaded member)."""
    try:
        queue = _queue(tenant_id, queue_id)
    except NotFound as missing:
        raise validation_error("queue_id", f"queue {queue_id} does not exist") from missing
    chosen = assignee_id
    if chosen is None and queue.members and queue.routing == "round_robin":
        chosen = queue.members[_take_turn(queue) % len(queue.members)]
    elif chosen is None and queue.members and queue.routing == "least_open":
        counts = _counts(queue)
        chosen = min(queue.members, key=lambda member: counts.get(member, 0))
    return chosen


def works_queue(tenant_id: str, queue_id: str, user_id: str) -> bool:
    """For the tickets room's reach: whether the user is a member of the queue."""
    try:
        return user_id in _queue(tenant_id, queue_id).members
    except NotFound:
        return False


def queues_worked_by(tenant_id: str, user_id: str) -> list[str]:
    """For the tickets room's lists: the ids of the queues the user is a member of (a tenant
    has a handful of queues: one Query of the name index, all pages)."""
    return [queue.id for queue in Queue.by_name.query(Queue.list_pk(tenant_id)) if user_id in queue.members]


def _bump(tx: Transaction, tenant_id: str, queue_id: str, member: str, delta: int) -> None:
    load = QueueLoad(QueueLoad.pk(tenant_id), shard_sort_key(QueueLoad.sort(queue_id, member)))
    tx.update(load, [QueueLoad.count.add(delta), QueueLoad.type.set("QueueLoad"), QueueLoad.tenant_id.set(tenant_id),
                     QueueLoad.queue_id.set(queue_id), QueueLoad.member.set(member)])


def require_queue(tenant_id: str, queue_id: str) -> None:
    """For the tickets room: a 422 on queue_id unless the queue exists."""
    try:
        _queue(tenant_id, queue_id)
    except NotFound as missing:
        raise validation_error("queue_id", f"queue {queue_id} does not exist") from missing


def move_open_count(event: Event, before: Load, after: Load) -> bool:
    """For the consumer: move one open ticket from `before`'s member count to `after`'s (ADDs:
    any order of events gives the same loads), with the consumer's marker (core.consumers), so
    no copy of the event moves it twice. Each on a shard of its own (a transaction may touch
    an item once); False when nothing moves or the event was counted before."""
    if before == after:
        return False
    tx = Transaction()
    for load, delta in ((before, -1), (after, 1)):
        if load is not None:
            _bump(tx, event.tenant_id, load[0], load[1], delta)
    return commit_once(tx, event)
