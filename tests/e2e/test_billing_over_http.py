"""An invoice over HTTP on the e2e target: draft for a customer and period, a manual fee line,
finalize (a number of the series), then the PDF link — fetched, it is a real PDF. (Time entries
reach a draft through the time room's approval, covered in process: tests/api/test_billing.py.)"""

from __future__ import annotations

import re
import urllib.request
from datetime import date

import pytest
from foundation_helpers import unique

from bluehill_dev.harness_env import TenantWorld

pytestmark = pytest.mark.e2e


def test_draft_finalize_and_fetch_the_pdf_over_http(acme: TenantWorld) -> None:
    owner = acme.as_("owner")
    customer = owner.post("/customers", {"name": unique("E2E Billed ")})
    assert customer.status == 201, customer.body
    drafted = owner.post("/invoices", {"customer_id": customer.body["id"], "from": "2026-06-01", "to": "2026-06-30",
                                       "group_by": "project"})
    assert drafted.status == 201, drafted.body
    assert drafted.body["status"] == "draft" and drafted.body["number"] is None
    path = f"/invoices/{drafted.body['id']}"
    fee = owner.post(f"{path}/lines", {"description": "Onboarding workshop", "quantity": 2, "rate": 75_000})
    assert fee.status == 201 and fee.body["total"] == 150_000, fee.body
    final = owner.post(f"{path}/finalize")
    assert final.status == 200, final.body
    assert re.fullmatch(rf"INV-{date.today().year}-\d{{4,}}", final.body["number"])
    assert owner.post(f"{path}/finalize").body["number"] == final.body["number"]  # a retry
    link = owner.get(f"{path}/pdf")
    assert link.status == 200, link.body
    with urllib.request.urlopen(link.body["url"], timeout=10) as answer:  # the target's own link
        document = answer.read()
    assert document.startswith(b"%PDF-1.4") and final.body["number"].encode() in document
    assert b"1500.00 USD" in document
    assert acme.as_("member").get(path).status == 403
