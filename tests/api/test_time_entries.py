"""Time entries through the API: the rules decide billable, category, rate and amount; writes
are version-checked; locked entries (an approved week, an invoice) refuse every write with a
409 naming what locks them; lists filter, page and download as CSV; roles see their own."""

from __future__ import annotations

import csv
import io

import pytest
from time_helpers import customer, entry, put_rates, put_settings, sheet_id


@pytest.fixture
def world(fresh_tenant):
    return fresh_tenant


def test_a_manual_entry_gets_billable_category_rate_and_amount_from_the_rules(world):
    cust = customer(world)
    put_rates(world, [{"amount": 12000, "currency": "USD"},
                      {"customer_id": cust, "amount": 15000, "currency": "USD"}])
    made = entry(world, "member", cust, minutes=90, notes="Workshop")
    assert made["user_id"] == world.users["member"] and made["customer_id"] == cust
    assert (made["billable"], made["billable_source"]) == (True, "tenant")
    assert (made["rate"], made["rate_source"], made["amount"], made["currency"]) == (15000, "customer", 22500, "USD")
    assert made["category"] == "internal" and made["status"] == "open" and made["version"] == 1
    assert made["timesheet_id"] == sheet_id(world, "member", "2026-W23")
    assert world.as_("member").get(f"/time-entries/{made['id']}").json == made


def test_started_and_ended_give_minutes_and_the_date_in_the_tenants_timezone(world):
    world.as_("owner").patch("/tenant", {"version": world.as_("owner").get("/tenant").json["version"],
                                         "timezone": "America/Los_Angeles", "week_start": "monday"})
    cust = customer(world)
    response = world.as_("member").post("/time-entries", {"customer_id": cust, "started_at": "2026-06-08T07:00:00Z",
                                                          "ended_at": "2026-06-08T07:45:00Z"})
    assert response.status == 201, response.body
    # 07:00Z on Monday is 00:00 Monday in Los Angeles... 23:30 on Sunday the 7th is 07:30Z the 8th
    assert response.json["date"] == "2026-06-08" and response.json["minutes"] == 45
    sunday = world.as_("member").post("/time-entries", {"customer_id": cust, "started_at": "2026-06-08T06:30:00Z",
                                                        "ended_at": "2026-06-08T06:50:00Z"}).json
    assert sunday["date"] == "2026-06-07" and sunday["timesheet_id"].endswith("2026-W23")


def test_a_non_billable_customer_makes_even_a_manual_billable_entry_non_billable(world):
    cust = customer(world)
    put_settings(world, customers={cust: False})
    made = entry(world, "member", cust, billable=True)
    assert (made["billable"], made["billable_source"], made["amount"]) == (False, "customer", 0)


def test_a_task_types_setting_beats_the_project_and_suggests_the_category(world):
    cust = customer(world)
    owner = world.as_("owner")
    project = owner.post(f"/customers/{cust}/projects", {"name": "Onboarding"}).json["id"]
    task = owner.post(f"/projects/{project}/tasks", {"title": "Kickoff", "task_type": "kickoff"}).json
    put_settings(world, projects={project: False}, task_types={"kickoff": {"billable": True,
                                                                           "category": "onboarding"}})
    made = entry(world, "owner", cust, task_id=task["id"])
    assert (made["billable"], made["billable_source"], made["category"]) == (True, "task_type", "onboarding")
    assert made["project_id"] == project and made["task_type"] == "kickoff"
    other = owner.post(f"/projects/{project}/tasks", {"title": "Other"}).json
    plain = world.as_("owner").post("/time-entries", {"task_id": other["id"], "date": "2026-06-02", "minutes": 5}).json
    assert (plain["billable"], plain["billable_source"], plain["customer_id"]) == (False, "project", cust)


def test_time_on_a_ticket_is_support_on_the_tickets_customer(world):
    cust = customer(world)
    ticket = world.as_("owner").post("/tickets", {"subject": "s", "description": "d", "customer_id": cust}).json
    made = world.as_("owner").post("/time-entries", {"ticket_id": ticket["id"], "date": "2026-06-02",
                                                     "minutes": 20}).json
    assert (made["customer_id"], made["category"], made["ticket_id"]) == (cust, "support", ticket["id"])


