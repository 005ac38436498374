"""core.table.Transaction against the AWS-fidelity layer: a send cancelled by a conflict or by
throttling is sent again (bounded), a send whose answer was lost is not applied twice (its
ClientRequestToken), and a condition failure stays the domain error it names."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from chalicelib.core import table
from chalicelib.core.errors import Conflict, NotFound, Throttled
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import TableItem, Transaction
from pynamodb.attributes import NumberAttribute

from bluehill_dev import fidelity as layer

TENANT = "txprobe"


class ProbeCounter(TableItem):
    n = NumberAttribute(default=0)


partition = f"T#{TENANT}#probe"


def probe(sk: str) -> ProbeCounter:
    return ProbeCounter(PK=partition, SK=sk, type="ProbeCounter", tenant_id=TENANT)


@pytest.fixture
def scope(aws: Any) -> Iterator[None]:
    """Counters of this test's own (the table outlives a test)."""
    global partition
    partition = f"T#{TENANT}#probe-{uuid.uuid4().hex[:8]}"
    with tenant_scope(TENANT):
        yield


def add_one(name: str) -> Transaction:
    transaction = Transaction()
    transaction.update(probe(name), [ProbeCounter.n.add(1)])
    return transaction


def value(name: str) -> int:
    try:
        return int(ProbeCounter.get(partition, name, consistent_read=True).n)
    except ProbeCounter.DoesNotExist:
        return 0


def held_elsewhere(name: str) -> threading.Thread:
    """Another request's transaction holding the item for the layer's hold time."""

    def hold() -> None:
        with tenant_scope(TENANT):
            add_one(name).commit()

    thread = threading.Thread(target=hold)
    thread.start()
    time.sleep(0.03)
    return thread


@pytest.mark.fidelity(transaction_hold_ms=120, hold_when_alone=True)
def test_a_commit_cancelled_by_a_conflict_is_sent_again_and_succeeds(scope: None, fidelity: Any) -> None:
    other = held_elsewhere("hot")
    add_one("hot").commit()
    other.join()
    assert value("hot") == 2
    assert fidelity.conflicts >= 1


@pytest.mark.fidelity(transaction_hold_ms=120, hold_when_alone=True)
def test_control_without_retries_the_conflict_is_a_409(scope: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "COMMIT_ATTEMPTS", 1)
    other = held_elsewhere("hot")
    with pytest.raises(Conflict):
        add_one("hot").commit()
    other.join()
    assert value("hot") == 1


@pytest.mark.fidelity(transaction_hold_ms=400, hold_when_alone=True)
def test_retries_are_bounded_then_the_conflict_is_a_409(scope: None, monkeypatch: pytest.MonkeyPatch,
                                                       fidelity: Any) -> None:
    monkeypatch.setattr(table, "COMMIT_BACKOFF_SECONDS", 0.001)
    other = held_elsewhere("long")
    with pytest.raises(Conflict):
        add_one("long").commit()
    other.join()
    assert fidelity.conflicts == table.COMMIT_ATTEMPTS


def test_an_sdk_retry_of_a_commit_whose_answer_was_lost_is_not_applied_twice(scope: None, fidelity: Any) -> None:
    layer.lose_transaction_answers(1)
    add_one("once").commit()
    assert value("once") == 1
    assert (fidelity.lost_answers, fidelity.token_replays) == (1, 1)


@pytest.mark.fidelity(request_tokens=False)
def test_control_where_tokens_are_ignored_the_lost_answer_is_applied_twice(scope: None) -> None:
    layer.lose_transaction_answers(1)
    add_one("twice").commit()
    assert value("twice") == 2


def test_each_commit_sends_its_own_token_and_each_send_of_it_a_fresh_one(scope: None,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore fills in a token when none is given (TransactWriteItems declares it an idempotency
    token); the commit names its own, so a resend after a conflict is a new request."""
    from pynamodb.connection import Connection

    sent: list[str] = []
    original = Connection.transact_write_items

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(kwargs["client_request_token"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "transact_write_items", spy)
    add_one("a").commit()
    add_one("a").commit()
    assert len(set(sent)) == 2 and all(len(token) <= 36 for token in sent)


def test_two_commits_of_the_same_writes_are_two_changes(scope: None) -> None:
    add_one("each").commit()
    add_one("each").commit()
    assert value("each") == 2


@pytest.mark.fidelity(throttle_rate=0.5, seed=3)
def test_throttled_commits_are_sent_again(scope: None, fidelity: Any) -> None:
    for _ in range(10):
        add_one("busy").commit()
    assert value_unthrottled("busy") == 10
    assert fidelity.throttled > 0


def value_unthrottled(name: str) -> int:
    with layer.configured(throttle_rate=0.0):
        return value(name)


@pytest.mark.fidelity(throttle_rate=1.0)
def test_a_commit_throttled_every_time_ends_as_throttled(scope: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "COMMIT_BACKOFF_SECONDS", 0.001)
    with pytest.raises(Throttled):
        add_one("never").commit()


def test_a_condition_failure_stays_its_domain_error_and_is_not_retried(scope: None, fidelity: Any) -> None:
    transaction = Transaction()
    transaction.update(probe("absent"), [ProbeCounter.n.add(1)], ProbeCounter.PK.exists(),
                       lambda: NotFound("no such counter"))
    transaction.update(probe("present"), [ProbeCounter.n.add(1)])
    with pytest.raises(NotFound):
        transaction.commit()
    assert value("present") == 0
    assert fidelity.token_replays == 0
