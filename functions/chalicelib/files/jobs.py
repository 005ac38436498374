"""The files bucket's S3 event: each stored upload is checked (real size, leading bytes) and its
file becomes available or rejected (files/service.check_upload).

Chalice cannot package `@on_s3_event` into the SAM template the stack is built from (an
existing bucket's notifications are not CloudFormation's to change from there), so this is a
plain Lambda function. In AWS the bucket sends its events to EventBridge and a rule invokes this
with each `Object Created` event under `tenants/` (infra/storage.py); `make dev` delivers the
local bucket's S3 notifications (`{"Records": [...]}`) to it (bluehill_dev.s3_notifications).
It takes both shapes; `bluehill invoke files_uploaded events/files-uploaded.json` runs it by hand."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py)
from chalicelib.core.observability import logger

from . import service

bp = Blueprint(__name__)

UPLOADED_FUNCTION = "files_uploaded"


def created_objects(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of each object an event says was created: EventBridge's `Object Created`,
    or S3's own notification records (keys URL-encoded, spaces as `+`)."""
    if event.get("source") == "aws.s3":
        if event.get("detail-type") != "Object Created":
            return []
        detail = event["detail"]
        return [(detail["bucket"]["name"], detail["object"]["key"])]
    return [(record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
            for record in event.get("Records", []) if str(record.get("eventName", "")).startswith("ObjectCreated")]


@bp.lambda_function(name=UPLOADED_FUNCTION)
def files_uploaded(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcomes = []
    for bucket, key in created_objects(event):
        outcome = service.check_upload(bucket, key)
        outcomes.append(outcome)
        logger().info("upload checked", extra={"outcome": outcome})
    return {"outcomes": outcomes}
