"""`Idempotency-Key` on creates, through Powertools idempotency: the same key with the same
body returns the first answer; with a different body, 409."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from chalicelib.core.errors import Conflict
from chalicelib.core.settings import get_settings

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@cache
def _persistence() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)


@cache
def _config() -> Any:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )


@cache
def _runner(operation: str) -> Callable[..., Any]:
    """One idempotent function per operation; its name is part of every stored key."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function

    def run(request: dict[str, Any], execute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return execute()

    run.__name__ = run.__qualname__ = operation
    return idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=_config())(
        run
    )


def run_once(operation: str, scope_key: str, body: Any, execute: Callable[[], dict[str, Any]],
             lambda_context: Any = None) -> dict[str, Any]:
    """With the invocation's Lambda context, an attempt that dies with its Lambda (a timeout)
    frees the key when the Lambda would have ended; without it, the key stays "in progress"
    and every retry is a 409 until the record expires a day later."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if lambda_context is not None:
        _config().register_lambda_context(lambda_context)

    try:
        return _runner(operation)(request={"key": scope_key, "body": body}, execute=execute)
    except IdempotencyValidationError as error:
        raise Conflict("Idempotency-Key was already used with a different request body") from error
    except IdempotencyAlreadyInProgressError as error:
        raise Conflict("a request with this Idempotency-Key is still in progress") from error
