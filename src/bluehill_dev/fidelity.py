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
`configured(...)` anywhere; `stats` counts what the layer did, so a test can prove it fired.

The state and the decisions live in `Layer` (its refusals are `Refused`, rendered by whoever
wraps the calls); the module-level functions act on the in-process layer over moto's handlers.
`make dev` runs another `Layer` on the SDK's side of DynamoDB Local (bluehill_dev.fidelity_client),
with the item keys read by the same `item_key` / `written_keys`."""

from __future__ import annotations

import contextlib
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


class Refused(Exception):
    """What DynamoDB would answer instead: an error `code` with its message, or (with `reasons`)
    a transaction cancelled with one reason (code, message) or None per item. Each layer renders
    it its own way (a moto exception, an HTTP answer to the SDK)."""

    def __init__(self, code: str, message: str, reasons: list[tuple[str, str] | None] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.reasons = code, message, reasons


ItemKey = tuple[str, str, str]  # (table, hash value, range value), each value as canonical JSON
KeyNames = Callable[[str], "tuple[str, str | None] | None"]  # table → (hash attribute, range attribute)

THROTTLE_MESSAGE = ("Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
                    "scaling your table or index so please try again shortly.")


class Layer:
    """The state and the decisions of one fidelity layer, whatever it wraps: moto's handlers in
    process (the module-level functions below act on that one) or the SDK's calls to DynamoDB
    Local in `make dev` (bluehill_dev.fidelity_client)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.lock = threading.RLock()  # guards the state below
        self.settings = settings or Settings()
        self.stats = Stats()
        self.rng = random.Random(self.settings.seed)
        self.held: dict[ItemKey, int] = {}  # item → holding thread
        self.tokens: dict[str, tuple[str, float]] = {}  # token → (request digest, expiry)
        self.written: dict[ItemKey, float] = {}  # item → monotonic time
        self.active: dict[int, int] = {}  # thread → DynamoDB calls in flight
        self.last_concurrency = float("-inf")
        self.answers_to_lose = 0

    def reset(self, **overrides: Any) -> None:
        with self.lock:
            self.settings = replace(Settings(), **overrides)
            self.stats = Stats()
            self.rng = random.Random(self.settings.seed)
            self.held.clear()
            self.tokens.clear()
            self.written.clear()
            self.answers_to_lose = 0

    @contextmanager
    def configured(self, **overrides: Any) -> Iterator[Stats]:
        unknown = set(overrides) - {f.name for f in fields(Settings)}
        if unknown:
            raise TypeError(f"unknown fidelity switches: {sorted(unknown)}")
        with self.lock:
            previous = self.settings
            self.settings = replace(previous, **overrides)
            if "seed" in overrides:
                self.rng = random.Random(overrides["seed"])
        try:
            yield self.stats
        finally:
            with self.lock:
                self.settings = previous

    def settle(self) -> None:
        with self.lock:
            self.written.clear()

    # --- the decisions -------------------------------------------------------------------------

    def throttle(self, operation: str, body: dict[str, Any]) -> None:
        """A seeded draw at `throttle_rate`: Refused as DynamoDB throttles this operation."""
        current = self.settings
        if current.throttle_rate <= 0 or operation not in current.throttle_operations:
            return
        with self.lock:
            hit = self.rng.random() < current.throttle_rate
            self.stats.throttled += hit
        if not hit:
            return
        if operation == "TransactWriteItems":
            raise Refused("TransactionCanceledException", "Transaction cancelled",
                          [("ThrottlingError", THROTTLE_MESSAGE)] * len(body.get("TransactItems", [])))
        raise Refused("ProvisionedThroughputExceededException", THROTTLE_MESSAGE)

    def replayed(self, body: dict[str, Any]) -> bool:
        """True when this token already committed this very request (answer success, apply nothing)."""
        token = body.get("ClientRequestToken")
        if not token or not self.settings.request_tokens:
            return False
        now = time.monotonic()
        with self.lock:
            remembered = self.tokens.get(token)
            if remembered is None or remembered[1] < now:
                return False
            if remembered[0] != _digest(body):
                self.stats.token_mismatches += 1
                raise Refused("IdempotentParameterMismatchException",
                              "The request uses the same client token as a previous, but non-identical request.")
            self.stats.token_replays += 1
            return True

    def remember_token(self, body: dict[str, Any]) -> None:
        token = body.get("ClientRequestToken")
        if token and self.settings.request_tokens:
            with self.lock:
                self.tokens[token] = (_digest(body), time.monotonic() + self.settings.token_ttl_seconds)

    def hold(self, keys: list[ItemKey | None]) -> None:
        """The transaction occupies its items from its arrival for `transaction_hold_ms` (DynamoDB's
        own transaction latency, whatever the emulator's speed; only when other calls are in
        flight, unless `hold_when_alone`); one occupied by another transaction cancels this one
        (TransactionConflict at that item). The caller applies it afterwards."""
        if not self.settings.transaction_conflicts:
            return
        me = threading.get_ident()
        with self.lock:
            clashes = [key is not None and self.held.get(key, me) != me for key in keys]
            if any(clashes):
                self.stats.conflicts += 1
                self.stats.conflicted_items.update(
                    " ".join(json.loads(part)["S"] for part in key[1:] if "S" in json.loads(part))
                    for key, clash in zip(keys, clashes, strict=True) if clash and key is not None)
                raise Refused("TransactionCanceledException", "Transaction cancelled",
                              [("TransactionConflict", "Transaction is ongoing for the item") if clash else None
                               for clash in clashes])
            mine = [key for key in keys if key is not None]
            for key in mine:
                self.held[key] = me
            concurrent = self.settings.hold_when_alone or time.monotonic() - self.last_concurrency < 1.0
        try:
            if concurrent and self.settings.transaction_hold_ms > 0:
                self.stats.held_transactions += 1
                time.sleep(self.settings.transaction_hold_ms / 1000)
        finally:
            with self.lock:
                for key in mine:
                    if self.held.get(key) == me:
                        del self.held[key]

    def refuse_if_held(self, keys: list[ItemKey | None]) -> None:
        """A single write to an item a transaction of another thread holds."""
        if not self.settings.transaction_conflicts:
            return
        me = threading.get_ident()
        with self.lock:
            for key in keys:
                if key is not None and self.held.get(key, me) != me:
                    self.stats.single_write_conflicts += 1
                    raise Refused("TransactionConflictException", "Transaction is ongoing for the item")

    def record_writes(self, keys: list[ItemKey | None]) -> None:
        """These items were just written: the indexes lag behind them for `gsi_lag_ms`."""
        if self.settings.gsi_lag_ms <= 0:
            return
        now = time.monotonic()
        with self.lock:
            for key in keys:
                if key is not None:
                    self.written[key] = now

    def visible(self, keys: list[ItemKey]) -> list[bool]:
        """Which of these items a Query on a global secondary index may return now (counting
        the ones the lag hides)."""
        lag = self.settings.gsi_lag_ms / 1000
        if not self.settings.enabled or lag <= 0 or not self.written:
            return [True] * len(keys)
        now = time.monotonic()
        with self.lock:
            shown = [now - self.written.get(key, float("-inf")) >= lag for key in keys]
            self.stats.hidden_by_gsi_lag += shown.count(False)
        return shown

    def arrive(self) -> None:
        """A DynamoDB call of this thread is in flight (noting whether another thread's is too)."""
        me = threading.get_ident()
        with self.lock:
            if any(count and thread != me for thread, count in self.active.items()):
                self.last_concurrency = time.monotonic()
            self.active[me] = self.active.get(me, 0) + 1

    def leave(self) -> None:
        me = threading.get_ident()
        with self.lock:
            if self.active.get(me):
                self.active[me] -= 1
                if not self.active[me]:
                    del self.active[me]

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        self.arrive()
        try:
            yield
        finally:
            self.leave()

    def lose_answer(self) -> bool:
        with self.lock:
            lose = self.answers_to_lose > 0
            self.answers_to_lose -= lose
            self.stats.lost_answers += lose
        return lose


