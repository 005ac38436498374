"""The DynamoDB calls a piece of work makes, as the bench harness counts them per route (for a
test that pins a call budget without the authorizer's own reads)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client


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
