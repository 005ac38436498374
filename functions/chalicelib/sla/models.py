"""The tenant's SLA policy (one item, versioned).

| access pattern | index | key condition |
|---|---|---|
| the tenant's policy | table | PK = T#t#SLA, SK = POLICY |
| due tickets of every tenant (sweep only) | SYSDUE | SYSDUEPK = DUE#<shard>, SYSDUESK <= <now>#~ |

The SYSDUE items are the tickets themselves (tickets.models owns them; the sweep in jobs.py
reads them through the tickets service).

A tenant without a stored policy runs on the defaults (`service.default_policy`), version 0.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute

from chalicelib.core.table import VersionedItem, tenant_key


class SlaPolicy(VersionedItem):
    calendar = JSONAttribute()
    targets = JSONAttribute()
    first_response = JSONAttribute()
    resolution = JSONAttribute()
    escalation_terms = ListAttribute(default=list)

    SORT = "POLICY"

    @staticmethod
    def pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "SLA")
