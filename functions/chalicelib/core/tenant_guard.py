"""A botocore `before-call` hook that refuses any DynamoDB request on the tenant table whose
keys fall outside the tenant being served. It is defence in depth in production and the
proof of isolation in every test."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session

from chalicelib.core import schema
from chalicelib.core.scope import SYSTEM, current_scope
from chalicelib.core.settings import table_name


class TenantIsolationViolation(RuntimeError):
    pass


ClientHook = Callable[[Any], None]
_client_hooks: list[ClientHook] = []
_installed = False


def on_every_client(hook: ClientHook) -> None:
    """Run `hook(client)` for every botocore client created from now on (boto3's, PynamoDB's)."""
    _install_client_factory_patch()
    if hook not in _client_hooks:
        _client_hooks.append(hook)


def _install_client_factory_patch() -> None:
    global _installed
    if _installed:
        return
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        for hook in _client_hooks:
            hook(client)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    _installed = True


_KEY_CONDITION_EQUALS = re.compile(r"(#\w+|\w+)\s*=\s*(:\w+)")


def _string(value: Any) -> str | None:
    if isinstance(value, dict) and "S" in value:
        return value["S"]
    return None


def _partition_values_of_key(key: dict[str, Any]) -> Iterable[str | None]:
    yield _string(key.get(schema.PARTITION_KEY))


def _partition_values_of_item(item: dict[str, Any]) -> Iterable[str | None]:
    for name in schema.partition_key_names():
        if name in item:
            yield _string(item[name])


def _partition_values_of_query(params: dict[str, Any]) -> Iterable[str | None]:
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    found = False
    for name_token, value_token in _KEY_CONDITION_EQUALS.findall(params.get("KeyConditionExpression", "")):
        attribute = names.get(name_token, name_token)
        if attribute in schema.partition_key_names() or attribute == schema.SYSTEM_DUE_INDEX.partition_key:
            found = True
            yield _string(values.get(value_token))
    if not found:
        yield None


_UPDATE_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
_VALUE_TOKEN = re.compile(r":\w+")


def _top_level_split(text: str) -> list[str]:
    """`a = :a, b = if_not_exists(b, :b)` → its actions: commas inside a function call don't split."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _set_actions(expression: str) -> Iterable[tuple[str, str]]:
    """The `path = value` actions of an UpdateExpression's SET clauses."""
    pieces = _UPDATE_CLAUSE.split(expression)
    for keyword, body in zip(pieces[1::2], pieces[2::2], strict=True):
        if keyword.upper() != "SET":
            continue
        for action in _top_level_split(body):
            target, equals, value = action.partition("=")
            if equals:
                yield target.strip(), value


def _partition_values_of_update(params: dict[str, Any]) -> Iterable[str | None]:
    """A SET of a partition key attribute (a GSI's) moves the item into that partition: it must
    stay in-tenant. Only key attributes are inspected — a name or a description that happens to
    read `T#...` is a value, not a key."""
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    for target, value in _set_actions(params.get("UpdateExpression", "")):
        if names.get(target, target) not in schema.partition_key_names():
            continue
        for token in _VALUE_TOKEN.findall(value):
            yield _string(values.get(token))


def _partition_values(operation: str, params: dict[str, Any]) -> Iterable[str | None]:
    if operation in {"GetItem", "DeleteItem", "UpdateItem"}:
        yield from _partition_values_of_key(params.get("Key", {}))
    if operation == "UpdateItem":
        yield from _partition_values_of_update(params)
    elif operation == "PutItem":
        yield from _partition_values_of_item(params.get("Item", {}))
    elif operation == "Query":
        yield from _partition_values_of_query(params)
    elif operation == "BatchGetItem":
        for request in params.get("RequestItems", {}).values():
            for key in request.get("Keys", []):
                yield from _partition_values_of_key(key)
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            for kind, body in entry.items():
                yield from _partition_values("PutItem" if kind == "Put" else "GetItem", body) if kind in {
                    "Put",
                    "Delete",
                    "ConditionCheck",
                } else _partition_values("UpdateItem", body)
    elif operation == "TransactGetItems":
        for entry in params.get("TransactItems", []):
            yield from _partition_values_of_key(entry.get("Get", {}).get("Key", {}))
    elif operation == "BatchWriteItem":
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                if "PutRequest" in request:
                    yield from _partition_values_of_item(request["PutRequest"].get("Item", {}))
                else:
                    yield from _partition_values_of_key(request.get("DeleteRequest", {}).get("Key", {}))


# PartiQL names its table inside the statement text; its keys cannot be checked, so it is refused.
_PARTIQL = {"ExecuteStatement": "Statement", "BatchExecuteStatement": "Statements", "ExecuteTransaction":
            "TransactStatements"}


def _tables_of(operation: str, params: dict[str, Any]) -> set[str]:
    if "TableName" in params:
        return {params["TableName"]}
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return set(params.get("RequestItems", {}))
    if operation in _PARTIQL:
        statements = str(params.get(_PARTIQL[operation], ""))
        named = re.search(rf"(?<![\w.-]){re.escape(table_name())}(?![\w.-])", statements)
        return {table_name()} if named else set()
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        return {body.get("TableName", "") for entry in params.get("TransactItems", []) for body in entry.values()}
    return set()


# Operations that read or write items; the rest (CreateTable, DescribeTable, ...) manage the
# table itself, which the bootstrap and the stack do, never a tenant's request.
DATA_OPERATIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
    "TransactGetItems", "TransactWriteItems", *_PARTIQL,
})


def check_request(operation: str, params: dict[str, Any]) -> None:
    if operation not in DATA_OPERATIONS or table_name() not in _tables_of(operation, params):
        return
    if operation == "Scan":
        raise TenantIsolationViolation("Scan is never allowed on the tenant table")
    if operation in _PARTIQL:
        raise TenantIsolationViolation("PartiQL is never allowed on the tenant table: its keys cannot be checked")
    scope = current_scope()
    if scope is None:
        raise TenantIsolationViolation(f"{operation} on the tenant table outside any tenant or system scope")
    if scope == SYSTEM:
        return
    prefix = f"T#{scope}#"
    for value in _partition_values(operation, params):
        if value is None or not value.startswith(prefix):
            raise TenantIsolationViolation(f"{operation} touches {value!r} while serving tenant {scope!r}")


def _before_parameter_build(model: Any, params: dict[str, Any], **_: Any) -> None:
    check_request(model.name, params)


def _register(client: Any) -> None:
    # `before-parameter-build` carries the API parameters (TableName, Key, ...); by
    # `before-call` they are already serialized into an HTTP request body.
    if client.meta.service_model.service_name == "dynamodb":
        client.meta.events.register("before-parameter-build.dynamodb", _before_parameter_build)


def install_tenant_guard() -> None:
    on_every_client(_register)
