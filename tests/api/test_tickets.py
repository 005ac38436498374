"""Tickets: create, list, read, change, the status machine, messages and the portal."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def customer(acme):
    return acme.as_("owner").post("/customers", {"name": "Initech", "tier": "smb"}).json


def new_ticket(api, customer_id, **fields):
    response = api.post("/tickets", {"subject": "Export fails", "description": "CSV export times out",
                                     "customer_id": customer_id, **fields})
    assert response.status == 201, response.body
    return response.json


def test_owner_opens_a_ticket_that_starts_new_with_running_sla_clocks(acme, customer):
    ticket = new_ticket(acme.as_("owner"), customer["id"], priority="high")
    assert ticket["status"] == "new"
    assert ticket["sla_state"] == "ok"
    assert ticket["sla"]["first_response"]["target_minutes"] == 60
    assert ticket["sla"]["first_response"]["due_at"]
