"""The files bucket's S3 event: each stored upload is checked (real size, leading bytes) and its
file becomes available or rejected (files/service.check_upload).

Chalice cannot package `@on_s3_event` into the SAM template the stack is built from (an
existing bucket's notifications are not CloudFormation's to change from there), so this is a
plain Lambda function taking S3's event; infra/storage.py subscribes it to the bucket's
ObjectCreated events under `tenants/`. `make dev` delivers the local bucket's notifications to
the same function (bluehill_dev.s3_notifications), and `bluehill invoke files_uploaded
events/files-uploaded.json` runs it by hand."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py)
from chalicelib.core.observability import logger

from . import service

bp = Blueprint(__name__)

UPLOADED_FUNCTION = "files_uploaded"


@bp.lambda_function(name=UPLOADED_FUNCTION)
def files_uploaded(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcomes = []
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        key = unquote_plus(s3["object"]["key"])  # S3 sends keys URL-encoded, spaces as `+`
        outcome = service.check_upload(s3["bucket"]["name"], key)
        outcomes.append(outcome)
        logger().info("upload checked", extra={"outcome": outcome})
    return {"outcomes": outcomes}
