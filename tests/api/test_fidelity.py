"""The AWS-fidelity layer itself (bluehill_dev.fidelity): each behaviour fires with the layer on,
and the same request passes on plain moto when it is switched off — the control that shows the
behaviour comes from the layer. They run on a table of their own (outside the tenant guard's
table), so they speak to DynamoDB directly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bluehill_dev import fidelity as layer

PROBE = "fidelity-probe"


@pytest.fixture
def ddb(aws: Any) -> Iterator[Any]:
    client = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    client.create_table(
        TableName=PROBE,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "G", "GS")],
        GlobalSecondaryIndexes=[{
            "IndexName": "GSI",
            "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}, {"AttributeName": "GS", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName=PROBE)


def key(pk: str, sk: str = "1") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def add_one(pk: str) -> dict[str, Any]:
    return {"Update": {"TableName": PROBE, "Key": key(pk), "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}


def count(ddb: Any, pk: str) -> int:
    item = ddb.get_item(TableName=PROBE, Key=key(pk), ConsistentRead=True).get("Item")
    return int(item["n"]["N"]) if item else 0


def error_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def two_at_once(ddb: Any, items: list[dict[str, Any]]) -> list[str]:
    """Two transactions on the same items, the second sent while the first is held."""
    outcomes: list[str] = []

    def send() -> None:
        try:
            ddb.transact_write_items(TransactItems=items)
            outcomes.append("ok")
        except ClientError as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            outcomes.append(f"{error_code(error)}:{','.join(reasons)}")

    first = threading.Thread(target=send)
    first.start()
    time.sleep(0.05)
    send()
    first.join()
    return sorted(outcomes)


@pytest.mark.fidelity(transaction_hold_ms=300, hold_when_alone=True)
def test_a_transaction_on_an_item_another_holds_is_cancelled_with_transaction_conflict(ddb: Any,
                                                                                      fidelity: Any) -> None:
    assert two_at_once(ddb, [add_one("hot")]) == ["TransactionCanceledException:TransactionConflict", "ok"]
    assert count(ddb, "hot") == 1
    assert fidelity.conflicts == 1


@pytest.mark.fidelity(transaction_hold_ms=300, hold_when_alone=True, transaction_conflicts=False)
def test_control_without_conflicts_both_transactions_apply(ddb: Any) -> None:
    assert two_at_once(ddb, [add_one("hot")]) == ["ok", "ok"]
    assert count(ddb, "hot") == 2


@pytest.mark.fidelity(transaction_hold_ms=300, hold_when_alone=True)
def test_a_single_write_to_an_item_a_transaction_holds_fails_with_transaction_conflict(ddb: Any) -> None:
    first = threading.Thread(target=lambda: ddb.transact_write_items(TransactItems=[add_one("held")]))
    first.start()
    time.sleep(0.05)
    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName=PROBE, Item=key("held"))
    first.join()
    assert error_code(refused.value) == "TransactionConflictException"


def test_a_client_request_token_replays_a_committed_transaction_without_applying_it_again(ddb: Any,
                                                                                         fidelity: Any) -> None:
    for _ in range(2):
        ddb.transact_write_items(TransactItems=[add_one("once")], ClientRequestToken="token-1")
    assert count(ddb, "once") == 1
    with pytest.raises(ClientError) as mismatch:
        ddb.transact_write_items(TransactItems=[add_one("other")], ClientRequestToken="token-1")
    assert error_code(mismatch.value) == "IdempotentParameterMismatchException"
    assert (fidelity.token_replays, fidelity.token_mismatches) == (1, 1)


@pytest.mark.fidelity(request_tokens=False)
def test_control_without_tokens_a_resent_transaction_applies_twice(ddb: Any) -> None:
    for _ in range(2):
        ddb.transact_write_items(TransactItems=[add_one("once")], ClientRequestToken="token-1")
    assert count(ddb, "once") == 2


def test_a_token_is_forgotten_after_ten_minutes(ddb: Any) -> None:
    with layer.configured(token_ttl_seconds=0.01):
        ddb.transact_write_items(TransactItems=[add_one("ttl")], ClientRequestToken="token-2")
        time.sleep(0.02)
        ddb.transact_write_items(TransactItems=[add_one("ttl")], ClientRequestToken="token-2")
    assert count(ddb, "ttl") == 2
    assert layer.Settings().token_ttl_seconds == 600


def big_puts(n: int, size: int) -> list[dict[str, Any]]:
    return [{"Put": {"TableName": PROBE, "Item": {**key("big", str(i)), "v": {"S": "z" * size}}}} for i in range(n)]


def test_a_transaction_over_4_mb_is_refused(ddb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(TransactItems=big_puts(12, 390_000))
    assert error_code(refused.value) == "ValidationException"
    assert "4 MB" in str(refused.value)
    with layer.configured(enabled=False):  # control: moto alone takes it
        ddb.transact_write_items(TransactItems=big_puts(12, 390_000))


def test_moto_refuses_items_over_400_kb_and_transactions_over_100_items(ddb: Any) -> None:
    with pytest.raises(ClientError, match="Item size has exceeded"):
        ddb.put_item(TableName=PROBE, Item={**key("a"), "v": {"S": "x" * 410_000}})
    with pytest.raises(ClientError, match="Item size has exceeded"):
        ddb.transact_write_items(TransactItems=big_puts(1, 410_000))
    ddb.put_item(TableName=PROBE, Item={**key("b"), "v": {"S": "x" * 300_000}})
    with pytest.raises(ClientError, match="Item size to update has exceeded"):
        ddb.update_item(TableName=PROBE, Key=key("b"), UpdateExpression="SET w = :w",
                        ExpressionAttributeValues={":w": {"S": "y" * 200_000}})
    with pytest.raises(ClientError, match="length less than or equal to 100"):
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": PROBE, "Item": key("c", str(i))}}
                                                for i in range(101)])


def test_moto_caps_a_query_page_at_1_mb(ddb: Any) -> None:
    for i in range(5):
        ddb.put_item(TableName=PROBE, Item={**key("page", str(i)), "v": {"S": "z" * 300_000}})
    page = ddb.query(TableName=PROBE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "page"}})
    assert page["Count"] == 3 and page["LastEvaluatedKey"] == key("page", "2")


def put_indexed(ddb: Any, pk: str) -> None:
    ddb.put_item(TableName=PROBE, Item={**key(pk), "G": {"S": "g"}, "GS": {"S": pk}})


def through_index(ddb: Any) -> list[str]:
    page = ddb.query(TableName=PROBE, IndexName="GSI", KeyConditionExpression="G = :g",
                     ExpressionAttributeValues={":g": {"S": "g"}})
    return [item["PK"]["S"] for item in page["Items"]]


def test_an_item_just_written_is_not_yet_visible_through_an_index(ddb: Any, fidelity: Any) -> None:
    put_indexed(ddb, "fresh")
    assert through_index(ddb) == []
    assert ddb.get_item(TableName=PROBE, Key=key("fresh"))["Item"]  # the table itself has it
    assert fidelity.hidden_by_gsi_lag == 1
    layer.settle()
    assert through_index(ddb) == ["fresh"]


def test_the_index_catches_up_once_the_lag_has_passed(ddb: Any) -> None:
    # A lag long enough that a loaded machine still queries within it, then waits it out.
    with layer.configured(gsi_lag_ms=1500):
        put_indexed(ddb, "later")
        assert through_index(ddb) == []
        time.sleep(1.6)
        assert through_index(ddb) == ["later"]


@pytest.mark.fidelity(gsi_lag_ms=0)
def test_control_without_lag_the_index_answers_at_once(ddb: Any) -> None:
    put_indexed(ddb, "now")
    assert through_index(ddb) == ["now"]


@pytest.mark.fidelity(throttle_rate=1.0)
def test_throttling_answers_as_dynamodb_does(ddb: Any, fidelity: Any) -> None:
    with pytest.raises(ClientError) as single:
        ddb.get_item(TableName=PROBE, Key=key("x"))
    assert error_code(single.value) == "ProvisionedThroughputExceededException"
    with pytest.raises(ClientError) as transaction:
        ddb.transact_write_items(TransactItems=[add_one("x")])
    assert error_code(transaction.value) == "TransactionCanceledException"
    assert [r["Code"] for r in transaction.value.response["CancellationReasons"]] == ["ThrottlingError"]
    assert fidelity.throttled == 2
    with layer.configured(throttle_rate=0.0):  # control
        ddb.transact_write_items(TransactItems=[add_one("x")])
        assert count(ddb, "x") == 1


@pytest.mark.fidelity(throttle_rate=0.5, seed=7)
def test_throttling_draws_at_the_configured_rate(ddb: Any, fidelity: Any) -> None:
    outcomes = []
    for _ in range(200):
        try:
            ddb.get_item(TableName=PROBE, Key=key("y"))
            outcomes.append(True)
        except ClientError:
            outcomes.append(False)
    assert 70 <= outcomes.count(False) <= 130
    assert fidelity.throttled == outcomes.count(False)