_layer = Layer()  # the in-process layer over moto
_apply = threading.Lock()  # one request at a time applied to moto's backend


def settings() -> Settings:
    return _layer.settings


def stats() -> Stats:
    return _layer.stats


def reset(**overrides: Any) -> None:
    """Back to the defaults (with these overrides), with fresh counters and no memory of earlier
    writes, holds or tokens."""
    _layer.reset(**overrides)


def lose_transaction_answers(count: int = 1) -> None:
    """The next `count` transactions are applied, then answered with a 500 as if the answer had
    been lost on the way back: the SDK sends the same request again, as it does in AWS."""
    with _layer.lock:
        _layer.answers_to_lose = count


def configured(**overrides: Any) -> contextlib.AbstractContextManager[Stats]:
    """These switches for the block (e.g. `configured(throttle_rate=1.0)`); yields the stats."""
    return _layer.configured(**overrides)


def settle() -> None:
    """Every write so far becomes visible through the indexes (the lag has passed)."""
    _layer.settle()


# --- what a request touches ------------------------------------------------------------------


def item_key(names: KeyNames, table_name: str, attrs: dict[str, Any]) -> ItemKey | None:
    """The item these attributes (a key or a whole item, in DynamoDB JSON) name, if they name one."""
    key_names = names(table_name)
    if key_names is None:  # an unknown table: DynamoDB answers that itself
        return None
    hash_value = attrs.get(key_names[0])
    range_value = attrs.get(key_names[1]) if key_names[1] else {}
    if hash_value is None or range_value is None:
        return None
    return table_name, json.dumps(hash_value, sort_keys=True), json.dumps(range_value, sort_keys=True)


