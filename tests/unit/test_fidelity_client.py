"""The SDK-side fidelity hooks `make dev` puts on every DynamoDB client (bluehill_dev.fidelity_client),
here on clients of a moto server over HTTP, as they reach DynamoDB Local (an answer the hooks give
in DynamoDB's place means the request is never sent; the moto-side layer is switched off, so
only the hooks act)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bluehill_dev import fidelity, fidelity_client, resources
from bluehill_dev.stack_process import free_port

pytestmark = pytest.mark.fidelity(enabled=False)
TABLE = "fidelity-client-hooks"
KEYS = {TABLE: ("PK", "SK")}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        _client(url).create_table(**{**resources.table_definition(), "TableName": TABLE})
        yield url
    finally:
        server.stop()


def _client(endpoint: str) -> Any:
    return boto3.client("dynamodb", region_name=resources.REGION, endpoint_url=endpoint,
                        aws_access_key_id="local", aws_secret_access_key="local",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


@pytest.fixture
def layer() -> fidelity.Layer:
    return fidelity.Layer(fidelity.Settings(request_tokens=False, settle_between_requests=False))


@pytest.fixture
def client(endpoint: str, layer: fidelity.Layer) -> Iterator[Any]:
    hooked = _client(endpoint)
    fidelity_client.ClientLayer(layer, KEYS.get).register(hooked)
    yield hooked


def _item(pk: str, **more: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "A"}, **{name: {"S": value} for name, value in more.items()}}


def _on_index(client: Any, partition: str) -> list[str]:
    page = client.query(TableName=TABLE, IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
                        ExpressionAttributeValues={":p": {"S": partition}})
    assert page["Count"] == len(page["Items"])
    return [item["PK"]["S"] for item in page["Items"]]


def test_the_switches_come_from_the_environment_with_make_devs_defaults() -> None:
    defaults = fidelity_client.settings_from_environment({})
    assert (defaults.enabled, defaults.gsi_lag_ms, defaults.throttle_rate, defaults.transaction_conflicts) == \
        (True, 500.0, 0.0, True)
    assert not defaults.request_tokens  # DynamoDB Local honours ClientRequestToken itself
    set_ = fidelity_client.settings_from_environment({"BLUEHILL_FIDELITY_THROTTLE": "0.25",
                                                      "BLUEHILL_FIDELITY_GSI_LAG_MS": "0",
                                                      "BLUEHILL_FIDELITY_CONFLICTS": "off"})
    assert (set_.throttle_rate, set_.gsi_lag_ms, set_.transaction_conflicts) == (0.25, 0.0, False)
    assert fidelity_client.describe(set_) == "GSI lag off; throttling rate 0.25; transaction conflicts off"
    assert fidelity_client.describe(fidelity_client.settings_from_environment({"BLUEHILL_FIDELITY": "0"})) \
        .startswith("off")


@pytest.mark.parametrize("variable,value", [("BLUEHILL_FIDELITY_THROTTLE", "lots"),
                                            ("BLUEHILL_FIDELITY_THROTTLE", "1.5"),
                                            ("BLUEHILL_FIDELITY_CONFLICTS", "maybe"),
                                            ("BLUEHILL_FIDELITY_GSI_LAG_MS", "-1")])
def test_a_bad_switch_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(fidelity_client.BadSwitch, match=variable):
        fidelity_client.settings_from_environment({variable: value})


def test_throttling_answers_as_dynamodb_does_and_rate_0_never_throttles(client: Any, layer: fidelity.Layer) -> None:
    client.put_item(TableName=TABLE, Item=_item("T#thr"))  # rate 0: the control
    with layer.configured(throttle_rate=1.0):
        with pytest.raises(ClientError) as throttled:
            client.get_item(TableName=TABLE, Key=_item("T#thr"))
        assert throttled.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        with pytest.raises(ClientError) as cancelled:
            client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": _item("T#thr2")}}])
        assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == ["ThrottlingError"]
    assert layer.stats.throttled == 2
    assert "Item" not in client.get_item(TableName=TABLE, Key=_item("T#thr2"))  # nothing applied


def test_an_item_written_is_absent_from_gsi_queries_until_the_lag_passes(client: Any, layer: fidelity.Layer) -> None:
    with layer.configured(gsi_lag_ms=300):
        client.put_item(TableName=TABLE, Item=_item("T#lag1", GSI1PK="LAG", GSI1SK="1"))
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _item("T#lag2", GSI1PK="LAG", GSI1SK="2")}}])
        assert _on_index(client, "LAG") == []
        assert "Item" in client.get_item(TableName=TABLE, Key=_item("T#lag1"))  # the table itself is current
        assert layer.stats.hidden_by_gsi_lag == 2
        time.sleep(0.35)
        assert _on_index(client, "LAG") == ["T#lag1", "T#lag2"]
    with layer.configured(gsi_lag_ms=0):  # the control: no lag, seen at once
        client.put_item(TableName=TABLE, Item=_item("T#lag3", GSI1PK="LAG0", GSI1SK="3"))
        assert _on_index(client, "LAG0") == ["T#lag3"]


def test_a_transaction_on_an_item_another_holds_is_cancelled_with_transaction_conflict(
        client: Any, layer: fidelity.Layer, endpoint: str) -> None:
    other = _client(endpoint)
    fidelity_client.ClientLayer(layer, KEYS.get).register(other)
    write = [{"Update": {"TableName": TABLE, "Key": _item("T#hot"), "UpdateExpression": "ADD n :one",
                         "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    with layer.configured(transaction_hold_ms=400, hold_when_alone=True):
        holder = threading.Thread(target=other.transact_write_items, kwargs={"TransactItems": write})
        holder.start()
        time.sleep(0.1)
        with pytest.raises(ClientError) as cancelled:
            client.transact_write_items(TransactItems=write)
        with pytest.raises(ClientError) as single:
            client.update_item(TableName=TABLE, Key=_item("T#hot"), UpdateExpression="ADD n :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})
        holder.join()
    assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == ["TransactionConflict"]
    assert single.value.response["Error"]["Code"] == "TransactionConflictException"
    assert client.get_item(TableName=TABLE, Key=_item("T#hot"))["Item"]["n"] == {"N": "1"}  # only the holder's
    assert (layer.stats.conflicts, layer.stats.single_write_conflicts) == (1, 1)


def test_switched_off_the_hooks_do_nothing(client: Any, layer: fidelity.Layer) -> None:
    with layer.configured(enabled=False, throttle_rate=1.0):
        client.put_item(TableName=TABLE, Item=_item("T#off", GSI1PK="OFF", GSI1SK="1"))
        assert _on_index(client, "OFF") == ["T#off"]
    assert layer.stats.throttled == 0


def test_throttling_can_be_narrowed_to_some_operations(client: Any, layer: fidelity.Layer) -> None:
    narrowed = fidelity_client.settings_from_environment({"BLUEHILL_FIDELITY_THROTTLE": "1",
                                                          "BLUEHILL_FIDELITY_THROTTLE_OPERATIONS": "Query, PutItem"})
    assert narrowed.throttle_operations == {"Query", "PutItem"}
    assert fidelity_client.describe(narrowed).startswith("GSI lag 500 ms; throttling rate 1 (PutItem, Query only)")
    with pytest.raises(fidelity_client.BadSwitch, match="DescribeTable"):
        fidelity_client.settings_from_environment({"BLUEHILL_FIDELITY_THROTTLE_OPERATIONS": "Query,DescribeTable"})
    with layer.configured(throttle_rate=1.0, throttle_operations=narrowed.throttle_operations):
        assert "Item" not in client.get_item(TableName=TABLE, Key=_item("T#narrow"))  # not throttled
        with pytest.raises(ClientError) as throttled:
            client.put_item(TableName=TABLE, Item=_item("T#narrow"))
    assert throttled.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_the_summary_says_what_the_layer_did(client: Any, layer: fidelity.Layer) -> None:
    with layer.configured(throttle_rate=1.0), pytest.raises(ClientError):
        client.get_item(TableName=TABLE, Key=_item("T#sum"))
    assert fidelity_client.summary(layer.stats).startswith("AWS fidelity did: 1 throttled, 0 transactions cancelled")
