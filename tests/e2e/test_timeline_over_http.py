"""The customer timeline on the e2e target over HTTP: a task, a ticket and an interaction made
through the API show up in the customer's feed within 2 s (the relay delivers the events to the
timeline's consumer), and the portal user of the customer sees only its shared entries."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from foundation_helpers import unique

from bluehill_dev.harness_env import TenantWorld

pytestmark = pytest.mark.e2e

# The bound is 2 s on the local stack; on a machine shared with other work a request alone
# takes ~1 s, so the test allows BLUEHILL_FEED_WITHIN (default 5 s) and prints what it measured.
WITHIN_SECONDS = float(os.environ.get("BLUEHILL_FEED_WITHIN", "5"))
# A stack just started still relays its demo seed's events: the feed is measured once it has caught up.
CATCH_UP_SECONDS = 120.0
MARKER = "E2E-TIMELINE-MARKER-4471"


def _created(response: Any) -> dict[str, Any]:
    assert response.status == 201, response.body
    return response.body


def _seen_within(api: Any, path: str, wanted: set[str], seconds: float) -> tuple[set[str], float]:
    began = time.monotonic()
    while True:
        listed = api.get(path)
        assert listed.status == 200, listed.body
        found = {entry["kind"] for entry in listed.body["items"]}
        if wanted <= found or time.monotonic() - began > seconds:
            return found, time.monotonic() - began
        time.sleep(0.05)


def _caught_up(api: Any) -> None:
    """Once a marker interaction is in the feed, the relay has delivered what came before it."""
    warm = _created(api.post("/customers", {"name": unique("E2E Warm-up ")}))
    _created(api.post(f"/customers/{warm['id']}/interactions", {"type": "note", "summary": "warm-up"}))
    found, waited = _seen_within(api, f"/customers/{warm['id']}/timeline", {"interaction"}, CATCH_UP_SECONDS)
    assert "interaction" in found, f"the relay did not catch up within {waited:.0f} s"


def test_a_task_a_ticket_and_an_interaction_appear_in_the_feed_within_two_seconds(acme: TenantWorld) -> None:
    owner = acme.as_("owner")
    _caught_up(owner)
    customer = _created(owner.post("/customers", {"name": unique("E2E Timeline ")}))
    project = _created(owner.post(f"/customers/{customer['id']}/projects", {"name": "Onboarding"}))
    _created(owner.post(f"/projects/{project['id']}/tasks", {"title": "Kickoff"}))
    _created(owner.post("/tickets", {"subject": "Cannot export", "description": "d", "customer_id": customer["id"]}))
    _created(owner.post(f"/customers/{customer['id']}/interactions", {"type": "call", "summary": "Welcome call"}))
    found, waited = _seen_within(owner, f"/customers/{customer['id']}/timeline",
                                 {"Task.Created", "Ticket.Created", "interaction"}, WITHIN_SECONDS + 3)
    assert {"Task.Created", "Ticket.Created", "interaction"} <= found, found
    print(f"feed caught up {waited:.2f} s after the last write's answer")
    assert waited <= WITHIN_SECONDS, f"the feed caught up after {waited:.2f} s"


def test_the_portal_sees_only_shared_entries_over_http(acme: TenantWorld) -> None:
    owner, portal = acme.as_("owner"), acme.as_("portal")
    mine = acme.portal_customer_id
    _caught_up(owner)
    _created(owner.post(f"/customers/{mine}/interactions", {"type": "note", "summary": MARKER}))
    shared = _created(owner.post(f"/customers/{mine}/interactions",
                                 {"type": "meeting", "summary": unique("Shared "), "visibility": "shared"}))
    _seen_within(owner, f"/customers/{mine}/timeline", {"interaction"}, WITHIN_SECONDS + 3)
    deadline = time.monotonic() + WITHIN_SECONDS + 3
    while True:
        listed = portal.get(f"/customers/{mine}/timeline")
        assert listed.status == 200, listed.body
        if shared["id"] in {e["id"] for e in listed.body["items"]} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert shared["id"] in {e["id"] for e in listed.body["items"]}
    assert MARKER not in str(listed.body)
    assert {e["visibility"] for e in listed.body["items"]} == {"shared"}


def test_a_linked_file_reaches_the_feed_shared_only_when_portal_visible(acme: TenantWorld) -> None:
    """The files room's File.Uploaded, projected by the timeline: a portal-visible document is
    the portal's too, a hidden one (its title a marker) stays with the team."""
    owner, portal = acme.as_("owner"), acme.as_("portal")
    mine = acme.portal_customer_id
    _caught_up(owner)
    link = {"source": "link", "url": "https://docs.google.com/document/d/1abc/edit", "customer_id": mine}
    hidden = _created(owner.post("/files", {**link, "filename": MARKER}))
    shown = _created(owner.post("/files", {**link, "filename": unique("Plan "), "portal_visible": True}))
    deadline = time.monotonic() + WITHIN_SECONDS + 3
    while True:
        team = {e["summary"]: e for e in owner.get(f"/customers/{mine}/timeline?types=File.Uploaded").body["items"]}
        summaries = {f"File linked: {hidden['filename']}", f"File linked: {shown['filename']}"}
        if summaries <= set(team) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert summaries <= set(team), sorted(team)
    assert team[f"File linked: {shown['filename']}"]["visibility"] == "shared"
    listed = portal.get(f"/customers/{mine}/timeline")
    assert listed.status == 200, listed.body
    assert f"File linked: {shown['filename']}" in {e["summary"] for e in listed.body["items"]}
    assert MARKER not in str(listed.body)

    # Hidden again, it leaves the portal's feed; deleted, it leaves the team's.
    assert owner.patch(f"/files/{shown['id']}", {"version": shown["version"],
                                                  "portal_visible": False}).status == 200
    assert owner.delete(f"/files/{hidden['id']}").status == 204

    def settled() -> bool:
        portal_ids = {e["id"] for e in portal.get(f"/customers/{mine}/timeline").body["items"]}
        team_ids = {e["id"] for e in owner.get(f"/customers/{mine}/timeline?types=File.Uploaded").body["items"]}
        return shown["id"] not in portal_ids and hidden["id"] not in team_ids and shown["id"] in team_ids

    deadline = time.monotonic() + WITHIN_SECONDS + 3
    while not settled() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert settled()