def transaction_keys(names: KeyNames, body: dict[str, Any]) -> list[ItemKey | None]:
    keys = []
    for entry in body.get("TransactItems", []):
        kind, operation = next(iter(entry.items()))
        attrs = operation.get("Item") if kind == "Put" else operation.get("Key")
        keys.append(item_key(names, operation.get("TableName", ""), attrs or {}))
    return keys


def written_keys(names: KeyNames, operation: str, body: dict[str, Any]) -> list[ItemKey | None]:
    if operation == "TransactWriteItems":
        kinds = [next(iter(entry)) for entry in body.get("TransactItems", [])]
        return [key for key, kind in zip(transaction_keys(names, body), kinds, strict=True)
                if kind != "ConditionCheck"]
    if operation == "BatchWriteItem":
        keys = []
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                attrs = request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"]
                keys.append(item_key(names, table_name, attrs))
        return keys
    attrs = body.get("Item") if operation == "PutItem" else body.get("Key")
    return [item_key(names, body.get("TableName", ""), attrs or {})]


def _digest(body: dict[str, Any]) -> str:
    request = {name: value for name, value in body.items() if name != "ClientRequestToken"}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


# --- the moto layer ----------------------------------------------------------------------------


def _table(handler: Any, name: str) -> Any:
    return handler.dynamodb_backend.get_table(name)


def _key_names(handler: Any) -> KeyNames:
    def names(table_name: str) -> tuple[str, str | None] | None:
        try:
            table = _table(handler, table_name)
        except Exception:  # an unknown table: moto answers that itself
            return None
        return table.hash_key_attr, table.range_key_attr

    return names


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
    limit = _layer.settings.item_limit_bytes
    if limit is None:
        return
    from moto.dynamodb.models.dynamo_type import DynamoType

    for table_name, kind, write in _writes(operation, body):
        if kind == "Put" and _size(write.get("Item", {})) > limit:
            raise Refused("ValidationException", "Item size has exceeded the maximum allowed size")
        if kind == "Update":
            table = _table(handler, table_name)
            stored = table.get_item(DynamoType(write["Key"][table.hash_key_attr]),
                                    DynamoType(write["Key"][table.range_key_attr]) if table.range_key_attr else None)
            size = _size(stored.to_json()["Attributes"]) if stored else 0
            size += _size(write.get("ExpressionAttributeValues", {}))
            if size > limit:
                raise Refused("ValidationException", "Item size to update has exceeded the maximum allowed size")


