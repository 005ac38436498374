"""Canned responses: reusable replies with placeholders.

| access pattern | index | key condition |
|---|---|---|
| canned response by id | table | PK = T#t#CANNED#<id>, SK = CANNED |
| all, by name / name prefix (`q`) | GSI1 | GSI1PK = T#t#CANNED, GSI1SK begins_with <name> |
| in a category, by name / name prefix | GSI2 | GSI2PK = T#t#CANNED#CAT#<category>, GSI2SK begins_with <name> |
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.core.table import GSI1, GSI2, VersionedItem, tenant_key


class CannedResponse(VersionedItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    body = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    by_name = GSI1()
    by_category = GSI2()

    SORT = "CANNED"

    @staticmethod
    def pk(tenant_id: str, canned_id: str) -> str:
        return tenant_key(tenant_id, "CANNED", canned_id)

    @staticmethod
    def list_pk(tenant_id: str, category: str | None = None) -> str:
        return tenant_key(tenant_id, "CANNED", "CAT", category) if category else tenant_key(tenant_id, "CANNED")

    def index_keys(self) -> None:
        sort = f"{self.name.casefold()}#{self.id}"
        self.GSI1PK, self.GSI1SK = CannedResponse.list_pk(self.tenant_id), sort
        if self.category:
            self.GSI2PK, self.GSI2SK = CannedResponse.list_pk(self.tenant_id, self.category), sort