def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(world):
    cust = customer(world)
    api = world.as_("member")
    cases = [({"customer_id": cust, "date": "2026-06-02"}, None),
             ({"customer_id": cust, "date": "2026-06-02", "minutes": 0}, "minutes"),
             ({"customer_id": cust, "date": "2026-06-02", "minutes": 1441}, "minutes"),
             ({"customer_id": "nobody", "date": "2026-06-02", "minutes": 5}, "customer_id"),
             ({"task_id": "nope", "date": "2026-06-02", "minutes": 5}, "task_id"),
             ({"customer_id": cust, "date": "2026-06-02", "minutes": 5, "category": "nonsense"}, "category"),
             ({"customer_id": cust, "started_at": "2026-06-02T10:00:00Z", "ended_at": "2026-06-02T09:00:00Z"},
              "ended_at"),
             ({"date": "2026-06-02", "minutes": 5}, "customer_id")]
    for body, field in cases:
        response = api.post("/time-entries", body)
        assert response.status == 422, (body, response.body)
        if field:
            assert field in {e["field"] for e in response.json.get("errors", [])} or field in response.json["detail"], \
                (body, response.json)
    assert api.get("/time-entries").json["items"] == []


def test_patch_is_version_checked_and_recomputes_the_amount(world):
    cust = customer(world)
    put_rates(world, [{"amount": 6000, "currency": "EUR"}])
    made = entry(world, "member", cust, minutes=30)
    api = world.as_("member")
    changed = api.patch(f"/time-entries/{made['id']}", {"version": 1, "minutes": 45, "notes": "more"})
    assert changed.status == 200, changed.body
    assert (changed.json["minutes"], changed.json["amount"], changed.json["version"]) == (45, 4500, 2)
    stale = api.patch(f"/time-entries/{made['id']}", {"version": 1, "minutes": 10})
    assert stale.status == 409
    assert api.patch(f"/time-entries/{made['id']}", {"version": 2, "tenant_id": "x"}).status == 422
    manual = api.patch(f"/time-entries/{made['id']}", {"version": 2, "billable": False}).json
    assert (manual["billable"], manual["billable_source"], manual["amount"]) == (False, "manual", 0)


def test_an_approved_week_locks_its_entries_on_every_write_path(world, deliver):
    cust = customer(world)
    made = entry(world, "member", cust)
    member, owner = world.as_("member"), world.as_("owner")
    sheet = made["timesheet_id"]
    assert member.post(f"/timesheets/{sheet}/submit", {}).status == 200
    submitted = member.patch(f"/time-entries/{made['id']}", {"version": 1, "minutes": 5})
    assert submitted.status == 409 and submitted.json["locked_by"] == "timesheet"
    assert owner.post(f"/timesheets/{sheet}/approve", {}).status == 200
    assert member.get(f"/time-entries/{made['id']}").json["status"] == "approved"  # before the entries follow
    deliver()
    current = member.get(f"/time-entries/{made['id']}").json
    assert current["status"] == "approved"
    for response in (member.patch(f"/time-entries/{made['id']}", {"version": current["version"], "minutes": 5}),
                     member.delete(f"/time-entries/{made['id']}"),
                     member.post("/time-entries", {"customer_id": cust, "date": "2026-06-03", "minutes": 5})):
        assert response.status == 409, response.body
        assert response.json["locked_by"] == "timesheet"
    assert member.get(f"/time-entries/{made['id']}").json["minutes"] == 60
    assert entry(world, "member", cust, day="2026-06-08")["status"] == "open"  # the next week is open


