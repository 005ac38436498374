"""The inbound-mail handler: SES writes each raw message under `raw/` in the inbound bucket and
the object's creation invokes this function (an S3 notification the stack wires, infra/storage;
locally `bluehill mail receive` puts the object and the local stack delivers the same event).

A record whose processing raises (DynamoDB throttled, S3 unavailable) fails the invocation, so
Lambda's asynchronous retries run it again; the pipeline is idempotent by Message-ID."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py)
from chalicelib.core.observability import logger

from . import service, storage

bp = Blueprint(__name__)
INBOUND_FUNCTION = "mail_inbound"


def handle_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    outcomes = []
    for record in records:
        bucket, key = record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
        outcome = service.receive(storage.raw_object(bucket, key), key, storage.put_attachment)
        logger().info("inbound mail", extra={"tenant_id": outcome.tenant_id, "mail_id": outcome.mail_id,
                                            "status": outcome.status, "reason": outcome.reason,
                                            "thread_method": outcome.thread_method})
        outcomes.append({"key": key, "status": outcome.status, "mail_id": outcome.mail_id,
                         "tenant_id": outcome.tenant_id, "reason": outcome.reason, "ticket_id": outcome.ticket_id,
                         "new_ticket": outcome.new_ticket, "thread_method": outcome.thread_method})
    return outcomes


def _records(event: dict[str, Any]) -> list[dict[str, Any]]:
    """S3 notification records, from either shape: S3's own notification (`Records`) or S3's
    "Object Created" event through EventBridge (how the stack wires it: `detail`)."""
    if "Records" in event:
        return list(event["Records"])
    detail = event.get("detail") or {}
    return [{"s3": {"bucket": {"name": detail["bucket"]["name"]}, "object": {"key": detail["object"]["key"]}}}]


@bp.lambda_function(name=INBOUND_FUNCTION)
def mail_inbound(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An object SES wrote under raw/ in the inbound bucket (S3 "Object Created", through
    EventBridge in the stack; as an S3 notification record locally)."""
    return {"outcomes": handle_records(_records(event))}
