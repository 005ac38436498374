"""The time room over HTTP on the e2e target: start a timer, stop it into an entry, submit the
week, approve it — the entry reads approved and refuses changes (409, locked_by timesheet) —
and the time report shows the minutes once the rollup consumer has run."""

from __future__ import annotations

import time
from datetime import date

import pytest
from foundation_helpers import unique

from bluehill_dev.harness_env import TenantWorld

pytestmark = pytest.mark.e2e

CONSUMER_SECONDS = 15  # the relay delivers to the consumers within seconds


def _week_of(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def test_timer_to_entry_to_submitted_and_approved_week(acme: TenantWorld) -> None:
    owner, member = acme.as_("owner"), acme.as_("member")
    customer = owner.post("/customers", {"name": unique("E2E Time "), "owner_id": acme.users["member"]})
    assert customer.status == 201, customer.body
    started = member.post("/timers", {"customer_id": customer.body["id"], "notes": "e2e"})
    assert started.status == 201, started.body
    timer = started.body["timer"]
    assert member.get("/timers/current").body["id"] == timer["id"]
    stopped = member.post(f"/timers/{timer['id']}/stop", {})
    assert stopped.status == 200, stopped.body
    made = stopped.body
    assert made["minutes"] >= 1 and made["notes"] == "e2e" and made["status"] == "open"
    assert member.get("/timers/current").body is None

    sheet = made["timesheet_id"]
    submitted = member.post(f"/timesheets/{sheet}/submit", {})
    assert submitted.status == 200 and submitted.body["status"] == "submitted", submitted.body
    approved = owner.post(f"/timesheets/{sheet}/approve", {})
    assert approved.status == 200 and approved.body["status"] == "approved", approved.body
    assert member.get(f"/time-entries/{made['id']}").body["status"] == "approved"
    refused = member.patch(f"/time-entries/{made['id']}", {"version": made["version"], "minutes": 5})
    assert refused.status == 409 and refused.body["locked_by"] == "timesheet", refused.body

    week = member.get(f"/timesheets?week={_week_of(made['date'])}")
    assert week.status == 200 and week.body["items"][0]["id"] == sheet

    deadline = time.monotonic() + CONSUMER_SECONDS
    while True:
        report = owner.get(f"/reports/time?from={made['date']}&to={made['date']}&group_by=customer")
        assert report.status == 200, report.body
        rows = {row["key"]: row for row in report.body["rows"]}
        if customer.body["id"] in rows or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert rows[customer.body["id"]]["minutes"] == made["minutes"]
