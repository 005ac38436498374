"""The portal over HTTP on the local stack: a contact given portal access signs in with a magic
link (read from the stack's SES, moto), sees the home page, approves a milestone (the work room
records it on the task through the event relay) and replies on a ticket."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

import pytest

from bluehill_dev.harness_env import Api, TenantWorld
from bluehill_dev.targets import Target

pytestmark = [pytest.mark.e2e, pytest.mark.local_only("reads the sign-in email from the local stack's SES (moto)")]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, response.body
    return response.json


def _links(target: Target) -> list[str]:
    endpoint = target.stack.state()["endpoint"]  # type: ignore[attr-defined]
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:
        models = json.loads(answer.read())
    messages = models.get("ses", {}).get("Message", [])
    return [found.group(1) for m in messages if (found := re.search(r"link=(\S+)", m.get("body", "")))]


def _within(seconds: float, check: Any) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


def test_magic_link_home_approve_a_milestone_and_reply_on_a_ticket(target: Target, acme: TenantWorld) -> None:
    owner, customer_id = acme.as_("owner"), acme.portal_customer_id
    sub = re.sub(r"[^a-z0-9-]", "", f"e2e-{acme.tenant_id}".lower())[:40]
    ok(owner.put("/tenant/branding", {"portal_name": "E2E Portal", "portal_subdomain": sub}))
    contact = ok(owner.post(f"/customers/{customer_id}/contacts", {"name": "Pat", "email": f"{sub}@initech.example"}),
                 201)
    ok(owner.post(f"/customers/{customer_id}/contacts/{contact['id']}/portal-access", {}), 201)
    project = ok(owner.post(f"/customers/{customer_id}/projects", {"name": "E2E onboarding", "portal_visible": True}),
                 201)
    milestone = ok(owner.post(f"/projects/{project['id']}/tasks", {
        "title": "Design sign-off", "is_milestone": True, "needs_approval": True, "portal_visible": True}), 201)
    ticket = ok(owner.post("/tickets", {"subject": "Which SSO?", "description": "Okta or Azure?",
                                        "customer_id": customer_id, "requester_contact_id": contact["id"]}), 201)

    anonymous = Api(acme.client, None)
    before = len(_links(target))

    def ask() -> list[str]:  # the users' index lags writes (the local stack's GSI lag): ask again meanwhile
        assert anonymous.post("/portal/login/link", {"email": contact["email"], "host": f"{sub}.portal.example"}) \
            .status == 202
        time.sleep(1)
        return _links(target)[before:]

    links = _within(15, ask)
    assert links, "no sign-in email was sent"
    session = ok(anonymous.post("/portal/login/exchange", {"link": links[-1]}))
    assert anonymous.post("/portal/login/exchange", {"link": links[-1]}).status == 404  # single use
    portal = Api(acme.client, session["token"])

    home = ok(portal.get("/portal/home"))
    assert project["id"] in {p["id"] for p in home["projects"]}
    assert ok(portal.post(f"/portal/milestones/{milestone['id']}/approve", {"comment": "Ship it"}))["state"] \
        == "approved"
    reply = ok(portal.post(f"/portal/tickets/{ticket['id']}/messages", {"body": "Okta, please"}), 201)
    assert reply["author_type"] == "customer"

    recorded = _within(10, lambda: (ok(owner.get(f"/tasks/{milestone['id']}")).get("approval") or {}).get("state"))
    assert recorded == "approved"
    conversation = ok(owner.get(f"/tickets/{ticket['id']}/messages"))["items"]
    assert "Okta, please" in [m["body"] for m in conversation]
