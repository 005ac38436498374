"""An AWS-fidelity layer for in-process moto: what DynamoDB does and moto does not, switched on
in every test (tests/conftest.py) and in the benchmark, each behaviour switchable per test.

moto already refuses, as DynamoDB does, an item over 400 KB (PutItem, UpdateItem and inside a
transaction), a transaction of more than 100 items, and caps a Query page at 1 MB of items read
(with a LastEvaluatedKey); tests/api/test_fidelity.py holds a control for each. This layer adds:

  * per-request atomicity — one DynamoDB request at a time is applied to moto's backend (which
    has no locking), as DynamoDB applies each request atomically;
  * transaction conflicts — a TransactWriteItems occupies its items while it is in progress;
    another transaction naming one of them meanwhile is cancelled with `TransactionConflict`
    at that item, and a single PutItem/UpdateItem/DeleteItem on it fails with
    `TransactionConflictException`. When other calls are in flight (threads), a transaction
    occupies its items for `transaction_hold_ms` from its arrival before it applies, as a real
    one takes milliseconds (moto's own queueing is not counted); a single-threaded test never
    waits (unless `hold_when_alone`);
  * `ClientRequestToken` honoured for `token_ttl_seconds` (10 minutes): the same token with the
    same request answers success without applying it again; with another request,
    `IdempotentParameterMismatchException`; a token is remembered only once its transaction
    succeeded;
  * the 4 MB transaction limit (`ValidationException`);
  * GSI lag — an item written in the last `gsi_lag_ms` is not returned by any Query on a
    global secondary index (new or changed, it is simply absent: the index has not caught up).
    `settle()` makes every earlier write visible at once (the harness's test client settles
    before each request it sends: see `settle_between_requests`);
  * throttling injected at `throttle_rate` (a seeded random draw per request): a single
    operation answers `ProvisionedThroughputExceededException` (the SDK retries it, as in AWS),
    a transaction is cancelled with `ThrottlingError` reasons (which the SDK does not retry).

Switch per test with the `fidelity` fixture or marker (tests/conftest.py), or with
`configured(...)` anywhere; `stats` counts what the layer did, so a test can prove it fired."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import Any

TRANSACTION_MAX_BYTES = 4 * 1024 * 1024
_PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass(frozen=True)
class Settings:
    """The switches and their defaults (every test starts from these)."""

    enabled: bool = True
    transaction_conflicts: bool = True
    transaction_hold_ms: float = 15.0
    hold_when_alone: bool = False  # hold even when no other call is in flight (for tests of the hold)
    request_tokens: bool = True
    token_ttl_seconds: float = 600.0
    transaction_max_bytes: int = TRANSACTION_MAX_BYTES
    item_limit_bytes: int | None = None  # below moto's 400 KB, so an ordinary write can be too large
    gsi_lag_ms: float = 500.0
    settle_between_requests: bool = True
    throttle_rate: float = 0.0
    throttle_operations: frozenset[str] = frozenset(
        {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem",
         "TransactWriteItems"}
    )
    seed: int = 0


@dataclass
class Stats:
    conflicts: int = 0
    single_write_conflicts: int = 0
    held_transactions: int = 0
    token_replays: int = 0
    token_mismatches: int = 0
    oversized_transactions: int = 0
    hidden_by_gsi_lag: int = 0
    throttled: int = 0
    lost_answers: int = 0
    conflicted_items: Counter[str] = field(default_factory=Counter)  # "PK SK" → cancellations it caused


@dataclass
class _State:
    settings: Settings = field(default_factory=Settings)
    stats: Stats = field(default_factory=Stats)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    held: dict[tuple[str, str, str], int] = field(default_factory=dict)  # item → holding thread
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (request digest, expiry)
    written: dict[tuple[str, str, str], float] = field(default_factory=dict)  # item → monotonic time
    active: dict[int, int] = field(default_factory=dict)  # thread → DynamoDB calls in flight
    last_concurrency: float = float("-inf")
    answers_to_lose: int = 0


_state = _State()
_lock = threading.RLock()  # guards _state
_apply = threading.Lock()  # one request at a time applied to moto's backend


def settings() -> Settings:
    return _state.settings


def stats() -> Stats:
    return _state.stats


def reset(**overrides: Any) -> None:
    """Back to the defaults (with these overrides), with fresh counters and no memory of earlier
    writes, holds or tokens."""
    with _lock:
        _state.settings = replace(Settings(), **overrides)
        _state.stats = Stats()
        _state.rng = random.Random(_state.settings.seed)
        _state.held.clear()
        _state.tokens.clear()
        _state.written.clear()
        _state.answers_to_lose = 0


def lose_transaction_answers(count: int = 1) -> None:
    """The next `count` transactions are applied, then answered with a 500 as if the answer had
    been lost on the way back: the SDK sends the same request again, as it does in AWS."""
    with _lock:
        _state.answers_to_lose = count


@contextmanager
def configured(**overrides: Any) -> Iterator[Stats]:
    """These switches for the block (e.g. `configured(throttle_rate=1.0)`); yields the stats."""
    unknown = set(overrides) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown fidelity switches: {sorted(unknown)}")
    with _lock:
        previous = _state.settings
        _state.settings = replace(previous, **overrides)
        if "seed" in overrides:
            _state.rng = random.Random(overrides["seed"])
    try:
        yield _state.stats
    finally:
        with _lock:
            _state.settings = previous


def settle() -> None:
    """Every write so far becomes visible through the indexes (the lag has passed)."""
    with _lock:
        _state.written.clear()


# --- what a request touches ------------------------------------------------------------------


def _table(handler: Any, name: str) -> Any:
    return handler.dynamodb_backend.get_table(name)


def _item_key(handler: Any, table_name: str, attrs: dict[str, Any]) -> tuple[str, str, str] | None:
    try:
        table = _table(handler, table_name)
    except Exception:  # an unknown table: moto answers that itself
        return None
    hash_value = attrs.get(table.hash_key_attr)
    range_value = attrs.get(table.range_key_attr) if table.range_key_attr else {}
    if hash_value is None or range_value is None:
        return None
    return table_name, json.dumps(hash_value, sort_keys=True), json.dumps(range_value, sort_keys=True)


def _transaction_keys(handler: Any, body: dict[str, Any]) -> list[tuple[str, str, str] | None]:
    keys = []
    for entry in body.get("TransactItems", []):
        kind, operation = next(iter(entry.items()))
        attrs = operation.get("Item") if kind == "Put" else operation.get("Key")
        keys.append(_item_key(handler, operation.get("TableName", ""), attrs or {}))
    return keys


def _written_keys(handler: Any, operation: str, body: dict[str, Any]) -> list[tuple[str, str, str] | None]:
    if operation == "TransactWriteItems":
        kinds = [next(iter(entry)) for entry in body.get("TransactItems", [])]
        return [key for key, kind in zip(_transaction_keys(handler, body), kinds, strict=True)
                if kind != "ConditionCheck"]
    if operation == "BatchWriteItem":
        keys = []
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                attrs = request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"]
                keys.append(_item_key(handler, table_name, attrs))
        return keys
    attrs = body.get("Item") if operation == "PutItem" else body.get("Key")
    return [_item_key(handler, body.get("TableName", ""), attrs or {})]


def _size(attrs: dict[str, Any]) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(name.encode()) + DynamoType(value).size() for name, value in attrs.items())


def _writes(operation: str, body: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(table, kind, operation) of each Put and Update a request makes."""
    if operation == "TransactWriteItems":
        for entry in body.get("TransactItems", []):
            kind, write = next(iter(entry.items()))
            yield write.get("TableName", ""), kind, write
    elif operation == "BatchWriteItem":
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    yield table_name, "Put", request["PutRequest"]
    elif operation in {"PutItem", "UpdateItem"}:
        yield body.get("TableName", ""), operation.removesuffix("Item"), body


