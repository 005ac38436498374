"""Local inbound and outbound mail: `bluehill mail receive FILE.eml [--to ADDRESS]` puts a raw
message into the local inbound bucket the way SES's S3 action writes it (under `raw/`, with the
`Received: ... for <recipient>` line SES adds), and the local stack's S3 notification delivers
it to the same handler (`mail_inbound`); `bluehill mail outbox` lists what moto's SES sent."""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bluehill_dev import resources

RAW_PREFIX = "raw/"
POLL_SECONDS = 0.5


def as_ses_stores(raw: bytes, recipient: str) -> bytes:
    """The message as SES's S3 action stores it: its own Received line (naming the envelope
    recipient, which the handler routes by) on top of the bytes as they arrived."""
    stamp = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    line = (f"Received: from local-smtp by inbound-smtp.{resources.REGION}.amazonaws.com with SMTP id "
            f"{uuid.uuid4().hex} for {recipient}; {stamp}\r\n")
    return line.encode() + raw


def object_created_event(bucket: str, key: str, size: int) -> dict[str, Any]:
    """The S3 ObjectCreated notification (event version 2.1) Lambda receives."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": resources.REGION,
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": size}},
    }]}


def put_inbound(s3: Any, raw: bytes, recipient: str, bucket: str = resources.MAIL_BUCKET) -> str:
    """Put one message into the inbound bucket (the local one unless named) as SES would; returns its key."""
    key = f"{RAW_PREFIX}{uuid.uuid4().hex}"
    s3.put_object(Bucket=bucket, Key=key, Body=as_ses_stores(raw, recipient))
    return key


class InboundNotifier:
    """What S3's bucket notification is on AWS: each new object under `raw/` in the local
    inbound bucket is delivered, once, to `handle` (the app's `mail_inbound`), as its
    ObjectCreated event. Keys already present when the stack starts count as delivered."""

    def __init__(self, s3: Any, handle: Callable[[dict[str, Any]], Any], seen_file: Path) -> None:
        self.s3, self.handle, self.seen_file = s3, handle, seen_file
        self.seen: set[str] = set(json.loads(seen_file.read_text())) if seen_file.exists() else set()

    def _keys(self) -> list[tuple[str, int]]:
        found, token = [], None
        while True:
            kwargs = {"ContinuationToken": token} if token else {}
            page = self.s3.list_objects_v2(Bucket=resources.MAIL_BUCKET, Prefix=RAW_PREFIX, **kwargs)
            found += [(entry["Key"], entry["Size"]) for entry in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            if not token:
                return found

    def pump(self) -> list[Any]:
        results = []
        for key, size in self._keys():
            if key in self.seen:
                continue
            results.append(self.handle(object_created_event(resources.MAIL_BUCKET, key, size)))
            self.seen.add(key)
            self.seen_file.write_text(json.dumps(sorted(self.seen)))
        return results

    def run(self, stopped: threading.Event) -> None:
        while not stopped.wait(POLL_SECONDS):
            try:
                self.pump()
            except Exception as failure:  # a failing delivery is reported and tried again next tick
                print(f"inbound mail delivery failed: {failure!r}")


def sent_messages(endpoint: str) -> list[dict[str, Any]]:
    """What moto's SES sent (its /moto-api/data.json), each with its parsed headers and body."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:
        data = json.loads(answer.read())
    return [describe(entry) for entry in data.get("ses", {}).get("RawMessage", [])]


def describe(entry: dict[str, Any]) -> dict[str, Any]:
    raw = entry.get("raw_data") or ""
    if not raw:
        return {"id": entry.get("id"), "source": entry.get("source"), "destinations": entry.get("destinations"),
                "subject": entry.get("subject"), "body": entry.get("body")}
    message = email.message_from_string(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    return {"id": entry.get("id"), "source": entry.get("source"), "destinations": entry.get("destinations"),
            "headers": {name: str(value) for name, value in message.items()},
            "body": body.get_content() if body is not None else ""}


def wait_for(predicate: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = predicate()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def ses_sends_from_subdomains() -> None:
    """SES lets a verified domain send from its subdomains (the tenants' addresses are
    `support@<tenant>.<inbound domain>`); moto checks the exact host only. Patched on moto's
    backend class (in process: the tests, and `make dev`, whose moto server runs in process)."""
    from moto.ses.models import SESBackend

    if getattr(SESBackend, "_bluehill_subdomains", False):
        return
    exact = SESBackend._is_verified_address

    def verified(self: Any, source: str) -> bool:
        if exact(self, source):
            return True
        host = email.utils.parseaddr(source)[1].rpartition("@")[2]
        return any(host.endswith("." + identity) for identity in self.email_identities if "@" not in identity)

    SESBackend._is_verified_address = verified
    SESBackend._bluehill_subdomains = True
