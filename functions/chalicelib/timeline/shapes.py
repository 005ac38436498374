"""The heatmap's filters, shared with the views room (a saved heatmap view keeps them)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from chalicelib.core.models import Strict, ordered_range


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


Csv = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=60)]], BeforeValidator(_csv),
                Field(max_length=50)]


Scope = Annotated[str, StringConstraints(pattern=r"^(org|(customer|project|member):[A-Za-z0-9_\-]{1,64})$")]


class HeatmapFilters(Strict):
    """A heatmap's scope, grouping, buckets and range (GET /reports/activity-heatmap, saved views)."""

    scope: Scope = "org"
    rows: Literal["customer", "task", "member", "type"] = "customer"
    bucket: Literal["day", "week", "month", "quarter"] = "week"
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    types: Csv | None = None
    system: bool | None = None

    _ordered = ordered_range("from_", "to", "to")



HeatmapQuery = HeatmapFilters
# The names a heatmap's filters use (a saved view of another kind uses none of them).
HEATMAP_FILTER_NAMES = frozenset(field.alias or name for name, field in HeatmapFilters.model_fields.items())
