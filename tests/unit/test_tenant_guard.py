"""The tenant guard, operation shape by operation shape: inside a tenant's scope every key a
DynamoDB request touches on the tenant table must be that tenant's; Scan and PartiQL never
pass; outside any scope nothing passes; the explicit system scope may cross tenants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chalicelib.core.scope import system_scope, tenant_scope
from chalicelib.core.settings import table_name
from chalicelib.core.tenant_guard import TenantIsolationViolation, check_request

TABLE = table_name()
OWN, OTHER = "acme", "globex"


def s(value: str) -> dict[str, str]:
    return {"S": value}


def key(tenant: str) -> dict[str, Any]:
    return {"PK": s(f"T#{tenant}#CUSTOMER#1"), "SK": s("CUSTOMER")}


def item(tenant: str, gsi_tenant: str | None = None) -> dict[str, Any]:
    return {**key(tenant), "GSI1PK": s(f"T#{gsi_tenant or tenant}#CUSTOMERS#active"), "GSI1SK": s("a#1")}


def query(partition: str, index: str | None = None, attribute: str = "PK") -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": attribute, "#sk": "SK"},
        "ExpressionAttributeValues": {":pk": s(partition), ":prefix": s("a")},
    }
    return {**params, "IndexName": index} if index else params


# Each shape builds the request params for one operation whose keys belong to `tenant`
# (`other` is where an extra key of the same request points).
SHAPES: dict[str, tuple[str, Callable[[str, str], dict[str, Any]]]] = {
    "GetItem": ("GetItem", lambda t, o: {"TableName": TABLE, "Key": key(t)}),
    "DeleteItem": ("DeleteItem", lambda t, o: {"TableName": TABLE, "Key": key(t)}),
    "PutItem": ("PutItem", lambda t, o: {"TableName": TABLE, "Item": item(t, o)}),
    "UpdateItem (moves a GSI key)": ("UpdateItem", lambda t, o: {
        "TableName": TABLE, "Key": key(t), "UpdateExpression": "SET #g = :g",
        "ExpressionAttributeNames": {"#g": "GSI2PK"}, "ExpressionAttributeValues": {":g": s(f"T#{o}#OWNER#u")},
    }),
    "Query (table)": ("Query", lambda t, o: query(f"T#{t}#AUDIT#x")),
    "Query (GSI)": ("Query", lambda t, o: query(f"T#{t}#CUSTOMERS#active", "GSI1", "GSI1PK")),
    "BatchGetItem": ("BatchGetItem", lambda t, o: {"RequestItems": {TABLE: {"Keys": [key(t), key(o)]}}}),
    "BatchWriteItem (put)": ("BatchWriteItem", lambda t, o: {
        "RequestItems": {TABLE: [{"PutRequest": {"Item": item(t)}}, {"PutRequest": {"Item": item(o)}}]}}),
    "BatchWriteItem (delete)": ("BatchWriteItem", lambda t, o: {
        "RequestItems": {TABLE: [{"DeleteRequest": {"Key": key(t)}}, {"DeleteRequest": {"Key": key(o)}}]}}),
    "TransactWriteItems (put)": ("TransactWriteItems", lambda t, o: {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": item(t)}}, {"Put": {"TableName": TABLE, "Item": item(t, o)}}]}),
    "TransactWriteItems (update)": ("TransactWriteItems", lambda t, o: {"TransactItems": [
        {"Update": {"TableName": TABLE, "Key": key(t), "UpdateExpression": "SET a = :a, GSI1PK = :g",
                    "ExpressionAttributeValues": {":a": s("x"), ":g": s(f"T#{o}#X")}}}]}),
    "TransactWriteItems (delete)": ("TransactWriteItems", lambda t, o: {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": item(t)}}, {"Delete": {"TableName": TABLE, "Key": key(o)}}]}),
    "TransactWriteItems (condition check)": ("TransactWriteItems", lambda t, o: {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": item(t)}},
        {"ConditionCheck": {"TableName": TABLE, "Key": key(o), "ConditionExpression": "attribute_exists(PK)"}}]}),
    "TransactGetItems": ("TransactGetItems", lambda t, o: {"TransactItems": [
        {"Get": {"TableName": TABLE, "Key": key(t)}}, {"Get": {"TableName": TABLE, "Key": key(o)}}]}),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_request_inside_its_own_tenant_passes(shape: str) -> None:
    operation, build = SHAPES[shape]
    with tenant_scope(OWN):
        check_request(operation, build(OWN, OWN))


# shapes whose one request carries several keys: one of them may stray into another tenant
MIXED = sorted(name for name, (_, build) in SHAPES.items() if build(OWN, OTHER) != build(OWN, OWN))


@pytest.mark.parametrize("shape", MIXED)
def test_one_stray_key_among_own_keys_is_a_violation(shape: str) -> None:
    operation, build = SHAPES[shape]
    with tenant_scope(OWN), pytest.raises(TenantIsolationViolation):
        check_request(operation, build(OWN, OTHER))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_request_wholly_in_another_tenant_is_a_violation(shape: str) -> None:
    operation, build = SHAPES[shape]
    with tenant_scope(OWN), pytest.raises(TenantIsolationViolation):
        check_request(operation, build(OTHER, OTHER))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_request_outside_any_scope_is_a_violation(shape: str) -> None:
    operation, build = SHAPES[shape]
    with pytest.raises(TenantIsolationViolation):
        check_request(operation, build(OWN, OWN))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_system_scope_may_cross_tenants(shape: str) -> None:
    operation, build = SHAPES[shape]
    with system_scope():
        check_request(operation, build(OWN, OTHER))


def test_a_tenant_whose_id_extends_another_is_not_that_tenant() -> None:
    with tenant_scope("acme"), pytest.raises(TenantIsolationViolation):
        check_request("GetItem", {"TableName": TABLE, "Key": key("acme2")})


@pytest.mark.parametrize("scope", [tenant_scope(OWN), system_scope()], ids=["tenant", "system"])
def test_scan_is_never_allowed(scope: Any) -> None:
    with scope, pytest.raises(TenantIsolationViolation):
        check_request("Scan", {"TableName": TABLE})


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("ExecuteStatement", {"Statement": f'SELECT * FROM "{TABLE}" WHERE PK = ?'}),
        ("ExecuteStatement", {"Statement": f"UPDATE {TABLE} SET a = 1 WHERE PK = 'T#acme#X'"}),
        ("BatchExecuteStatement", {"Statements": [{"Statement": f'DELETE FROM "{TABLE}" WHERE PK = ?'}]}),
        ("ExecuteTransaction", {"TransactStatements": [{"Statement": f'INSERT INTO "{TABLE}" VALUE {{}}'}]}),
    ],
)
def test_partiql_on_the_tenant_table_is_never_allowed(operation: str, params: dict[str, Any]) -> None:
    with tenant_scope(OWN), pytest.raises(TenantIsolationViolation):
        check_request(operation, params)


def test_a_query_without_a_partition_equality_is_a_violation() -> None:
    params = query(f"T#{OWN}#X")
    params["KeyConditionExpression"] = "begins_with(#sk, :prefix)"
    with tenant_scope(OWN), pytest.raises(TenantIsolationViolation):
        check_request("Query", params)


def test_the_system_due_index_is_off_limits_to_tenant_requests() -> None:
    params = query("DUE#3", "SYSDUE", "SYSDUEPK")
    with tenant_scope(OWN), pytest.raises(TenantIsolationViolation):
        check_request("Query", params)
    with system_scope():
        check_request("Query", params)


def test_other_tables_are_not_the_guards_business() -> None:
    check_request("Scan", {"TableName": f"{TABLE}-idempotency"})
    check_request("ExecuteStatement", {"Statement": f'SELECT * FROM "{TABLE}-idempotency"'})
    check_request("GetItem", {"TableName": "elsewhere", "Key": key(OTHER)})


def update(expression: str, names: dict[str, str], values: dict[str, str]) -> dict[str, Any]:
    return {"TableName": TABLE, "Key": key(OWN), "UpdateExpression": expression, "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {token: s(value) for token, value in values.items()}}


@pytest.mark.parametrize("expression", [
    "SET #n = :n", "SET #v = #v + :one, #n = :n", "SET #n = if_not_exists(#n, :n) REMOVE #x", "ADD #tags :n",
])
def test_a_value_that_reads_like_another_tenants_key_is_only_a_value(expression: str) -> None:
    params = update(expression, {"#n": "name", "#v": "version", "#x": "GSI3PK", "#tags": "tags"},
                    {":n": f"T#{OTHER}#CUSTOMER#1", ":one": "1"})
    with tenant_scope(OWN):
        check_request("UpdateItem", params)


@pytest.mark.parametrize("expression", [
    "SET #n = :n, #g = :g", "SET #g = if_not_exists(#g, :g)", "REMOVE #n SET #g = :g", "set #g=:g",
])
def test_setting_an_index_partition_key_outside_the_tenant_is_a_violation(expression: str) -> None:
    params = update(expression, {"#n": "name", "#g": "GSI4PK"}, {":n": "T#acme#fine", ":g": f"T#{OTHER}#X"})
    with tenant_scope(OWN), pytest.raises(TenantIsolationViolation):
        check_request("UpdateItem", params)
