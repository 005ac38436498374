"""Mail attachments become files (the files room's consumer of Mail.Received): on the customer
and the ticket, checked like uploads, once whatever the deliveries."""

from __future__ import annotations

import email
import email.policy
import uuid

import boto3
from chalicelib.core.scope import tenant_scope
from chalicelib.files import service

from bluehill_dev import resources
from tests.api.mail_helpers import message, receive, support


def _with_attachments(tenant_id: str, *attachments: tuple[bytes, str, str, str]) -> bytes:
    built = email.message_from_bytes(message(to=support(tenant_id), message_id=f"{uuid.uuid4().hex}@initech.example"),
                                     policy=email.policy.default)
    for content, maintype, subtype, filename in attachments:
        built.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return built.as_bytes()


def test_a_received_messages_attachments_become_files_on_its_customer_and_ticket(fresh_tenant, deliver):
    owner = fresh_tenant.as_("owner")
    customer = owner.post("/customers", {"name": "Initech", "domains": ["initech.example"]}).json
    owner.post(f"/customers/{customer['id']}/contacts", {"name": "Jane Doe", "email": "jane@initech.example"})
    raw = _with_attachments(fresh_tenant.tenant_id, (b"%PDF-1.4 signed", "application", "pdf", "Signed SOW.pdf"),
                            (b"MZ\x90\x00evil", "application", "pdf", "invoice.pdf"))
    outcome = receive(raw, support(fresh_tenant.tenant_id))
    delivered = deliver()
    (received,) = [d.event for d in delivered if d.event.type == "Mail.Received"]
    assert [d.outcomes.get("files_mail_attachments") for d in delivered if d.event is received] == ["applied"]
    files = owner.get(f"/customers/{customer['id']}/files?ticket_id={received.data['ticket_id']}").json["items"]
    by_name = {f["filename"]: f for f in files}
    assert set(by_name) == {"Signed SOW.pdf", "invoice.pdf"}
    signed, evil = by_name["Signed SOW.pdf"], by_name["invoice.pdf"]
    assert (signed["status"], signed["source"], signed["portal_visible"]) == ("available", "mail", False)
    assert evil["status"] == "rejected" and "executable" in evil["rejection"]
    assert owner.get(f"/files/{signed['id']}").json["download_url"]
    published = {d.event.type for d in delivered}
    assert {"File.Uploaded", "File.Rejected"} <= published

    # The same message delivered again (the same stored object): no second set of files.
    receive(raw, support(fresh_tenant.tenant_id), key=outcome["key"])
    deliver()
    files_again = owner.get(f"/customers/{customer['id']}/files?limit=200").json["items"]
    assert sorted(f["id"] for f in files_again) == sorted(f["id"] for f in files)


def test_the_consumer_records_each_stored_attachment_once_and_never_another_tenants_key(fresh_tenant, globex):
    owner = fresh_tenant.as_("owner")
    customer = owner.post("/customers", {"name": "Keys Co"}).json
    key = f"tenants/{fresh_tenant.tenant_id}/mail/m1/001-a.pdf"
    boto3.client("s3").put_object(Bucket=resources.FILES_BUCKET, Key=key, Body=b"%PDF-1.4 a")
    attachment = {"filename": "a.pdf", "content_type": "application/pdf", "size": 10, "key": key}
    foreign = {**attachment, "key": f"tenants/{globex.tenant_id}/mail/m1/001-a.pdf"}
    with tenant_scope(fresh_tenant.tenant_id):
        first = service.record_mail_attachments(fresh_tenant.tenant_id, customer["id"], None, [attachment, foreign])
        second = service.record_mail_attachments(fresh_tenant.tenant_id, customer["id"], None, [attachment])
    assert len(first) == 1 and second == []