def _refuse_large_items(handler: Any, operation: str, body: dict[str, Any]) -> None:
    """The `item_limit_bytes` switch: a Put's item, or an Update's stored item plus its new
    values, over the limit is refused as DynamoDB refuses one over 400 KB."""
    limit = _state.settings.item_limit_bytes
    if limit is None:
        return
    from moto.dynamodb.models.dynamo_type import DynamoType

    for table_name, kind, write in _writes(operation, body):
        if kind == "Put" and _size(write.get("Item", {})) > limit:
            raise _error("ValidationException", "Item size has exceeded the maximum allowed size")
        if kind == "Update":
            table = _table(handler, table_name)
            stored = table.get_item(DynamoType(write["Key"][table.hash_key_attr]),
                                    DynamoType(write["Key"][table.range_key_attr]) if table.range_key_attr else None)
            size = _size(stored.to_json()["Attributes"]) if stored else 0
            size += _size(write.get("ExpressionAttributeValues", {}))
            if size > limit:
                raise _error("ValidationException", "Item size to update has exceeded the maximum allowed size")


def _transaction_bytes(body: dict[str, Any]) -> int:
    total = 0
    for entry in body.get("TransactItems", []):
        _, operation = next(iter(entry.items()))
        total += _size(operation.get("Item") or operation.get("Key") or {})
        total += _size(operation.get("ExpressionAttributeValues") or {})
    return total