def test_an_invoiced_entry_refuses_writes_naming_the_invoice(world, deliver):
    from chalicelib.core.scope import tenant_scope
    from chalicelib.timekeeping import invoicing

    from bluehill_dev import fidelity

    cust = customer(world)
    made = entry(world, "member", cust)
    world.as_("member").post(f"/timesheets/{made['timesheet_id']}/submit", {})
    world.as_("owner").post(f"/timesheets/{made['timesheet_id']}/approve", {})
    deliver()
    fidelity.settle()  # the uninvoiced index has caught up
    with tenant_scope(world.tenant_id):
        assert [e.id for e in invoicing.billable_uninvoiced_entries(world.tenant_id, cust, "2026-06-01",
                                                                     "2026-06-07")] == [made["id"]]
        assert invoicing.link_to_invoice(world.tenant_id, "inv1", [made["id"]]) == 1
        assert invoicing.link_to_invoice(world.tenant_id, "inv1", [made["id"]]) == 0  # replayed: no change
        fidelity.settle()
        assert invoicing.billable_uninvoiced_entries(world.tenant_id, cust, "2026-06-01", "2026-06-07") == []
    current = world.as_("member").get(f"/time-entries/{made['id']}").json
    assert (current["status"], current["invoice_id"]) == ("invoiced", "inv1")
    refused = world.as_("owner").delete(f"/time-entries/{made['id']}")
    assert refused.status == 409 and refused.json["locked_by"] == "invoice"
    reopen = world.as_("owner").post(f"/timesheets/{made['timesheet_id']}/reopen", {"reason": "fix"})
    assert reopen.status == 409 and reopen.json["locked_by"] == "invoice"
    with tenant_scope(world.tenant_id):
        assert invoicing.release_from_invoice(world.tenant_id, "inv1", [made["id"]]) == 1
        assert [e.id for e in invoicing.entries_by_ids(world.tenant_id, [made["id"], "gone"])] == [made["id"]]
        fidelity.settle()
        assert len(invoicing.billable_uninvoiced_entries(world.tenant_id, cust, "2026-06-01", "2026-06-07")) == 1
    back = world.as_("member").get(f"/time-entries/{made['id']}").json
    assert (back["status"], back["invoice_id"]) == ("approved", None)


def test_lists_filter_and_page_and_members_see_only_their_own(world):
    cust, other = customer(world), customer(world, "Other")
    for day in ("2026-06-01", "2026-06-02", "2026-06-03"):
        entry(world, "member", cust, day=day)
    entry(world, "admin", other, day="2026-06-02")
    member, owner = world.as_("member"), world.as_("owner")
    assert len(member.get("/time-entries").json["items"]) == 3
    assert member.get(f"/time-entries?user_id={world.users['admin']}").status == 403
    assert len(owner.get("/time-entries").json["items"]) == 4
    assert len(owner.get(f"/time-entries?customer_id={cust}&from=2026-06-02&to=2026-06-03").json["items"]) == 2
    assert len(owner.get(f"/time-entries?user_id={world.users['admin']}").json["items"]) == 1
    first = owner.get("/time-entries?limit=3")
    rest = owner.get(f"/time-entries?limit=3&cursor={first.json['next_cursor']}")
    assert len(first.json["items"]) == 3 and len(rest.json["items"]) == 1
    assert owner.get("/time-entries?status=open").json["items"] and not owner.get("/time-entries?status=approved")\
        .json["items"]
    assert owner.get("/time-entries?from=2026-06-03&to=2026-06-01").status == 422
    assert owner.get("/time-entries?cursor=garbage").status == 400


def test_csv_opens_in_excel_and_neutralises_formulas(world):
    cust = customer(world)
    entry(world, "member", cust, notes="=HYPERLINK(\"http://evil\")")
    response = world.as_("member").get("/time-entries?format=csv")
    headers = {name.lower(): value for name, value in response.headers.items()}
    assert response.status == 200 and headers["content-type"].startswith("text/csv")
    text = response.body
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["notes"].startswith("'=") and rows[0]["minutes"] == "60"


