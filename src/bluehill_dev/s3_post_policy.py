"""What S3 does with a browser's form POST and moto does not: check it against its signed
policy. moto stores whatever is POSTed; S3 refuses an upload outside the policy's
`content-length-range` (400 EntityTooLarge / EntityTooSmall), a field that differs from an
`eq`/`starts-with` condition or that no condition names, and an expired policy (403
AccessDenied). Installed on moto's S3 in process, for the tests (harness_env) and for the
local stack's moto server (dev.py), so a presigned upload is refused locally as in AWS.

Not checked: the policy's signature (moto checks no S3 signature either)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

# Form fields S3 does not require a condition for.
_EXEMPT = {"policy", "x-amz-signature", "file", "signature", "awsaccesskeyid",
           "bucketname"}  # the last: moto's own, added to the form fields it was given


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def xml(self) -> str:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{self.message}</Message></Error>")


def _policy_failed(condition: Any) -> Refused:
    return Refused(403, "AccessDenied",
                   f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")


def check(fields: dict[str, str], content_length: int, bucket: str, now: datetime | None = None) -> None:
    """Raise Refused where S3 would refuse this form POST (field names compared case-insensitively)."""
    form = {name.lower(): value for name, value in fields.items()}
    try:
        policy = json.loads(base64.b64decode(form["policy"]))
    except (KeyError, ValueError) as bad:
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from bad
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    if (now or datetime.now(UTC)) > expiration:
        raise Refused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    form.setdefault("bucket", bucket)
    covered = {"bucket"}
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            (name, expected), = condition.items()
            condition = ["eq", f"${name}", expected]
        operator = condition[0].lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if content_length > high:
                raise Refused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            if content_length < low:
                raise Refused(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            continue
        name = condition[1].lstrip("$").lower()
        covered.add(name)
        value = form.get(name, "")
        if (operator == "eq" and value != condition[2]) or (
                operator == "starts-with" and not value.startswith(condition[2])):
            raise _policy_failed(condition)
    for name in form:
        if name not in covered and name not in _EXEMPT and not name.startswith("x-ignore-"):
            raise Refused(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {name}")


_installed = False


def install() -> None:
    """Check every form POST moto's S3 receives (in this process) against its policy."""
    global _installed
    if _installed:
        return
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        fields = {name: values[0] for name, values in (self.querystring or {}).items() if values}
        if "policy" in {name.lower() for name in fields} and "key" in fields:
            body = self.body if isinstance(self.body, (bytes, str)) else b""
            try:
                check(fields, len(body.encode() if isinstance(body, str) else body), bucket_name)
            except Refused as refused:
                return refused.status, {"Content-Type": "application/xml"}, refused.xml()
        return original(self, request, bucket_name)

    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]
    _installed = True
