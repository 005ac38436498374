"""The outbox items a transaction's events make: one per tenant, split when they would pass
DynamoDB's item size, every event kept in order."""

from __future__ import annotations

from chalicelib.core.events import MAX_OUTBOX_BYTES, Change, EventData, OutboxItem
from chalicelib.core.table import Transaction


class _Noted(EventData):
    """A test event."""

    TYPE = "Note.Written"
    SOURCE = "bluehill.tests"
    text: str
    change: Change | None = None


def test_a_transactions_events_ride_in_one_item_counted_as_one_write() -> None:
    tx = Transaction()
    events = [_Noted(text=f"n{n}").event("t1") for n in range(40)]
    tx.publish(*events)
    (item,) = OutboxItem.for_events(events)
    assert ("T#t1#OUTBOX", f"EVT#{events[0].id}") == (item.PK, item.SK)
    assert [event.id for event in OutboxItem.events_of(item.events)] == [event.id for event in events]
    assert len(tx) == 1


def test_events_bigger_than_one_item_are_split_in_order() -> None:
    big = [_Noted(text="x" * 100_000).event("t1") for _ in range(7)]
    items = OutboxItem.for_events(big)
    assert len(items) == 4 and all(len(item.events) < MAX_OUTBOX_BYTES + 1000 for item in items)
    assert [e.id for item in items for e in OutboxItem.events_of(item.events)] == [e.id for e in big]


def test_each_tenant_gets_its_own_item() -> None:
    items = OutboxItem.for_events([_Noted(text="a").event("t1"), _Noted(text="b").event("t2")])
    assert sorted(item.PK for item in items) == ["T#t1#OUTBOX", "T#t2#OUTBOX"]


def test_a_type_is_declared_once_and_named_as_the_convention_says() -> None:
    import pytest

    with pytest.raises(TypeError, match="declared twice"):
        type("Other", (EventData,), {"__annotations__": {}, "TYPE": "Note.Written", "SOURCE": "bluehill.tests",
                                     "__module__": __name__})
    with pytest.raises(TypeError, match="PastTenseVerb"):
        type("Bad", (EventData,), {"TYPE": "noted", "SOURCE": "bluehill.tests", "__module__": __name__})
    with pytest.raises(TypeError, match=r"bluehill\.<capability>"):
        type("Bad2", (EventData,), {"TYPE": "Note.Read", "SOURCE": "tests", "__module__": __name__})
