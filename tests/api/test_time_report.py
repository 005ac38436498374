"""GET /reports/time: from the daily rollups kept by the time room's consumer of its own entry
events — minutes, billable minutes, amounts, utilisation, estimate vs actual; roles."""

from __future__ import annotations

import pytest
from time_helpers import customer, entry, put_rates, put_settings


@pytest.fixture
def world(fresh_tenant):
    return fresh_tenant


def _report(world, role, query):
    response = world.as_(role).get(f"/reports/time?from=2026-06-01&to=2026-06-30&{query}")
    assert response.status == 200, response.body
    return response.json


def test_the_report_groups_minutes_amounts_and_utilisation_from_the_rollups(world, deliver):
    cust, other = customer(world), customer(world, "Internal Co")
    put_rates(world, [{"amount": 6000, "currency": "USD"}])
    put_settings(world, customers={other: False})
    entry(world, "member", cust, minutes=60)
    second = entry(world, "member", cust, day="2026-06-09", minutes=30)
    entry(world, "admin", other, minutes=90)
    entry(world, "member", cust, day="2026-07-01", minutes=500)  # outside the period
    deliver()
    rows = {r["key"]: r for r in _report(world, "owner", "group_by=customer")["rows"]}
    assert (rows[cust]["minutes"], rows[cust]["billable_minutes"], rows[cust]["billable_utilisation"]) == (90, 90, 1.0)
    assert rows[cust]["amounts"] == [{"currency": "USD", "amount": 9000}]
    assert (rows[other]["minutes"], rows[other]["billable_minutes"]) == (90, 0)
    weeks = {r["key"]: r["minutes"] for r in _report(world, "owner", "group_by=week")["rows"]}
    assert weeks == {"2026-W23": 150, "2026-W24": 30}
    members = {r["key"]: r["billable_utilisation"] for r in _report(world, "owner", "group_by=member")["rows"]}
    assert members == {world.users["member"]: 1.0, world.users["admin"]: 0.0}
    assert _report(world, "owner", "group_by=customer&billable=false")["totals"]["minutes"] == 90
    # a change and a delete move the rollup: nothing is counted twice
    world.as_("member").patch(f"/time-entries/{second['id']}", {"version": 1, "minutes": 45})
    world.as_("owner").delete(f"/time-entries/{entry(world, 'member', cust, minutes=7)['id']}")
    deliver()
    deliver()
    assert _report(world, "owner", "group_by=customer")["totals"] == {
        "minutes": 195, "billable_minutes": 105, "billable_utilisation": round(105 / 195, 4)}


def test_estimate_vs_actual_reads_the_tasks_estimates(world, deliver):
    cust = customer(world)
    owner = world.as_("owner")
    project = owner.post(f"/customers/{cust}/projects", {"name": "Scoped"}).json["id"]
    task = owner.post(f"/projects/{project}/tasks", {"title": "Build", "time_estimate": 2, "time_unit": "hour"}).json
    for minutes in (90, 60):
        made = owner.post("/time-entries", {"task_id": task["id"], "date": "2026-06-02", "minutes": minutes})
        assert made.status == 201, made.body
    deliver()
    row = _report(world, "owner", "group_by=project")["rows"][0]
    assert (row["key"], row["estimate_minutes"], row["actual_minutes_on_estimated_tasks"]) == (project, 120, 150)


def test_members_see_their_own_time_contractors_no_money_portal_nothing(world, deliver):
    cust = customer(world)
    entry(world, "member", cust, minutes=10)
    entry(world, "admin", cust, minutes=20)
    deliver()
    assert _report(world, "member", "group_by=customer")["totals"]["minutes"] == 10
    assert _report(world, "readonly", "group_by=customer")["totals"]["minutes"] == 30
    contractor = _report(world, "contractor", "group_by=customer")
    assert contractor["rows"] == [] or "amounts" not in contractor["rows"][0]
    assert world.as_("portal").get("/reports/time?from=2026-06-01&to=2026-06-30").status == 403
    assert world.as_("owner").get("/reports/time?from=2026-06-30&to=2026-06-01").status == 422
    assert world.as_("owner").get("/reports/time?from=2026-06-01&to=2026-06-30&group_by=planet").status == 422


def test_the_report_downloads_as_csv(world, deliver):
    entry(world, "member", customer(world, "=cmd|' /C calc'!A0"), minutes=15)
    deliver()
    response = world.as_("owner").get("/reports/time?from=2026-06-01&to=2026-06-30&format=csv")
    assert response.status == 200 and response.body.startswith("\ufeffkey,minutes")
    assert response.body.count("\r\n") == 2


def test_another_tenant_sees_none_of_it(world, globex, deliver):
    entry(world, "member", customer(world), minutes=10)
    deliver()
    assert _report(globex, "owner", "group_by=customer")["rows"] == []
