"""A sent invoice is emailed by the mail room (issue 13's send, issue 14's outbound mail): once
per Invoice.Sent, its PDF attached, to the customer's billing contacts; a bouncing contact's mail
is held on a suppressed record, not lost."""

from __future__ import annotations

import uuid
from typing import Any

import chalicelib.wiring  # noqa: F401  (registers every room's consumers)
from chalicelib.core.consumers import CONSUMERS
from chalicelib.core.consumers import deliver as deliver_one

from tests.api.billing_helpers import approved_entries, draft, new_customer
from tests.api.mail_helpers import sent


def _customer_with_contacts(world: Any) -> tuple[str, str, str]:
    """A customer with a billing contact and another contact (listed first by name)."""
    owner, tag = world.as_("owner"), uuid.uuid4().hex[:8]
    customer = new_customer(world, "Invoiced Co")
    other = f"aaron-{tag}@invoiced.example"
    billing = f"bill-{tag}@invoiced.example"
    owner.post(f"/customers/{customer}/contacts", {"name": "Aaron Ops", "email": other})
    owner.post(f"/customers/{customer}/contacts", {"name": "Zoe Books", "email": billing, "billing": True})
    return customer, billing, other


def _send_invoice(world: Any, customer: str) -> dict[str, Any]:
    owner = world.as_("owner")
    approved_entries(world, customer, 2)
    invoice = draft(world, customer).json
    owner.patch(f"/invoices/{invoice['id']}", {"version": invoice["version"], "due_date": "2027-01-15"})
    owner.post(f"/invoices/{invoice['id']}/finalize")
    response = owner.post(f"/invoices/{invoice['id']}/send")
    assert response.status == 200, response.body
    return response.json


def _invoice_mails(world: Any, number: str) -> list[Any]:
    """This tenant's invoice emails (numbers repeat across tenants; moto's outbox is shared)."""
    return [one for one in sent() if str(one["Subject"] or "").startswith(f"Invoice {number} ")
            and f"support@{world.tenant_id}." in str(one["From"])]


def test_a_sent_invoice_is_emailed_once_with_its_pdf_to_the_billing_contact(fresh_tenant, deliver):
    customer, billing, other = _customer_with_contacts(fresh_tenant)
    invoice = _send_invoice(fresh_tenant, customer)
    delivered = deliver()
    (event,) = [d.event for d in delivered if d.event.type == "Invoice.Sent"]
    assert event.data["to"] == [billing] and event.data["total"] == invoice["total"]
    assert event.data["due_date"] == "2027-01-15" and event.data["number"] == invoice["number"]
    (mail,) = _invoice_mails(fresh_tenant, invoice["number"])
    assert mail["To"] == billing and other not in mail.as_string()
    assert mail["Auto-Submitted"] == "auto-generated"
    assert f"support@{fresh_tenant.tenant_id}." in mail["From"]
    text = mail.get_body(("plain",)).get_content()
    assert "2027-01-15" in text and invoice["currency"] in text
    (attached,) = list(mail.iter_attachments())
    assert attached.get_filename() == f"{invoice['number']}.pdf"
    assert attached.get_content_type() == "application/pdf" and attached.get_content().startswith(b"%PDF")
    (outcome,) = [d.event for d in delivered if d.event.type == "Mail.Sent"] or [None]
    if outcome is None:  # Mail.Sent is committed by the consumer: the next drain carries it
        (outcome,) = [d.event for d in deliver() if d.event.type == "Mail.Sent"]
    assert outcome.data["status"] == "sent" and outcome.data["invoice_id"] == invoice["id"]
    # a replay of the event, and a second send of the invoice, email nothing more
    assert deliver_one(CONSUMERS["mail_send_invoice"], event) == "duplicate"
    assert fresh_tenant.as_("owner").post(f"/invoices/{invoice['id']}/send").status == 200
    deliver()
    assert len(_invoice_mails(fresh_tenant, invoice["number"])) == 1


def test_without_a_billing_contact_the_first_contact_gets_it(fresh_tenant, deliver):
    owner = fresh_tenant.as_("owner")
    customer = new_customer(fresh_tenant, "Plain Co")
    address = f"only-{uuid.uuid4().hex[:8]}@plain.example"
    owner.post(f"/customers/{customer}/contacts", {"name": "Only One", "email": address})
    invoice = _send_invoice(fresh_tenant, customer)
    deliver()
    (mail,) = _invoice_mails(fresh_tenant, invoice["number"])
    assert mail["To"] == address


def test_a_bouncing_billing_contact_is_not_emailed_and_the_mail_is_held(fresh_tenant, deliver):
    from chalicelib.core.scope import tenant_scope
    from chalicelib.customers import service as customers

    from bluehill_dev import fidelity

    customer, billing, _ = _customer_with_contacts(fresh_tenant)
    fidelity.settle()  # the contacts are in the email index, as after any request
    with tenant_scope(fresh_tenant.tenant_id):  # as the customers room does on a Mail.Bounced
        assert customers.mark_email_bouncing(fresh_tenant.tenant_id, billing, "5.1.1") is not None
    deliver()
    invoice = _send_invoice(fresh_tenant, customer)
    delivered = deliver() + deliver()
    assert _invoice_mails(fresh_tenant, invoice["number"]) == []
    (held,) = [d.event for d in delivered if d.event.type == "Mail.Sent"]
    assert held.data["status"] == "suppressed" and held.data["invoice_id"] == invoice["id"]
    stored = fresh_tenant.as_("owner").get(f"/mail/messages/{held.data['mail_id']}").json
    assert stored["status"] == "suppressed" and stored["reason"] == "recipient_bouncing"
    assert stored["attachments"][0]["filename"] == f"{invoice['number']}.pdf"
