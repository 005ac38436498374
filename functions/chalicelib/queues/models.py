"""Queues: who works a stream of tickets and how new tickets are routed to them.

| access pattern | index | key condition |
|---|---|---|
| queue by id | table | PK = T#t#QUEUE#<id>, SK = QUEUE |
| queues of the tenant, by name | GSI1 | GSI1PK = T#t#QUEUES |

The routing state lives on the queue item as counters, changed in the ticket's own
transaction: `rr_pointer` (round robin) and `open_counts` (member → open tickets, least open).
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, VersionedItem, tenant_key


class Queue(VersionedItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    members = ListAttribute(default=list)
    routing = UnicodeAttribute()  # manual | round_robin | least_open
    rr_pointer = NumberAttribute(default=0)
    open_counts = MapAttribute(default=dict)
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
