"""Queues: who works a stream of tickets and how new tickets are routed to them.

| access pattern | index | key condition |
|---|---|---|
| queue by id | table | PK = T#t#QUEUE#<id>, SK = QUEUE |
| queues of the tenant, by name | GSI1 | GSI1PK = T#t#QUEUES |
| open tickets per queue x member (sharded: core.counters) | table | PK = T#t#QUEUELOADS, SK begins_with <queue id># |

Round robin's turn is `rr_pointer` on the queue item, taken by one atomic ADD before the
ticket's transaction (a turn whose ticket then fails is skipped, never given twice). Open
tickets per member are QueueLoad shards, moved by the `queues_count_open` consumer from the
ticket events (never in the ticket's transaction): they are read (summed) to show a queue and
to route least-open — eventually consistent — so neither the queue item nor a load is in any
ticket's transaction and tickets created at once never conflict on them.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, TableItem, VersionedItem, tenant_key


class Queue(VersionedItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    members = ListAttribute(default=list)
    routing = UnicodeAttribute()  # manual | round_robin | least_open
    rr_pointer = NumberAttribute(default=0)
    by_name = GSI1()

    SORT = "QUEUE"

    @staticmethod
    def pk(tenant_id: str, queue_id: str) -> str:
        return tenant_key(tenant_id, "QUEUE", queue_id)

    @staticmethod
    def list_pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "QUEUES")

    def index_keys(self) -> None:
        self.GSI1PK, self.GSI1SK = Queue.list_pk(self.tenant_id), f"{self.name.casefold()}#{self.id}"


class QueueLoad(TableItem):
    """One shard of one member's open tickets in one queue; the member's load is the sum."""

    queue_id = UnicodeAttribute()
    member = UnicodeAttribute()
    count = NumberAttribute(default=0)

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "QUEUELOADS")

    @staticmethod
    def sort(queue_id: str, member: str) -> str:
        return f"{queue_id}#{member}"