# --- the errors DynamoDB answers ---------------------------------------------------------------


def _error(code: str, message: str) -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException(_PREFIX + code, message)


def _cancelled(reasons: list[tuple[str, str] | None]) -> Exception:
    from moto.dynamodb.exceptions import TransactionCanceledException

    return TransactionCanceledException([(r[0], r[1], None) if r else (None, None, None) for r in reasons])


# --- the request path --------------------------------------------------------------------------

_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_OPERATIONS = {
    "get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem", "delete_item": "DeleteItem",
    "query": "Query", "batch_get_item": "BatchGetItem", "batch_write_item": "BatchWriteItem",
    "transact_write_items": "TransactWriteItems",
}


def _throttle(operation: str, body: dict[str, Any]) -> None:
    current = _state.settings
    if current.throttle_rate <= 0 or operation not in current.throttle_operations:
        return
    with _lock:
        hit = _state.rng.random() < current.throttle_rate
        if hit:
            _state.stats.throttled += 1
    if not hit:
        return
    message = "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling " \
              "your table or index so please try again shortly."
    if operation == "TransactWriteItems":
        raise _cancelled([("ThrottlingError", message)] * len(body.get("TransactItems", [])))
    raise _error("ProvisionedThroughputExceededException", message)


def _digest(body: dict[str, Any]) -> str:
    request = {name: value for name, value in body.items() if name != "ClientRequestToken"}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _replayed(body: dict[str, Any]) -> bool:
    """True when this token already committed this very request (answer success, apply nothing)."""
    token = body.get("ClientRequestToken")
    if not token or not _state.settings.request_tokens:
        return False
    now = time.monotonic()
    with _lock:
        remembered = _state.tokens.get(token)
        if remembered is None or remembered[1] < now:
            return False
        if remembered[0] != _digest(body):
            _state.stats.token_mismatches += 1
            raise _error("IdempotentParameterMismatchException",
                         "The request uses the same client token as a previous, but non-identical request.")
        _state.stats.token_replays += 1
        return True


def _remember_token(body: dict[str, Any]) -> None:
    token = body.get("ClientRequestToken")
    if token and _state.settings.request_tokens:
        with _lock:
            _state.tokens[token] = (_digest(body), time.monotonic() + _state.settings.token_ttl_seconds)


def _hold(handler: Any, body: dict[str, Any]) -> None:
    """The transaction occupies its items from its arrival for `transaction_hold_ms` (DynamoDB's
    own transaction latency, whatever moto's speed; only when other calls are in flight, unless
    `hold_when_alone`); one occupied by another transaction cancels this one
    (TransactionConflict at that item). Then it is applied, atomically."""
    if not _state.settings.transaction_conflicts:
        return
    me = threading.get_ident()
    keys = _transaction_keys(handler, body)
    with _lock:
        clashes = [key is not None and _state.held.get(key, me) != me for key in keys]
        if any(clashes):
            _state.stats.conflicts += 1
            _state.stats.conflicted_items.update(
                " ".join(json.loads(part)["S"] for part in key[1:] if "S" in json.loads(part))
                for key, clash in zip(keys, clashes, strict=True) if clash and key is not None)
            raise _cancelled([("TransactionConflict", "Transaction is ongoing for the item") if clash else None
                              for clash in clashes])
        mine = [key for key in keys if key is not None]
        for key in mine:
            _state.held[key] = me
        concurrent = _state.settings.hold_when_alone or time.monotonic() - _state.last_concurrency < 1.0
    try:
        if concurrent and _state.settings.transaction_hold_ms > 0:
            _state.stats.held_transactions += 1
            time.sleep(_state.settings.transaction_hold_ms / 1000)
    finally:
        with _lock:
            for key in mine:
                if _state.held.get(key) == me:
                    del _state.held[key]


