"""Audit entries: one per write, appended in the write's own transaction.

| pattern | index | key condition |
|---|---|---|
| history of one entity, newest first | table | PK = T#t#AUDIT#<entity_id> |
| everything one actor did, newest first | GSI1 | GSI1PK = T#t#AUDIT#ACTOR#<actor_id> |
| the tenant's whole trail, newest first | GSI2 | GSI2PK = T#t#AUDIT |
| one entity's history by one actor | table | PK = T#t#AUDIT#<entity_id>, FilterExpression actor_id |

The last filters an entity's history (its own partition, tens of entries) rather than keep an
index per (entity, actor); like every list page it is bounded: at most 3 Queries reading ≤100
entries each, then a short page with a cursor (core.pagination).
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, TableItem, tenant_key


class AuditEntry(TableItem):
    id = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor_role = UnicodeAttribute()
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    changes = JSONAttribute()
    request_id = UnicodeAttribute(null=True)
    occurred_at = UnicodeAttribute()
    by_actor = GSI1()
    by_tenant = GSI2()

    @staticmethod
    def entity_pk(tenant_id: str, entity_id: str) -> str:
        return tenant_key(tenant_id, "AUDIT", entity_id)

    @staticmethod
    def actor_pk(tenant_id: str, actor_id: str) -> str:
        return tenant_key(tenant_id, "AUDIT", "ACTOR", actor_id)

    @staticmethod
    def tenant_pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "AUDIT")