def _transaction_bytes(body: dict[str, Any]) -> int:
    total = 0
    for entry in body.get("TransactItems", []):
        _, operation = next(iter(entry.items()))
        total += _size(operation.get("Item") or operation.get("Key") or {})
        total += _size(operation.get("ExpressionAttributeValues") or {})
    return total


def _moto_error(refused: Refused) -> Exception:
    """The refusal as moto's server answers it."""
    from moto.dynamodb.exceptions import DynamodbException, TransactionCanceledException

    if refused.reasons is not None:
        return TransactionCanceledException([(r[0], r[1], None) if r else (None, None, None)
                                             for r in refused.reasons])
    return DynamodbException(_PREFIX + refused.code, refused.message)


_OPERATIONS = {
    "get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem", "delete_item": "DeleteItem",
    "query": "Query", "batch_get_item": "BatchGetItem", "batch_write_item": "BatchWriteItem",
    "transact_write_items": "TransactWriteItems",
}


def _wrap(operation: str, action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def faithful(handler: Any) -> Any:
        if not _layer.settings.enabled:
            with _apply:
                return action(handler)
        try:
            return _faithfully(operation, action, handler)
        except Refused as refused:
            raise _moto_error(refused) from None

    faithful.__name__ = action.__name__
    return faithful


def _faithfully(operation: str, action: Callable[[Any], Any], handler: Any) -> Any:
    body, names = handler.body, _key_names(handler)
    with _layer.in_flight():
        _layer.throttle(operation, body)
        if operation != "TransactWriteItems":
            with _apply:
                if operation in WRITES:
                    _layer.refuse_if_held(written_keys(names, operation, body))
                    _refuse_large_items(handler, operation, body)
                answer = action(handler)
                if operation in WRITES:  # before anyone can query: the index lags from now
                    _layer.record_writes(written_keys(names, operation, body))
            return answer
        if _layer.replayed(body):
            return _empty_answer()
        size = _transaction_bytes(body)
        if size > _layer.settings.transaction_max_bytes:
            _layer.stats.oversized_transactions += 1
            raise Refused("ValidationException",
                          f"Transaction request cannot be larger than 4 MB (this one is {size} bytes)")
        _layer.hold(transaction_keys(names, body))
        with _apply:
            if _layer.replayed(body):  # the same token committed while this one was held
                return _empty_answer()
            _refuse_large_items(handler, operation, body)
            answer = action(handler)
            _layer.remember_token(body)
            _layer.record_writes(written_keys(names, operation, body))
        if _layer.lose_answer():
            from moto.core.exceptions import JsonRESTError

            error = JsonRESTError(_PREFIX + "InternalServerError", "Internal server error (the answer was lost)")
            error.code = 500
            raise error
        return answer


def _empty_answer() -> Any:
    from moto.core.responses import ActionResult

    return ActionResult({})


def _hide_lagging(query: Callable[..., Any]) -> Callable[..., Any]:
    def lagging_query(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        items, scanned, last_key = query(backend, table_name, *args, **kwargs)
        if not kwargs.get("index_name") or not items:
            return items, scanned, last_key
        table = backend.get_table(table_name)
        keys = [(table_name, json.dumps(item.attrs[table.hash_key_attr].to_json(), sort_keys=True),
                 json.dumps(item.attrs[table.range_key_attr].to_json(), sort_keys=True)
                 if table.range_key_attr else json.dumps({})) for item in items]
        shown = _layer.visible(keys)
        return [item for item, show in zip(items, shown, strict=True) if show], scanned, last_key

    return lagging_query


@cache
def install() -> None:
    """Wrap moto's DynamoDB request handlers (once per process)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    for method, operation in _OPERATIONS.items():
        setattr(DynamoHandler, method, _wrap(operation, getattr(DynamoHandler, method)))
    DynamoDBBackend.query = _hide_lagging(DynamoDBBackend.query)  # type: ignore[method-assign]
