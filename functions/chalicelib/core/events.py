"""Domain events to the EventBridge bus: source `bluehill.<capability>`, detail-type
`<Entity>.<PastTenseVerb>`, detail with tenant, ids, occurred_at and the changed fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.core.table import now_iso


@dataclass(frozen=True)
class DomainEvent:
    capability: str
    detail_type: str
    tenant_id: str
    detail: dict[str, Any] = field(default_factory=dict)

    def entry(self, bus_name: str) -> dict[str, Any]:
        body = {"tenant_id": self.tenant_id, "occurred_at": now_iso(), **self.detail}
        return {
            "Source": f"bluehill.{self.capability}",
            "DetailType": self.detail_type,
            "Detail": json.dumps(body, default=str),
            "EventBusName": bus_name,
        }


@cache
def _client() -> Any:
    import boto3

    return boto3.client("events")


def publish(*events: DomainEvent) -> None:
    """Publish after the change has committed. A failed publish is logged with the event so
    it can be replayed; it never undoes or fails the committed change."""
    if not events:
        return
    bus = get_settings().event_bus_name
    entries = [event.entry(bus) for event in events]
    for start in range(0, len(entries), 10):
        batch = entries[start : start + 10]
        try:
            response = _client().put_events(Entries=batch)
            failed = response.get("FailedEntryCount", 0)
        except Exception:  # the change is committed; losing the event must not turn it into a 500
            logger().exception("event publish failed", extra={"detail_types": [e["DetailType"] for e in batch]})
            continue
        if failed:
            logger().error("some events were not accepted", extra={"failed": failed})
