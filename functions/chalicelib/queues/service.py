"""Queues and routing: a new ticket in a queue with automatic routing is assigned in the
transaction that creates it; each member's open-ticket count is a counter on the queue."""

from __future__ import annotations

from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.events import DomainEvent, publish
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.table import Transaction, now_iso, query_reader, require_version
from chalicelib.team import service as team

from .models import Queue

QUEUE_FIELDS = ("name", "members", "routing")
# (queue_id, assignee_id) of an open ticket, or None when it weighs on nobody's count.
Load = tuple[str, str] | None


def queue_fields(queue: Queue) -> dict[str, Any]:
    return {name: getattr(queue, name) for name in QUEUE_FIELDS}


def queue_view(queue: Queue) -> dict[str, Any]:
    counts = _counts(queue)
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
                  created_at=now, updated_at=now, rr_pointer=0, open_counts={m: 0 for m in fields["members"]},
                  **fields)
    queue.index_keys()
    tx = Transaction()
    tx.create(queue, lambda: Conflict("queue already exists"))
    team.require_active_users(tx, tenant, fields["members"], "members")
    audit.record(tx, principal, "create", "queue", queue_id, audit.diff({}, queue_fields(queue)))
    tx.commit()
    publish(DomainEvent("tickets", "Queue.Created", tenant, {"queue_id": queue_id, "routing": queue.routing}))
    return queue


def get_queue(principal: Principal, queue_id: str) -> Queue:
    require(principal, "queues:read")
    return _queue(principal.tenant_id, queue_id)


def list_queues(principal: Principal, limit: int, cursor: str | None) -> Page[Queue]:
    require(principal, "queues:read")
    return read_page("queues", [query_reader(Queue.by_name, Queue.list_pk(principal.tenant_id))], limit, cursor)


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
    actions += [_bump(member, 0) for member in changes.get("members", [])]
    tx = Transaction()
    tx.update(current, actions, Queue.version == current.version, lambda: _stale(queue_id))
    if "members" in changed:
        team.require_active_users(tx, principal.tenant_id, changes["members"], "members")
    audit.record(tx, principal, "update", "queue", queue_id, changed)
    tx.commit()
    publish(DomainEvent("tickets", "Queue.Updated", principal.tenant_id, {"queue_id": queue_id,
                                                                         "changes": sorted(changed)}))
    return _queue(principal.tenant_id, queue_id)


def _counts(queue: Queue) -> dict[str, int]:
    return {member: int(count) for member, count in queue.open_counts.as_dict().items()}


def _counter(member: str) -> Any:
    return Queue.open_counts[member]  # type: ignore[index]


def _bump(member: str, delta: int) -> Any:
    return _counter(member).set((_counter(member) | 0) + delta)


class RoutingRace(Conflict):
    """Another ticket took the same routing turn at the same moment; creating again is safe."""


def _routing_race(queue_id: str) -> RoutingRace:
    return RoutingRace(f"queue {queue_id} routed another ticket at the same moment; retry")


def route_new_ticket(tx: Transaction, tenant_id: str, queue_id: str, assignee_id: str | None) -> str | None:
    """For the tickets room: check the queue exists (422 on queue_id); unless the ticket comes
    assigned, let the queue's routing choose; count the ticket on its assignee — one guarded
    update of the queue in the ticket's transaction, so two tickets created at once never both
    take the same turn."""
    try:
        queue = _queue(tenant_id, queue_id)
    except NotFound as missing:
        raise validation_error("queue_id", f"queue {queue_id} does not exist") from missing
    chosen, actions, condition = assignee_id, [], Queue.PK.exists()
    if chosen is None and queue.members and queue.routing == "round_robin":
        pointer = int(queue.rr_pointer)
        chosen = queue.members[pointer % len(queue.members)]
        actions.append(Queue.rr_pointer.add(1))
        condition = Queue.rr_pointer == pointer
    elif chosen is None and queue.members and queue.routing == "least_open":
        counts = _counts(queue)
        chosen = min(queue.members, key=lambda member: counts.get(member, 0))
        condition = _counter(chosen) == counts.get(chosen, 0)
    if chosen is not None:
        actions.append(_bump(chosen, 1))
    if actions:
        tx.update(queue, actions, condition, lambda: _routing_race(queue_id))
    else:
        tx.check(Queue, queue.PK, Queue.SORT, condition, lambda: validation_error("queue_id", "was deleted"))
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


def require_queue(tenant_id: str, queue_id: str) -> None:
    """For the tickets room: a 422 on queue_id unless the queue exists."""
    try:
        _queue(tenant_id, queue_id)
    except NotFound as missing:
        raise validation_error("queue_id", f"queue {queue_id} does not exist") from missing


def adjust_open_counts(tx: Transaction, tenant_id: str, before: Load, after: Load) -> None:
    """Move one open ticket from `before`'s member count to `after`'s, in the ticket's transaction
    (one update per queue: a transaction may touch an item once)."""
    if before == after:
        return
    moves: dict[str, list[Any]] = {}
    for load, delta in ((before, -1), (after, 1)):
        if load is not None:
            moves.setdefault(load[0], []).append(_bump(load[1], delta))
    for queue_id, actions in moves.items():
        tx.update(Queue(Queue.pk(tenant_id, queue_id), Queue.SORT), actions)
