"""The mail room's AWS calls (the rules in service.py and outbound.py make none): the raw
message from the inbound bucket, attachments into the files bucket under the tenant's prefix,
and SES sends. Clients are created lazily, once per container."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from chalicelib.core.settings import get_settings
from chalicelib.core.tenant_credentials import TENANT_FILES_PREFIX

_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9._-]+")


@cache
def _s3() -> Any:
    import boto3

    return boto3.client("s3")


@cache
def _ses() -> Any:
    import boto3

    return boto3.client("ses")


def attachment_key(tenant_id: str, mail_id: str, index: int, filename: str) -> str:
    """Where a message's attachment is stored: under the tenant's prefix, by message."""
    name = _UNSAFE_KEY.sub("_", filename).strip("._")[:100] or "attachment"
    return f"{TENANT_FILES_PREFIX.format(tenant_id=tenant_id)}mail/{mail_id}/{index:03d}-{name}"


def raw_message(key: str) -> bytes | None:
    s3 = _s3()
    try:
        return s3.get_object(Bucket=get_settings().inbound_mail_bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def raw_object(bucket: str, key: str) -> bytes:
    return _s3().get_object(Bucket=bucket, Key=key)["Body"].read()


def put_attachment(key: str, content_type: str, data: bytes) -> None:
    _s3().put_object(Bucket=get_settings().files_bucket, Key=key, Body=data, ContentType=content_type)


def send_raw(source: str, destinations: list[str], data: bytes) -> str:
    """One SES send; returns SES's message id. Raises botocore's ClientError on refusal."""
    answer = _ses().send_raw_email(Source=source, Destinations=destinations, RawMessage={"Data": data})
    return str(answer["MessageId"])
