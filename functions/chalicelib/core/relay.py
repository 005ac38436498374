"""The relay: committed outbox items, read from the table's DynamoDB stream, to the bus.

The same code runs in AWS (a Lambda on the stream's event source mapping) and on the local
stack (`bluehill dev` reads the stream through the standard DynamoDB Streams API). For each
batch of stream records, in order:

1. the events of every new outbox item are put on the bus, 10 per PutEvents call;
2. entries PutEvents refused (`FailedEntryCount`) or a call that failed are retried with
   backoff, up to `PUT_ATTEMPTS` times;
3. each outbox item whose events are all on the bus is marked delivered (its TTL set);
4. the first record that could not be delivered and every record after it are reported as
   failed: the stream is checkpointed only before it, so they are read again (Lambda's
   `ReportBatchItemFailures`; locally, the checkpoint stays put). Delivery is at least once —
   a relay that dies after PutEvents and before its checkpoint puts the events again, and
   consumers are idempotent by event id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.core.events import DELIVERED_TTL_SECONDS, Event, OutboxItem
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import now_iso

PUT_BATCH = 10  # PutEvents takes at most 10 entries
PUT_BYTES = 256 * 1024  # and at most 256 KB of them
PUT_ATTEMPTS = 5
BACKOFF_SECONDS = 0.1

PutEvents = Callable[[list[dict[str, Any]]], dict[str, Any]]
MarkDelivered = Callable[[str, str], None]


@dataclass
class RelayResult:
    delivered: list[Event] = field(default_factory=list)
    failed_sequence: str | None = None  # the first record to read again
    put_calls: int = 0
    mark_calls: int = 0

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        failures = [{"itemIdentifier": self.failed_sequence}] if self.failed_sequence else []
        return {"batchItemFailures": failures}


def _outbox_events(record: dict[str, Any]) -> tuple[str, str, list[Event]] | None:
    """(PK, SK, events) of a new outbox item's stream record; None for any other record."""
    change = record.get("dynamodb", {})
    image = change.get("NewImage") or {}
    if record.get("eventName") != "INSERT" or image.get("type", {}).get("S") != "OutboxItem":
        return None
    return image["PK"]["S"], image["SK"]["S"], OutboxItem.events_of(image["events"]["S"])


def _batches(events: Sequence[Event], bus_name: str) -> list[list[Event]]:
    """At most PUT_BATCH entries and PUT_BYTES per PutEvents call, in order."""
    batches: list[list[Event]] = [[]]
    size = 0
    for event in events:
        entry = event.entry(bus_name)
        length = sum(len(str(entry[name]).encode()) for name in ("Source", "DetailType", "Detail"))
        if batches[-1] and (len(batches[-1]) == PUT_BATCH or size + length > PUT_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += length
    return [batch for batch in batches if batch]


def put_on_bus(events: Sequence[Event], bus_name: str, put_events: PutEvents,
               sleep: Callable[[float], None] = time.sleep) -> tuple[set[str], int]:
    """Put events on the bus, retrying refused entries: (ids that could not be put, calls)."""
    failed: set[str] = set()
    calls = 0
    for batch in _batches(events, bus_name):
        pending = list(batch)
        for attempt in range(PUT_ATTEMPTS):
            if attempt:
                sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            calls += 1
            try:
                answer = put_events([event.entry(bus_name) for event in pending])
            except Exception:  # the whole call failed: every entry of it is retried
                continue
            results = answer.get("Entries", [])
            if not answer.get("FailedEntryCount"):
                pending = []
                break
            # PutEvents answers one result per entry, in order; a refused one carries ErrorCode.
            pending = [event for event, result in zip(pending, results, strict=True) if result.get("ErrorCode")]
        failed |= {event.id for event in pending}
    return failed, calls


def relay(records: Sequence[dict[str, Any]], bus_name: str, put_events: PutEvents,
          mark_delivered: MarkDelivered, sleep: Callable[[float], None] = time.sleep) -> RelayResult:
    """Deliver the outbox items among `records` (stream records, in stream order)."""
    result = RelayResult()
    outbox = [(record, found) for record in records if (found := _outbox_events(record)) is not None]
    events = [event for _, (_, _, carried) in outbox for event in carried]
    failed, result.put_calls = put_on_bus(events, bus_name, put_events, sleep)
    for record, (pk, sk, carried) in outbox:
        if any(event.id in failed for event in carried):
            result.failed_sequence = record["dynamodb"]["SequenceNumber"]
            break
        mark_delivered(pk, sk)
        result.mark_calls += 1
        result.delivered.extend(carried)
    return result


def mark_delivered(pk: str, sk: str) -> None:
    """Set the outbox item's delivered time and TTL (one UpdateItem in its tenant's scope)."""
    item = OutboxItem(pk, sk)
    tenant = pk.split("#")[1]
    with tenant_scope(tenant):
        try:
            item.update([OutboxItem.delivered_at.set(now_iso()),
                         OutboxItem.expires_at.set(int(time.time()) + DELIVERED_TTL_SECONDS)],
                        OutboxItem.PK.exists())
        except UpdateError as gone:  # delivered again after it expired: nothing to mark
            if gone.cause_response_code != "ConditionalCheckFailedException":
                raise
