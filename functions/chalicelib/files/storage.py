"""The files bucket, as the files room uses it: presigned POSTs and GETs, reading an upload's
real size and leading bytes, tagging a deleted file's object for the lifecycle rule. The only
module of the room that talks to S3 (service.py stays free of boto3).

Requests sign with the tenant's session credentials where the stack gives them
(core.tenant_credentials: the session policy reaches `tenants/<tenant>/` only), so a presigned
URL cannot reach another tenant's prefix even if a key were wrong; handlers without a tenant
scope (the S3 event) use the function's own role."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from chalicelib.core.settings import get_settings
from chalicelib.core.tenant_credentials import TENANT_FILES_PREFIX, TenantCredentials, for_current_scope

from .rules import SNIFF_BYTES

UPLOAD_SECONDS = 15 * 60
DOWNLOAD_SECONDS = 5 * 60
DELETED_TAG = ("bluehill-deleted", "true")  # the lifecycle rule (infra/storage.py) expires these


def _client_config() -> Any:
    from botocore.config import Config

    # Virtual-hosted addressing is what browsers POST to in AWS; path style locally (one endpoint).
    style = "path" if os.environ.get("AWS_ENDPOINT_URL") else "virtual"
    return Config(signature_version="s3v4", s3={"addressing_style": style})


@cache
def _own_client() -> Any:
    import boto3

    return boto3.client("s3", config=_client_config())


@cache
def _session_client(credentials: TenantCredentials) -> Any:
    import boto3

    return boto3.client("s3", config=_client_config(), aws_access_key_id=credentials.access_key_id,
                        aws_secret_access_key=credentials.secret_access_key,
                        aws_session_token=credentials.session_token)


def _client() -> Any:
    credentials = for_current_scope()
    return _own_client() if credentials is None else _session_client(credentials)


def bucket() -> str:
    return get_settings().files_bucket


def object_key(tenant_id: str, file_id: str, key_name: str) -> str:
    return f"{TENANT_FILES_PREFIX.format(tenant_id=tenant_id)}files/{file_id}/{key_name}"


def parse_key(key: str) -> tuple[str, str] | None:
    """(tenant id, file id) of an upload's key; None for any other key in the bucket."""
    parts = key.split("/")
    if len(parts) == 5 and parts[0] == "tenants" and parts[2] == "files" and parts[1] and parts[3]:
        return parts[1], parts[3]
    return None


def presigned_post(key: str, content_type: str, size: int) -> dict[str, Any]:
    """A form POST that S3 accepts only for this key, this Content-Type and exactly this size."""
    return _client().generate_presigned_post(
        Bucket=bucket(), Key=key, Fields={"Content-Type": content_type},
        Conditions=[{"bucket": bucket()}, ["eq", "$key", key], ["eq", "$Content-Type", content_type],
                    ["content-length-range", size, size]],
        ExpiresIn=UPLOAD_SECONDS,
    )


def presigned_get(key: str, version: str | None, disposition: str) -> str:
    params = {"Bucket": bucket(), "Key": key, "ResponseContentDisposition": disposition}
    if version and version != "null":
        params["VersionId"] = version
    return _client().generate_presigned_url("get_object", Params=params, ExpiresIn=DOWNLOAD_SECONDS)


@dataclass(frozen=True)
class Stored:
    size: int
    version: str | None
    head: bytes


def stored(bucket_name: str, key: str) -> Stored | None:
    """The object's real size, version and first SNIFF_BYTES bytes (one ranged GET); None if absent."""
    from botocore.exceptions import ClientError

    try:
        answer = _client().get_object(Bucket=bucket_name, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "InvalidRange":  # an empty object has no first byte
            return Stored(0, None, b"")
        if code in ("NoSuchKey", "404"):
            return None
        raise
    total = answer.get("ContentRange", "").rpartition("/")[2]
    head = answer["Body"].read()
    size = int(total) if total.isdigit() else int(answer.get("ContentLength", len(head)))
    return Stored(size, answer.get("VersionId"), head)


def remove(bucket_name: str, key: str) -> None:
    """A rejected upload's bytes are never kept."""
    _client().delete_object(Bucket=bucket_name, Key=key)


def mark_deleted(key: str) -> None:
    """Tag the object so the bucket's lifecycle rule removes it (a soft delete, undoable until then)."""
    from botocore.exceptions import ClientError

    try:
        _client().put_object_tagging(Bucket=bucket(), Key=key,
                                     Tagging={"TagSet": [{"Key": DELETED_TAG[0], "Value": DELETED_TAG[1]}]})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
