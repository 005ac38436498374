"""DynamoDB as the suite must see it beyond what moto shows: GSI lag, and the calls a piece of
work makes.

GSI lag, as DynamoDB has it and moto does not: while `gsi_lag()` is active, an item written
through the table (PutItem, UpdateItem, DeleteItem, TransactWriteItems) stays invisible to
every Query on a secondary index — as an item written in the last moments is on AWS. A request
that reads its own write back through an index then finds nothing.

A test-local stand-in until the suite's AWS-fidelity layer has its own GSI-lag switch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client

Key = tuple[str | None, str | None]


def _key(image: dict[str, Any]) -> Key:
    return image.get("PK", {}).get("S"), image.get("SK", {}).get("S")


def _written(operation: str, params: dict[str, Any]) -> list[Key]:
    if operation == "PutItem":
        return [_key(params["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [_key(params["Key"])]
    if operation == "TransactWriteItems":
        keys = []
        for action in params["TransactItems"]:
            for kind, body in action.items():
                if kind == "Put":
                    keys.append(_key(body["Item"]))
                elif kind in ("Update", "Delete"):
                    keys.append(_key(body["Key"]))
        return keys
    return []


@contextmanager
def gsi_lag() -> Iterator[set[Key]]:
    """Yields the set of keys written meanwhile (all of them hidden from index Queries)."""
    original = botocore.client.BaseClient._make_api_call
    recent: set[Key] = set()

    def make_api_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        recent.update(_written(operation, params))
        answer = original(self, operation, params)
        if operation == "Query" and params.get("IndexName"):
            items = [item for item in answer.get("Items", []) if _key(item) not in recent]
            answer = {**answer, "Items": items, "Count": len(items)}
        return answer

    botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield recent
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """Yields the list of DynamoDB operations made meanwhile, in order."""
    original = botocore.client.BaseClient._make_api_call
    made: list[str] = []

    def make_api_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            made.append(operation)
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield made
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
