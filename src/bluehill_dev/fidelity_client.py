"""The AWS-fidelity layer for `make dev`, on the SDK's side: botocore hooks on every DynamoDB
client of the stack's process (the Chalice app runs in it, as do the scheduled jobs), adding to
DynamoDB Local what it does not do and DynamoDB does. The decisions and their state are
`fidelity.Layer`'s, the same the in-process tests' moto layer makes; only where they are taken
differs (the SDK's `before-send` and `needs-retry` events instead of moto's handlers).

Measured on DynamoDB Local (2026-05-28 jar; tests/e2e/test_dynamodb_local.py keeps a control
for each): it honours `ClientRequestToken` (a replay applies nothing, another request with the
token is `IdempotentParameterMismatchException`) and refuses items over 400 KB, transactions
over 100 items or 4 MB — so this layer leaves those to it. It never cancels a transaction for
a conflict (it applies them one after another), an item is visible through a GSI as soon as
it is written, and it never throttles, even a table provisioned at 1 WCU. So this layer adds:

  * transaction conflicts (`BLUEHILL_FIDELITY_CONFLICTS`, on): a TransactWriteItems occupies its
    items for `BLUEHILL_FIDELITY_TRANSACTION_HOLD_MS` (15) while other calls are in flight;
    another transaction naming one of them is cancelled with `TransactionConflict`, a single
    write to one answers `TransactionConflictException`;
  * GSI lag (`BLUEHILL_FIDELITY_GSI_LAG_MS`, 500): an item written in the last N ms is absent
    from every Query on a global secondary index. The layer knows what was written from the
    writes it saw: those of this process, which locally are all of them (the app, its jobs,
    the seed); a write made from outside (another process on DynamoDB Local's port) does not lag;
  * throttling (`BLUEHILL_FIDELITY_THROTTLE`, 0.0): each attempt is throttled at that rate —
    `ProvisionedThroughputExceededException` for a single operation (the SDK retries it, with
    its backoff, as against AWS), a transaction cancelled with `ThrottlingError` reasons;
    `BLUEHILL_FIDELITY_THROTTLE_OPERATIONS` (comma-separated, e.g. `Query,TransactWriteItems`)
    narrows it to those operations (all item reads and writes by default).

`BLUEHILL_FIDELITY=0` switches the layer off."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict
from typing import Any

from bluehill_dev import fidelity

_PROTOCOL_PREFIX = "DynamoDB_20120810."
VARIABLES = {
    "BLUEHILL_FIDELITY": "enabled",
    "BLUEHILL_FIDELITY_CONFLICTS": "transaction_conflicts",
    "BLUEHILL_FIDELITY_TRANSACTION_HOLD_MS": "transaction_hold_ms",
    "BLUEHILL_FIDELITY_GSI_LAG_MS": "gsi_lag_ms",
    "BLUEHILL_FIDELITY_THROTTLE": "throttle_rate",
    "BLUEHILL_FIDELITY_THROTTLE_OPERATIONS": "throttle_operations",
}
OPERATIONS_VARIABLE = "BLUEHILL_FIDELITY_THROTTLE_OPERATIONS"
# DynamoDB Local does these itself: the layer must not do them twice.
NATIVE = {"request_tokens": False, "settle_between_requests": False}


class BadSwitch(ValueError):
    """A switch's variable holds something that is not its kind of value (one line, naming it)."""


def settings_from_environment(environ: dict[str, str] | None = None) -> fidelity.Settings:
    """The switches from `BLUEHILL_FIDELITY*` variables; unset ones keep fidelity.Settings' defaults."""
    environ = dict(os.environ if environ is None else environ)
    overrides: dict[str, Any] = dict(NATIVE)
    for variable, name in VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if variable == OPERATIONS_VARIABLE:
            continue
        if not raw:
            continue
        if isinstance(getattr(fidelity.Settings, name), bool):
            if raw.lower() not in {"0", "1", "true", "false", "on", "off"}:
                raise BadSwitch(f"{variable} must be 0 or 1, not {raw!r}")
            overrides[name] = raw.lower() in {"1", "true", "on"}
            continue
        try:
            overrides[name] = float(raw)
        except ValueError as wrong:
            raise BadSwitch(f"{variable} must be a number, not {raw!r}") from wrong
        if overrides[name] < 0 or (name == "throttle_rate" and overrides[name] > 1):
            raise BadSwitch(f"{variable} is out of range: {raw!r}")
    if operations := environ.get(OPERATIONS_VARIABLE, "").strip():
        chosen = frozenset(name.strip() for name in operations.split(",") if name.strip())
        if unknown := chosen - fidelity.Settings.throttle_operations:
            raise BadSwitch(f"{OPERATIONS_VARIABLE} names operations it cannot throttle: {', '.join(sorted(unknown))} "
                            f"(any of {', '.join(sorted(fidelity.Settings.throttle_operations))})")
        overrides["throttle_operations"] = chosen
    return fidelity.Settings(**overrides)


def describe(current: fidelity.Settings) -> str:
    """The active switches, in one line (for the banner)."""
    if not current.enabled:
        return "off (BLUEHILL_FIDELITY=0)"
    conflicts = (f"on (transactions hold their items {current.transaction_hold_ms:g} ms)"
                 if current.transaction_conflicts else "off")
    lag = f"{current.gsi_lag_ms:g} ms" if current.gsi_lag_ms > 0 else "off"
    throttling = f"throttling rate {current.throttle_rate:g}"
    if current.throttle_rate > 0 and current.throttle_operations != fidelity.Settings.throttle_operations:
        throttling += f" ({', '.join(sorted(current.throttle_operations))} only)"
    return f"GSI lag {lag}; {throttling}; transaction conflicts {conflicts}"


