"""`bluehill events replay` refuses what it cannot do instead of replaying nothing, or to no
one, and reporting success: a `--since` that is not ISO, an undeclared `--type`, an unknown
`--consumer`. A date or an offset is read as the instant it names."""

from __future__ import annotations

import json
from pathlib import Path

import chalicelib.wiring  # noqa: F401  (declares every room's event types and consumers)
import pytest
from chalicelib.customers.events import ContactDeleted

from bluehill_dev import eventbus


@pytest.fixture
def store(tmp_path: Path) -> eventbus.LocalStore:
    store = eventbus.LocalStore(tmp_path)
    for at in ("2026-12-03T23:59:59Z", "2026-12-04T09:30:00Z"):
        # an event no consumer takes (this is a unit test: no table to deliver to)
        event = ContactDeleted(customer_id="c1", contact_id="k1").event("acme")
        store.archive(event.model_copy(update={"occurred_at": at}))
    return store


@pytest.mark.parametrize("arguments, refused", [
    ({"since": "yesterday"}, "--since 'yesterday' is not an ISO date or instant"),
    ({"since": "2026-12-04", "event_type": "Contact.Delted"}, "no event type 'Contact.Delted'"),
    ({"since": "2026-12-04", "consumer": "templates_follow_contract_strat"},
     "no consumer named 'templates_follow_contract_strat'; registered: .*templates_follow_contract_start"),
])
def test_a_replay_it_cannot_do_is_refused_naming_why(store: eventbus.LocalStore, arguments: dict[str, str],
                                                     refused: str) -> None:
    with pytest.raises(eventbus.BadReplay, match=refused.replace("(", r"\(")):
        eventbus.replay(store, **arguments)


@pytest.mark.parametrize("since, replayed", [
    ("2026-12-04", ["2026-12-04T09:30:00Z"]),
    ("2026-12-04T10:00:00+01:00", ["2026-12-04T09:30:00Z"]),
    ("2026-12-04T09:30:00.000Z", ["2026-12-04T09:30:00Z"]),
    ("2026-12-04T08:30:01-01:00", []),
    ("2026-12-03", ["2026-12-03T23:59:59Z", "2026-12-04T09:30:00Z"]),
])
def test_since_is_the_instant_it_names(store: eventbus.LocalStore, since: str, replayed: list[str]) -> None:
    assert [d.event.occurred_at for d in eventbus.replay(store, since, "Contact.Deleted")] == replayed


def test_a_replay_is_in_the_delivery_log_that_tail_reads(store: eventbus.LocalStore) -> None:
    (replayed,) = eventbus.replay(store, "2026-12-04")
    logged = [json.loads(line) for line in (store.directory / "deliveries.jsonl").read_text().splitlines()]
    assert [(entry["type"], entry["id"], entry["outcomes"]) for entry in logged] == [
        ("Contact.Deleted", replayed.event.id, {})]