def _refuse_if_held(handler: Any, operation: str, body: dict[str, Any]) -> None:
    if not _state.settings.transaction_conflicts:
        return
    me = threading.get_ident()
    with _lock:
        for key in _written_keys(handler, operation, body):
            if key is not None and _state.held.get(key, me) != me:
                _state.stats.single_write_conflicts += 1
                raise _error("TransactionConflictException", "Transaction is ongoing for the item")


def _record_writes(handler: Any, operation: str, body: dict[str, Any]) -> None:
    if _state.settings.gsi_lag_ms <= 0:
        return
    now = time.monotonic()
    with _lock:
        for key in _written_keys(handler, operation, body):
            if key is not None:
                _state.written[key] = now


@contextmanager
def _in_flight() -> Iterator[None]:
    me = threading.get_ident()
    with _lock:
        if any(count and thread != me for thread, count in _state.active.items()):
            _state.last_concurrency = time.monotonic()
        _state.active[me] = _state.active.get(me, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _state.active[me] -= 1
            if not _state.active[me]:
                del _state.active[me]


def _wrap(operation: str, action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def faithful(handler: Any) -> Any:
        if not _state.settings.enabled:
            with _apply:
                return action(handler)
        body = handler.body
        with _in_flight():
            _throttle(operation, body)
            if operation != "TransactWriteItems":
                with _apply:
                    if operation in _WRITES:
                        _refuse_if_held(handler, operation, body)
                        _refuse_large_items(handler, operation, body)
                    answer = action(handler)
                    if operation in _WRITES:  # before anyone can query: the index lags from now
                        _record_writes(handler, operation, body)
                return answer
            if _replayed(body):
                return _empty_answer()
            size = _transaction_bytes(body)
            if size > _state.settings.transaction_max_bytes:
                _state.stats.oversized_transactions += 1
                raise _error("ValidationException",
                             f"Transaction request cannot be larger than 4 MB (this one is {size} bytes)")
            _hold(handler, body)
            with _apply:
                if _replayed(body):  # the same token committed while this one was held
                    return _empty_answer()
                _refuse_large_items(handler, operation, body)
                answer = action(handler)
                _remember_token(body)
                _record_writes(handler, operation, body)
            _maybe_lose_answer()
            return answer

    faithful.__name__ = action.__name__
    return faithful


def _maybe_lose_answer() -> None:
    with _lock:
        lose = _state.answers_to_lose > 0
        _state.answers_to_lose -= lose
        _state.stats.lost_answers += lose
    if lose:
        from moto.core.exceptions import JsonRESTError

        error = JsonRESTError(_PREFIX + "InternalServerError", "Internal server error (the answer was lost)")
        error.code = 500
        raise error


def _empty_answer() -> Any:
    from moto.core.responses import ActionResult

    return ActionResult({})


def _hide_lagging(query: Callable[..., Any]) -> Callable[..., Any]:
    def lagging_query(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        items, scanned, last_key = query(backend, table_name, *args, **kwargs)
        lag = _state.settings.gsi_lag_ms / 1000
        if not kwargs.get("index_name") or not _state.settings.enabled or lag <= 0 or not _state.written:
            return items, scanned, last_key
        table = backend.get_table(table_name)
        now = time.monotonic()
        visible = []
        with _lock:
            for item in items:
                key = (table_name, json.dumps(item.attrs[table.hash_key_attr].to_json(), sort_keys=True),
                       json.dumps(item.attrs[table.range_key_attr].to_json(), sort_keys=True)
                       if table.range_key_attr else json.dumps({}))
                if now - _state.written.get(key, float("-inf")) < lag:
                    _state.stats.hidden_by_gsi_lag += 1
                else:
                    visible.append(item)
        return visible, scanned, last_key

    return lagging_query


@cache
def install() -> None:
    """Wrap moto's DynamoDB request handlers (once per process)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    for method, operation in _OPERATIONS.items():
        setattr(DynamoHandler, method, _wrap(operation, getattr(DynamoHandler, method)))
    DynamoDBBackend.query = _hide_lagging(DynamoDBBackend.query)  # type: ignore[method-assign]
