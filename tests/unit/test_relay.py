"""The relay's batching and retries, on stream records made by hand (no AWS)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core import relay
from chalicelib.core.events import EventData, OutboxItem


class _Pinged(EventData):
    """A test event."""

    TYPE = "Ping.Sent"
    SOURCE = "bluehill.tests"
    text: str = ""


def _record(sequence: int, texts: list[str]) -> dict[str, Any]:
    (item,) = OutboxItem.for_events([_Pinged(text=text).event("t1") for text in texts])
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(sequence), "NewImage": {
        "PK": {"S": item.PK}, "SK": {"S": item.SK}, "type": {"S": "OutboxItem"}, "events": {"S": item.events}}}}


def _accepting(calls: list[int]) -> relay.PutEvents:
    def put(entries: list[dict[str, Any]]) -> dict[str, Any]:
        calls.append(len(entries))
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in entries]}

    return put


def test_events_of_many_records_go_ten_at_a_time_and_each_item_is_marked_once() -> None:
    calls: list[int] = []
    marked: list[str] = []
    records = [_record(n, [f"{n}-{k}" for k in range(4)]) for n in range(1, 6)]
    records.insert(2, {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "99", "NewImage": {}}})
    result = relay.relay(records, "bluehill", _accepting(calls), lambda pk, sk: marked.append(sk))
    assert calls == [10, 10] and len(result.delivered) == 20 and len(marked) == 5
    assert result.batch_item_failures() == {"batchItemFailures": []}


def test_big_events_are_put_in_smaller_batches() -> None:
    calls: list[int] = []
    records = [_record(1, ["x" * 100_000, "y" * 100_000]), _record(2, ["z" * 100_000])]
    relay.relay(records, "bluehill", _accepting(calls), lambda pk, sk: None)
    assert calls == [2, 1]


def test_a_record_that_cannot_be_delivered_is_reported_with_every_record_after_it_unmarked() -> None:
    marked: list[str] = []
    records = [_record(n, [str(n)]) for n in (1, 2, 3)]
    doomed = json.loads(records[1]["dynamodb"]["NewImage"]["events"]["S"])[0]["id"]

    def refuses_one(entries: list[dict[str, Any]]) -> dict[str, Any]:
        results = [{"ErrorCode": "InternalFailure"} if json.loads(e["Detail"])["id"] == doomed else {"EventId": "e"}
                   for e in entries]
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}

    result = relay.relay(records, "bluehill", refuses_one, lambda pk, sk: marked.append(sk), sleep=lambda s: None)
    assert result.failed_sequence == "2" and len(marked) == 1
    assert [event.data["text"] for event in result.delivered] == ["1"]
