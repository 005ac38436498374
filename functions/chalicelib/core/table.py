"""The single table: the PynamoDB base every room's models extend, its indexes, and the
transaction helper that turns DynamoDB condition failures into domain errors."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core import schema
from chalicelib.core.errors import Conflict, DomainError, PayloadTooLarge, Throttled
from chalicelib.core.pagination import READ_AHEAD, with_identity
from chalicelib.core.settings import table_name
from chalicelib.core.tenant_credentials import ScopedConnection, scoped


def _endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL") or None


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class TableMeta:
    table_name = table_name()
    region = _region()
    host = _endpoint()
    max_retry_attempts = 3


def tenant_key(tenant_id: str, *parts: str) -> str:
    """A partition key value inside a tenant: `T#<tenant>#part#part`."""
    return "#".join(("T", tenant_id, *parts))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _index(definition: schema.IndexDefinition) -> type[GlobalSecondaryIndex]:
    class Meta:
        index_name = definition.name
        projection = AllProjection()
        region = _region()
        host = _endpoint()

    attrs: dict[str, Any] = {
        "Meta": Meta,
        definition.partition_key: UnicodeAttribute(hash_key=True, attr_name=definition.partition_key),
        definition.sort_key: UnicodeAttribute(range_key=True, attr_name=definition.sort_key),
    }
    return type(definition.name, (GlobalSecondaryIndex,), attrs)


GSI1, GSI2, GSI3, GSI4, GSI5 = (_index(definition) for definition in schema.TENANT_INDEXES)
# System-scoped: only jobs in system_scope() may query it (see core/schema.py).
SystemDueIndex = _index(schema.SYSTEM_DUE_INDEX)


# Every index key attribute, optional: an item carries the keys of the indexes it is in (a
# model's index objects name them: `by_due = GSI1()`), and no others.
_IndexKeys = type("_IndexKeys", (), {
    name: UnicodeAttribute(null=True)
    for index in schema.ALL_INDEXES for name in (index.partition_key, index.sort_key)
})


class TableItem(_IndexKeys, Model):
    """Fields every item carries, and the index key attributes any item may set. Subclasses
    declare their own attributes, their indexes and key builders."""

    class Meta(TableMeta):
        pass

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    tenant_id = UnicodeAttribute()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """PynamoDB's connection, signing each call with the current tenant's credentials."""
        connection = super()._get_connection()
        scoped(connection.connection)
        return connection


class VersionedItem(TableItem):
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


@dataclass
class _Step:
    on_condition_failure: Callable[[], DomainError] | None


# PynamoDB sends a transaction's items grouped by kind in this order, whatever order they were
# added in; DynamoDB's cancellation reasons follow the items as sent.
_SENT_ORDER = {"condition_check": 0, "delete": 1, "save": 2, "update": 3}

# A transaction cancelled only because another one held an item, or because DynamoDB throttled
# it, changed nothing: it is sent again after a jittered, growing pause, this many times at most.
COMMIT_ATTEMPTS = 8
COMMIT_BACKOFF_SECONDS = 0.025
COMMIT_BACKOFF_CAP_SECONDS = 1.0
_TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError"})


MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit


@dataclass
class Transaction:
    """Collects the writes of one change; commit() runs them as one TransactWriteItems.

    Each step may name the domain error its condition stands for, so a failure says *why*
    (stale version, duplicate email, not permitted) without parsing any message text."""

    _steps: list[tuple[str, tuple[Any, ...], dict[str, Any], _Step]] = field(default_factory=list)
    # Domain events of this change: committed with it as one outbox item per tenant (core/events.py).
    _events: list[Any] = field(default_factory=list)

    def publish(self, *events: Any) -> None:
        """Commit these events (core.events.Event) with this transaction's writes: one outbox
        item carries all of them, so a transaction with events holds one item more."""
        self._events.extend(events)

    def put(
        self,
        item: TableItem,
        condition: Condition | None = None,
        on_condition_failure: Callable[[], DomainError] | None = None,
    ) -> None:
        self._steps.append(("save", (item,), {"condition": condition}, _Step(on_condition_failure)))

    def create(self, item: TableItem, on_conflict: Callable[[], DomainError]) -> None:
        self.put(item, TableItem.PK.does_not_exist(), on_conflict)

    def update(
        self,
        item: TableItem,
        actions: list[Action],
        condition: Condition | None = None,
        on_condition_failure: Callable[[], DomainError] | None = None,
    ) -> None:
        self._steps.append(
            ("update", (item, actions), {"condition": condition}, _Step(on_condition_failure))
        )

    def delete(
        self,
        item: TableItem,
        condition: Condition | None = None,
        on_condition_failure: Callable[[], DomainError] | None = None,
    ) -> None:
        self._steps.append(("delete", (item,), {"condition": condition}, _Step(on_condition_failure)))

    def check(
        self,
        model: type[TableItem],
        pk: str,
        sk: str,
        condition: Condition,
        on_condition_failure: Callable[[], DomainError],
    ) -> None:
        # DynamoDB refuses two operations on one item in a transaction: a second check of an
        # item already checked (an assignee who is also the owner) joins the first.
        for method, args, kwargs, _ in self._steps:
            if method == "condition_check" and args[1:] == (pk, sk):
                kwargs["condition"] = kwargs["condition"] & condition
                return
        self._steps.append(
            ("condition_check", (model, pk, sk), {"condition": condition}, _Step(on_condition_failure))
        )

    def __len__(self) -> int:
        return len(self._steps) + (len(self._outbox_steps()) if self._events else 0)

    def _outbox_steps(self) -> list[tuple[str, tuple[Any, ...], dict[str, Any], _Step]]:
        from chalicelib.core.events import OutboxItem  # events builds on this module

        return [("save", (item,), {"condition": OutboxItem.PK.does_not_exist()}, _Step(None))
                for item in OutboxItem.for_events(self._events)]

    def commit(self) -> None:
        """One TransactWriteItems, with one outbox item carrying this change's events (if any).
        Each send carries a ClientRequestToken, so the SDK's own retry of a send whose answer was
        lost is answered from the first without applying it twice; a send cancelled only by a
        conflict or throttling is sent again (a new token: nothing was applied) up to
        COMMIT_ATTEMPTS times, then ends as Conflict or Throttled."""
        if not self._steps and not self._events:
            return
        steps = self._steps + self._outbox_steps()
        if len(steps) > MAX_TRANSACTION_ITEMS:
            raise PayloadTooLarge(f"this change writes {len(steps)} records; "
                                  f"one change may write at most {MAX_TRANSACTION_ITEMS}")
        commit_id = uuid.uuid4().hex
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                with TransactWrite(connection=_connection(), client_request_token=f"{commit_id}-{attempt}") as sent:
                    for method, args, kwargs, _ in steps:
                        getattr(sent, method)(*args, **kwargs)
                return
            except TransactWriteError as error:
                if attempt + 1 == COMMIT_ATTEMPTS or not _transient(error):
                    raise self._domain_error(error, steps) from error
            time.sleep(random.uniform(0, min(COMMIT_BACKOFF_CAP_SECONDS, COMMIT_BACKOFF_SECONDS * 2**attempt)))

    def _domain_error(self, error: TransactWriteError, steps: list[Any]) -> Exception:
        reasons = error.cancellation_reasons or []
        sent = sorted(steps, key=lambda entry: _SENT_ORDER[entry[0]])
        for (_, _, _, step), reason in zip(sent, reasons, strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed" and step.on_condition_failure:
                return step.on_condition_failure()
        codes = {reason.code for reason in reasons if reason is not None}
        if "TransactionConflict" in codes:
            return Conflict("another change to the same records was in progress; retry")
        if "ThrottlingError" in codes:
            return Throttled("the table is busy; retry shortly")
        return error


def _transient(error: TransactWriteError) -> bool:
    codes = {reason.code for reason in error.cancellation_reasons or [] if reason is not None} - {"None"}
    return bool(codes) and codes <= _TRANSIENT_REASONS


_shared_connection: Connection | None = None


def _connection() -> Connection:
    global _shared_connection
    if _shared_connection is None:
        _shared_connection = ScopedConnection(region=_region(), host=_endpoint())
    return _shared_connection


def item_typer(models: list[type[TableItem]]) -> Callable[[dict[str, Any]], Any]:
    """Raw DynamoDB items (of a Query or a BatchGet) as the model their `type` names."""
    by_type = {model.__name__: model for model in models}
    return lambda raw: by_type[raw["type"]["S"]].from_raw_data(raw)


def read_items(keys: Iterable[tuple[str, str]], models: list[type[TableItem]]) -> list[Any]:
    """The items at these (PK, SK) keys that exist, typed by their `type` (a model's name): one
    consistent BatchGetItem per 100 keys, repeated for any keys DynamoDB left unprocessed."""
    typed = item_typer(models)
    wanted = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in dict.fromkeys(keys)]
    connection, table = models[0]._get_connection(), models[0].Meta.table_name
    found: list[Any] = []
    while wanted:
        page, wanted = wanted[:100], wanted[100:]
        while page:
            answer = connection.batch_get_item(page, consistent_read=True)
            found += [typed(raw) for raw in answer.get("Responses", {}).get(table, [])]
            page = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found


def _index_name(source: Any) -> str | None:
    return getattr(getattr(source, "Meta", None), "index_name", None)


def query_reader(
    source: Any,
    hash_key: str,
    range_key_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    newest_first: bool = False,
    *,
    models: list[type[TableItem]] | None = None,
    resolve: Callable[[list[Any]], list[Any | None]] | None = None,
    keep: Callable[[Any], bool] | None = None,
) -> Callable[[int, dict[str, Any] | None], tuple[list[Any], dict[str, Any] | None]]:
    """A page reader (see core.pagination) over one partition of the table or an index: each
    call is one Query, plus one BatchGet when `resolve` turns the index entries it found into
    the items they point at (aligned: None where one is gone).

    `filter_condition` is DynamoDB's FilterExpression; `keep` is what only code can tell apart,
    applied after `resolve` (pass it only where it may drop items). A read that may throw items
    away reads ahead (up to READ_AHEAD items, never fewer than asked for) and keeps at most
    `limit` of those that pass; when it kept fewer than it found, it continues after the last
    one kept. The items are typed by
    their `type` among `models` (default: the source's model)."""
    index_name = _index_name(source)
    model = source if index_name is None else source._model  # an index knows its model
    by_type = {each.__name__: each for each in models or [model]}

    def typed(raw: dict[str, Any]) -> Any:
        return by_type.get(raw.get("type", {}).get("S", ""), model).from_raw_data(raw)

    key_names = [schema.PARTITION_KEY, schema.SORT_KEY]
    if index_name:
        key_names += [f"{index_name}PK", f"{index_name}SK"]
    discards = filter_condition is not None or keep is not None

    def read(limit: int, start_key: dict[str, Any] | None) -> tuple[list[Any], dict[str, Any] | None]:
        answer = model._get_connection().query(
            hash_key,
            range_key_condition=range_key_condition,
            filter_condition=filter_condition,
            index_name=index_name,
            limit=max(limit, READ_AHEAD) if discards else limit,
            exclusive_start_key=start_key,
            scan_index_forward=not newest_first,
        )
        raws = answer.get("Items", [])
        # Without `keep`, only the first `limit` can be returned: resolve no more than those.
        considered = raws if keep is not None else raws[:limit]
        found = [typed(raw) for raw in considered]
        items = resolve(found) if resolve else found
        kept: list[Any] = []
        last_raw = None
        for raw, item in zip(considered, items, strict=True):
            last_raw = raw
            if item is not None and (keep is None or keep(item)):
                kept.append(item)
                if len(kept) == limit:
                    break
        last_key = answer.get("LastEvaluatedKey")
        if last_raw is not None and last_raw is not raws[-1]:
            last_key = {name: last_raw[name] for name in key_names}
        return kept, last_key

    return with_identity(read, index_name or "table", hash_key, range_key_condition, filter_condition,
                         "desc" if newest_first else "asc", resolve is not None, keep is not None)


def sync_derived(tx: Transaction, before: Mapping[str, TableItem], after: Mapping[str, TableItem]) -> None:
    """Keep an item's derived items (index entries, by sort key) in step with it: put those new or
    changed since `before`, delete those `after` no longer has, leave the rest unwritten. The one
    diff every room's index entries go through."""
    for sort, entry in after.items():
        previous = before.get(sort)
        if previous is None or previous.attribute_values != entry.attribute_values:
            tx.put(entry)
    for sort, entry in before.items():
        if sort not in after:
            tx.delete(entry)


def require_version(item: VersionedItem, expected: int, kind: str) -> None:
    """A change based on an older version than the stored one is refused before any write."""
    if item.version != expected:
        raise Conflict(f"version {expected} is stale; the {kind} is at version {item.version}")