def test_contractors_record_their_own_time_but_never_see_rates_or_amounts(world):
    cust = customer(world)
    response = world.as_("contractor").post("/time-entries", {"customer_id": cust, "date": "2026-06-02",
                                                              "minutes": 30})
    if response.status == 422:  # a contractor reaches only customers they are assigned to
        assert response.json["errors"][0]["field"] == "customer_id"
        return
    assert response.status == 201 and "rate" not in response.json and "amount" not in response.json


def test_portal_users_see_nothing_here_and_readonly_only_reads(world):
    cust = customer(world)
    made = entry(world, "member", cust)
    assert world.as_("portal").get("/time-entries").status == 403
    assert world.as_("portal").get(f"/time-entries/{made['id']}").status == 403
    assert world.as_("readonly").get(f"/time-entries/{made['id']}").status == 200
    assert world.as_("readonly").post("/time-entries", {"customer_id": cust, "date": "2026-06-02",
                                                        "minutes": 5}).status == 403


def test_another_tenant_never_reaches_an_entry(world, globex):
    made = entry(world, "member", customer(world))
    foreign = globex.as_("owner")
    assert foreign.get(f"/time-entries/{made['id']}").status == 404
    assert foreign.patch(f"/time-entries/{made['id']}", {"version": 1, "minutes": 5}).status == 404
    assert foreign.delete(f"/time-entries/{made['id']}").status == 404
    assert made["id"] not in {e["id"] for e in foreign.get("/time-entries").json["items"]}


def test_rerate_is_a_dry_run_by_default_and_never_touches_approved_entries(world, deliver):
    cust = customer(world)
    put_rates(world, [{"amount": 6000, "currency": "USD"}])
    locked = entry(world, "member", cust, day="2026-06-02", minutes=60)
    loose = entry(world, "member", cust, day="2026-06-09", minutes=60)
    world.as_("member").post(f"/timesheets/{locked['timesheet_id']}/submit", {})
    world.as_("owner").post(f"/timesheets/{locked['timesheet_id']}/approve", {})
    deliver()
    put_rates(world, [{"amount": 9000, "currency": "USD"}])
    owner = world.as_("owner")
    dry = owner.post("/time-entries/rerate", {"customer_id": cust}).json
    assert dry["dry_run"] and dry["count"] == 1 and dry["changes"][0]["entry_id"] == loose["id"]
    assert owner.get(f"/time-entries/{loose['id']}").json["amount"] == 6000
    done = owner.post("/time-entries/rerate", {"customer_id": cust, "dry_run": False}).json
    assert done["count"] == 1
    assert owner.get(f"/time-entries/{loose['id']}").json["amount"] == 9000
    assert owner.get(f"/time-entries/{locked['id']}").json["amount"] == 6000
    assert world.as_("member").post("/time-entries/rerate", {}).status == 403


def test_an_invoice_draft_marks_its_entries_invoiced_and_a_void_releases_them(world, deliver):
    cust = customer(world)
    put_rates(world, [{"amount": 12000, "currency": "USD"}])
    made = entry(world, "member", cust)
    world.as_("member").post(f"/timesheets/{made['timesheet_id']}/submit", {})
    world.as_("owner").post(f"/timesheets/{made['timesheet_id']}/approve", {})
    deliver()
    owner = world.as_("owner")
    draft = owner.post("/invoices", {"customer_id": cust, "from": "2026-06-01", "to": "2026-06-30"})
    assert draft.status == 201, draft.body
    deliver()
    current = owner.get(f"/time-entries/{made['id']}").json
    assert (current["status"], current["invoice_id"]) == ("invoiced", draft.json["id"])
    assert owner.patch(f"/time-entries/{made['id']}", {"version": current["version"], "minutes": 1}).json[
        "locked_by"] == "invoice"
    finalized = owner.post(f"/invoices/{draft.json['id']}/finalize", {})
    assert finalized.status == 200, finalized.body
    assert owner.post(f"/invoices/{draft.json['id']}/void", {}).status == 200
    deliver()
    back = owner.get(f"/time-entries/{made['id']}").json
    assert (back["status"], back["invoice_id"]) == ("approved", None)
