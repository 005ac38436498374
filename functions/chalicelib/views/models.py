"""Saved views: a named filter and sort for the Kanban, Gantt or Table view, kept for one
person or shared with the team.

| access pattern | index | key condition |
|---|---|---|
| view by id | table | PK = T#t#VIEW#<id>, SK = VIEW |
| my personal views, by kind and name | GSI1 | GSI1PK = T#t#VIEWS#USER#<user>, GSI1SK = <kind>#<name>#<id> |
| the team's shared views, by kind and name | GSI1 | GSI1PK = T#t#VIEWS#SHARED, GSI1SK = <kind>#<name>#<id> |
| my default view of a kind (at most one) | table | PK = T#t#VIEWDEFAULT#<user>#<kind>, SK = DEFAULT |
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute

from chalicelib.core.table import GSI1, TableItem, VersionedItem, tenant_key

PERSONAL, SHARED = "personal", "shared"


def views_pk(tenant_id: str, owner_id: str, visibility: str) -> str:
    if visibility == SHARED:
        return tenant_key(tenant_id, "VIEWS", "SHARED")
    return tenant_key(tenant_id, "VIEWS", "USER", owner_id)


class SavedView(VersionedItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    filters = JSONAttribute(default=dict)
    sort = UnicodeAttribute()
    visibility = UnicodeAttribute()
    is_default = BooleanAttribute(default=False)
    owner_id = UnicodeAttribute()
    by_owner = GSI1()

    SORT = "VIEW"

    @staticmethod
    def pk(tenant_id: str, view_id: str) -> str:
        return tenant_key(tenant_id, "VIEW", view_id)

    def index_keys(self) -> None:
        self.GSI1PK = views_pk(self.tenant_id, self.owner_id, self.visibility)
        self.GSI1SK = f"{self.kind}#{self.name.casefold()}#{self.id}"


class DefaultView(TableItem):
    """Which view is a person's default for one kind: one item, so there is only ever one."""

    view_id = UnicodeAttribute()

    SORT = "DEFAULT"

    @staticmethod
    def pk(tenant_id: str, user_id: str, kind: str) -> str:
        return tenant_key(tenant_id, "VIEWDEFAULT", user_id, kind)