def summary(stats: fidelity.Stats) -> str:
    """What the layer did, in one line (printed when the stack stops)."""
    return (f"AWS fidelity did: {stats.throttled} throttled, {stats.conflicts} transactions cancelled by a "
            f"conflict, {stats.single_write_conflicts} single writes refused by one, {stats.held_transactions} "
            f"transactions held, {stats.hidden_by_gsi_lag} items hidden by the GSI lag")


class _Raw:
    """The body of an answer the layer gives in DynamoDB's place, as botocore reads one."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _answer(url: str, status: int, body: dict[str, Any]) -> Any:
    from botocore.awsrequest import AWSResponse

    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(data)),
               "x-amzn-RequestId": "bluehill-fidelity"}
    return AWSResponse(url, status, headers, _Raw(data))


def _refusal(url: str, refused: fidelity.Refused) -> Any:
    body: dict[str, Any] = {"__type": f"com.amazonaws.dynamodb.v20120810#{refused.code}", "message": refused.message}
    if refused.reasons is not None:
        body["CancellationReasons"] = [{"Code": r[0], "Message": r[1]} if r else {"Code": "None"}
                                       for r in refused.reasons]
        body["message"] = "Transaction cancelled, please refer cancellation reasons for specific reasons [" + \
            ", ".join(r[0] if r else "None" for r in refused.reasons) + "]"
    return _answer(url, 400, body)


def _operation(headers: Any) -> str:
    target = headers.get("X-Amz-Target", "")
    target = target.decode() if isinstance(target, bytes) else target
    return target.removeprefix(_PROTOCOL_PREFIX)


def _body(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    if hasattr(raw, "read"):  # a stream: not a DynamoDB request body
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class ClientLayer:
    """The hooks, over one fidelity.Layer; `key_names` tells each table's key attributes."""

    def __init__(self, layer: fidelity.Layer, key_names: fidelity.KeyNames) -> None:
        self.layer, self.key_names = layer, key_names

    def register(self, client: Any) -> None:
        """On one botocore client (a DynamoDB one; others are left alone)."""
        if client.meta.service_model.service_name != "dynamodb":
            return
        client.meta.events.register_first("before-send.dynamodb", self.before_send)
        client.meta.events.register_first("needs-retry.dynamodb", self.after_attempt)

    def before_send(self, request: Any, **_: Any) -> Any:
        """Each attempt, before it goes to DynamoDB Local: an answer in its place (throttled, a
        conflict) or None to send it."""
        if not self.layer.settings.enabled:
            return None
        operation, body = _operation(request.headers), _body(request.body)
        self.layer.arrive()
        try:
            self.layer.throttle(operation, body)
            if operation == "TransactWriteItems":
                self.layer.hold(fidelity.transaction_keys(self.key_names, body))
            elif operation in fidelity.WRITES:
                self.layer.refuse_if_held(fidelity.written_keys(self.key_names, operation, body))
        except fidelity.Refused as refused:
            return _refusal(request.url, refused)
        return None

    def after_attempt(self, response: Any = None, operation: Any = None, request_dict: Any = None,
                      **_: Any) -> None:
        """Each attempt, once answered: a committed write starts its items' lag; a GSI Query's
        page loses the items still lagging. Never asks for a retry (returns None)."""
        if not self.layer.settings.enabled:
            return
        self.layer.leave()
        if response is None or operation is None or response[0].status_code != 200:
            return
        name, body = operation.name, _body((request_dict or {}).get("body"))
        if name in fidelity.WRITES:
            self.layer.record_writes(fidelity.written_keys(self.key_names, name, body))
        elif name == "Query" and body.get("IndexName"):
            self._hide_lagging(body.get("TableName", ""), response[1])

    def _hide_lagging(self, table_name: str, page: dict[str, Any]) -> None:
        items = page.get("Items") or []
        keys = [fidelity.item_key(self.key_names, table_name, item) for item in items]
        shown = self.layer.visible([key for key in keys if key is not None])
        flags = iter(shown)
        kept = [item for item, key in zip(items, keys, strict=True) if key is None or next(flags)]
        if len(kept) != len(items):
            page["Items"] = kept
            page["Count"] = len(kept)


@functools.cache
def _described_key_names(endpoint: str, table_name: str) -> tuple[str, str | None] | None:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.session.Session().client("dynamodb", endpoint_url=endpoint)
    try:
        schema = client.describe_table(TableName=table_name)["Table"]["KeySchema"]
    except ClientError:
        return None
    by_type = {entry["KeyType"]: entry["AttributeName"] for entry in schema}
    return by_type["HASH"], by_type.get("RANGE")


layer = fidelity.Layer(fidelity.Settings(enabled=False))  # the dev process's: off until `configure`


def install(endpoint: str) -> ClientLayer:
    """Hook every DynamoDB client this process creates from now on (the layer starts off: the
    seed writes unthrottled; `configure` switches it on). Call before any DynamoDB client is made."""
    from chalicelib.core import tenant_guard

    hooks = ClientLayer(layer, functools.partial(_described_key_names, endpoint))
    tenant_guard.on_every_client(hooks.register)
    return hooks


def configure(current: fidelity.Settings) -> None:
    layer.reset(**asdict(current))
