"""Sign-in links go out through SES (moto's locally): the only place the portal room touches boto3."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

DEFAULT_SENDER = "no-reply@bluehill.dev"


@cache
def _client() -> Any:
    import boto3

    return boto3.client("ses")


def sender() -> str:
    """The address sign-in links come from (PORTAL_MAIL_FROM; a verified SES identity)."""
    return os.environ.get("PORTAL_MAIL_FROM", DEFAULT_SENDER)


class NotSent(RuntimeError):
    """SES refused the message (an unverified sender, a suppressed address, throttling)."""


def send_sign_in_link(to: str, portal_name: str, link: str, minutes: int) -> None:
    from botocore.exceptions import ClientError

    body = (f"Sign in to {portal_name}:\n\n{link}\n\n"
            f"The link works once, for {minutes} minutes. If you did not ask for it, ignore this email.")
    try:
        _client().send_email(
            Source=sender(), Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": f"Your sign-in link for {portal_name}"}, "Body": {"Text": {"Data": body}}})
    except ClientError as refused:
        raise NotSent(refused.response.get("Error", {}).get("Code", "unknown")) from refused
