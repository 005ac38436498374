"""CSAT: a resolved ticket gets a single-use, signed, expiring survey link; anyone holding it
may answer once; forged or expired links are 404s, a link of a reopened ticket's earlier
resolution a 409; answers feed the weekly rollup, one score per resolution cycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.sla import service as sla


@pytest.fixture
def resolved(acme):
    api = acme.as_("owner")
    ticket = api.post("/tickets", {"subject": "s", "description": "d", "customer_id": acme.portal_customer_id,
                                   "assignee_id": acme.users["member"], "priority": "low"}).json
    return api.patch(f"/tickets/{ticket['id']}", {"version": ticket["version"], "status": "resolved"}).json


def link(world, ticket):
    response = world.as_("member").get(f"/tickets/{ticket['id']}/csat-link")
    assert response.status == 200, response.body
    return response.json


def test_a_resolved_ticket_has_a_survey_link_that_answers_once(acme, anonymous, resolved):
    survey = link(acme, resolved)
    assert survey["path"] == f"/csat/{survey['token']}" and survey["expires_at"] > resolved["resolved_at"]
    answer = anonymous.post(survey["path"], {"score": 5, "comment": "Quick and kind"})
    assert answer.status == 201, answer.body
    assert answer.json["score"] == 5
    again = anonymous.post(survey["path"], {"score": 1})
    assert again.status == 409
    assert acme.as_("owner").get(f"/tickets/{resolved['id']}").json["csat"]["score"] == 5
    assert acme.as_("member").get(f"/tickets/{resolved['id']}/csat-link").status == 409


def test_no_link_before_resolution_and_not_for_every_role(acme, globex, resolved):
    fresh = acme.as_("owner").post("/tickets", {"subject": "s", "description": "d",
                                                "customer_id": acme.portal_customer_id}).json
    assert acme.as_("owner").get(f"/tickets/{fresh['id']}/csat-link").status == 409
    assert acme.as_("portal").get(f"/tickets/{resolved['id']}/csat-link").status == 403
    assert acme.as_("readonly").get(f"/tickets/{resolved['id']}/csat-link").status == 403
    assert globex.as_("owner").get(f"/tickets/{resolved['id']}/csat-link").status == 404


def test_a_forged_or_tampered_token_is_a_404(acme, anonymous, resolved):
    token = link(acme, resolved)["token"]
    payload, signature = token.split(".")
    assert anonymous.post(f"/csat/{payload}.{signature[:-2]}AA", {"score": 4}).status == 404
    assert anonymous.post("/csat/not-a-token", {"score": 4}).status == 404
    assert anonymous.post(f"/csat/{payload[:-2]}{signature}", {"score": 4}).status == 404


def test_an_expired_token_is_a_404(acme, anonymous, resolved, monkeypatch):
    token = link(acme, resolved)["token"]
    later = sla.now() + timedelta(days=31)
    monkeypatch.setattr(sla, "now", lambda: later)
    assert anonymous.post(f"/csat/{token}", {"score": 4}).status == 404


def test_a_reopened_and_re_resolved_ticket_gets_a_new_link_and_the_old_one_dies(acme, anonymous, resolved):
    old = link(acme, resolved)["token"]
    api = acme.as_("owner")
    reopened = api.patch(f"/tickets/{resolved['id']}", {"version": resolved["version"], "status": "open"}).json
    again = api.patch(f"/tickets/{resolved['id']}", {"version": reopened["version"], "status": "resolved"}).json
    new = link(acme, again)["token"]
    assert new != old
    assert anonymous.post(f"/csat/{old}", {"score": 3}).status == 409
    assert anonymous.post(f"/csat/{new}", {"score": 3}).status == 201


def test_a_reopened_ticket_refuses_its_old_link_and_each_resolution_counts_one_score(fresh_tenant, anonymous,
                                                                                     deliver):
    from chalicelib.core.scope import tenant_scope
    from chalicelib.tickets import service as tickets

    api = fresh_tenant.as_("owner")
    customer = api.post("/customers", {"name": "Hooli", "tier": "smb"}).json["id"]
    ticket = api.post("/tickets", {"subject": "s", "description": "d", "customer_id": customer,
                                   "assignee_id": fresh_tenant.users["owner"]}).json
    resolved = api.patch(f"/tickets/{ticket['id']}", {"version": ticket["version"], "status": "resolved"}).json
    old = api.get(f"/tickets/{ticket['id']}/csat-link").json["path"]
    reopened = api.patch(f"/tickets/{ticket['id']}", {"version": resolved["version"], "status": "open"}).json
    while_open = anonymous.post(old, {"score": 1})
    assert while_open.status == 409, while_open.body
    assert api.get(f"/tickets/{ticket['id']}/csat-link").status == 409  # no survey while open
    again = api.patch(f"/tickets/{ticket['id']}", {"version": reopened["version"], "status": "resolved"}).json
    new = api.get(f"/tickets/{ticket['id']}/csat-link").json["path"]
    assert anonymous.post(old, {"score": 1}).status == 409
    assert anonymous.post(new, {"score": 5}).status == 201
    assert anonymous.post(new, {"score": 2}).status == 409
    assert api.get(f"/tickets/{again['id']}").json["csat"]["score"] == 5
    deliver()
    with tenant_scope(fresh_tenant.tenant_id):
        [row] = tickets.rollup(fresh_tenant.tenant_id, tickets.iso_week(sla.now()))
    assert (row["csat_responses"], row["csat_satisfied"]) == (1, 1)


def test_answers_are_validated(acme, anonymous, resolved):
    path = link(acme, resolved)["path"]
    assert anonymous.post(path, {"score": 0}).status == 422
    assert anonymous.post(path, {"score": 6}).status == 422
    assert anonymous.post(path, {"score": 4, "extra": 1}).status == 422
    assert anonymous.post(path, {"score": 4}).status == 201


def test_answers_feed_the_weekly_csat_counters(fresh_tenant, anonymous, deliver):
    from chalicelib.core.scope import tenant_scope
    from chalicelib.tickets import service as tickets

    api = fresh_tenant.as_("owner")
    customer = api.post("/customers", {"name": "Hooli", "tier": "smb"}).json["id"]
    for score in (5, 4, 2):
        ticket = api.post("/tickets", {"subject": "s", "description": "d", "customer_id": customer,
                                       "assignee_id": fresh_tenant.users["owner"]}).json
        api.patch(f"/tickets/{ticket['id']}", {"version": ticket["version"], "status": "resolved"})
        path = api.get(f"/tickets/{ticket['id']}/csat-link").json["path"]
        assert anonymous.post(path, {"score": score}).status == 201
    deliver()
    with tenant_scope(fresh_tenant.tenant_id):
        [row] = tickets.rollup(fresh_tenant.tenant_id, tickets.iso_week(sla.now()))
    assert (row["tier"], row["csat_responses"], row["csat_satisfied"]) == ("smb", 3, 2)
