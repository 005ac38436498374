"""Inbound and outbound mail in the in-process tests: a message through the real handler (put
in the inbound bucket as SES would, then the S3 event), and what moto's SES sent."""

from __future__ import annotations

import email
import email.message
import email.policy
from pathlib import Path
from typing import Any

import boto3

from bluehill_dev import mail as local_mail
from bluehill_dev import resources

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "mail"


def corpus() -> Path:
    if not CORPUS.is_dir():
        raise RuntimeError(f"the mail corpus is missing: expected {CORPUS.resolve()} (../shared/mail beside the repo)")
    return CORPUS


def support(tenant_id: str, tag: str | None = None) -> str:
    local = f"support+{tag}" if tag else "support"
    return f"{local}@{tenant_id}.{resources.MAIL_DOMAIN}"


def log(tenant_id: str) -> str:
    return f"log@{tenant_id}.{resources.MAIL_DOMAIN}"


def receive(raw: bytes, to: str, key: str | None = None) -> dict[str, Any]:
    """Put the message in the inbound bucket (or deliver an existing key again) and run the handler."""
    from chalicelib.mail import jobs

    from bluehill_dev import fidelity

    fidelity.settle()  # as the test client does before each request: earlier writes are in the indexes
    s3 = boto3.client("s3")
    key = key or local_mail.put_inbound(s3, raw, to)
    event = local_mail.object_created_event(resources.MAIL_BUCKET, key, len(raw))
    outcome = jobs.mail_inbound(event, None)["outcomes"][0]
    outcome["key"] = key
    return outcome


def message(*, sender: str = "jane@initech.example", to: str, subject: str = "Export fails",
            body: str = "The CSV export times out.", message_id: str | None = None, **headers: str) -> bytes:
    built = email.message.EmailMessage()
    built["From"] = f"Jane Doe <{sender}>"
    built["To"] = to
    built["Subject"] = subject
    if message_id:
        built["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        built[name.replace("_", "-")] = value
    built.set_content(body)
    return built.as_bytes()


def sent() -> list[email.message.EmailMessage]:
    """Every message moto's SES sent in this process, parsed."""
    from moto.ses.models import ses_backends

    backend = ses_backends["123456789012"][resources.REGION]
    return [email.message_from_string(found.raw_data, policy=email.policy.default)
            for found in backend.sent_messages if getattr(found, "raw_data", None)]
