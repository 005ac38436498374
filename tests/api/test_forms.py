"""Forms: drafts published as immutable versions; shared on a customer's portal or through a
signed public link (single use, rate-limited, size-limited); submissions checked against the
published version with its logic; actions on submit run once each through the event backbone;
analytics from counters; default forms for a new tenant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.core.consumers import CONSUMERS
from chalicelib.core.consumers import deliver as deliver_once
from chalicelib.forms import submit

FIELDS = [
    {"key": "company", "type": "short_text", "label": "Company", "required": True, "max_length": 100},
    {"key": "plan", "type": "dropdown", "label": "Plan", "options": ["Basic", "Pro"], "required": True},
    {"key": "seats", "type": "number", "label": "Seats", "min_value": 1,
     "require_if": {"field": "plan", "op": "equals", "value": "Pro"}},
    {"key": "reason", "type": "long_text", "label": "Why Basic?",
     "show_if": {"field": "plan", "op": "equals", "value": "Basic"}},
    {"key": "start", "type": "date", "label": "Start date"},
    {"key": "nps", "type": "nps", "label": "Would you recommend us?"},
    {"key": "source", "type": "hidden", "label": "Campaign"},
]


def make_form(api, name="Kick-off", fields=FIELDS, actions=None, publish=True):
    response = api.post("/forms", {"name": name, "fields": fields, "actions": actions or []})
    assert response.status == 201, response.body
    form = response.json
    if publish:
        published = api.post(f"/forms/{form['id']}/publish")
        assert published.status == 201, published.body
    return form


def link_for(api, form_id, **fields):
    response = api.post(f"/forms/{form_id}/links", fields)
    assert response.status == 201, response.body
    return response.json


@pytest.fixture(autouse=True)
def own_address(monkeypatch):
    """Each test calls from its own address: the per-address budget is not shared between tests."""
    from chalicelib.forms import routes

    address = f"198.51.100.{next(ADDRESSES)}"
    monkeypatch.setattr(routes, "client_ip", lambda: address)
    return address


ADDRESSES = iter(range(1, 255))


def in_scope(tenant_id, run):
    from chalicelib.core.scope import tenant_scope

    with tenant_scope(tenant_id):
        return run()


@pytest.fixture(scope="module")
def project(acme):
    api = acme.as_("owner")
    return api.post(f"/customers/{acme.portal_customer_id}/projects", {"name": "Onboarding board"}).json


# ---------- drafts and versions ----------

def test_publishing_freezes_the_draft_and_the_next_publish_is_version_two(acme):
    api = acme.as_("owner")
    form = make_form(api)
    first = api.get(f"/forms/{form['id']}/versions/1")
    assert first.status == 200 and first.json["version"] == 1 and first.json["name"] == "Kick-off"
    current = api.get(f"/forms/{form['id']}").json
    assert current["published_version"] == 1
    edited = api.patch(f"/forms/{form['id']}", {"version": current["version"], "name": "Kick-off v2"})
    assert edited.status == 200, edited.body
    assert api.patch(f"/forms/{form['id']}", {"version": current["version"], "name": "stale"}).status == 409
    assert api.post(f"/forms/{form['id']}/publish").json["version"] == 2
    assert api.get(f"/forms/{form['id']}/versions/1").json["name"] == "Kick-off"  # immutable
    assert api.get(f"/forms/{form['id']}/versions/2").json["name"] == "Kick-off v2"
    assert api.get(f"/forms/{form['id']}/versions/3").status == 404
    listed = api.get("/forms?limit=200").json["items"]
    assert form["id"] in {f["id"] for f in listed}
    archived = api.delete(f"/forms/{form['id']}")
    assert archived.status == 200 and archived.json["status"] == "archived"
    assert form["id"] in {f["id"] for f in api.get("/forms?status=archived&limit=200").json["items"]}


def test_bad_definitions_are_422s_naming_the_field(acme):
    api = acme.as_("owner")
    no_options = api.post("/forms", {"name": "x", "fields": [{"key": "a", "type": "dropdown", "label": "A"}]})
    assert no_options.status == 422 and no_options.json["errors"][0]["field"].startswith("fields")
    backtracking = api.post("/forms", {"name": "x", "fields": [
        {"key": "a", "type": "short_text", "label": "A", "pattern": "(a+)+$"}]})
    assert backtracking.status == 422 and "nested quantifiers" in backtracking.json["detail"]
    later = api.post("/forms", {"name": "x", "fields": [
        {"key": "a", "type": "short_text", "label": "A", "show_if": {"field": "b", "op": "is_answered"}},
        {"key": "b", "type": "short_text", "label": "B"}]})
    assert later.status == 422 and later.json["errors"][0]["field"] == "fields[0].show_if"
    twice = api.post("/forms", {"name": "x", "fields": [{"key": "a", "type": "yes_no", "label": "A"}] * 2})
    assert twice.status == 422 and twice.json["errors"][0]["field"] == "fields[1].key"
    unknown = api.post("/forms", {"name": "x", "fields": FIELDS, "actions": [
        {"type": "notify", "assignee_id": acme.users["member"], "message": "{{answers.nope}}"}]})
    assert unknown.status == 422 and unknown.json["errors"][0]["field"] == "actions[0].message"
    assert api.post("/forms", {"name": "x", "fields": [{"key": "s", "type": "section", "label": "S"}]}).status == 201
    empty = make_form(api, fields=[{"key": "s", "type": "section", "label": "S"}], publish=False)
    assert api.post(f"/forms/{empty['id']}/publish").status == 422


def test_roles_and_tenants(acme, globex):
    form = make_form(acme.as_("owner"))
    assert acme.as_("contractor").get(f"/forms/{form['id']}").status == 403
    assert acme.as_("readonly").post("/forms", {"name": "x"}).status == 403
    assert globex.as_("owner").get(f"/forms/{form['id']}").status == 404
    assert globex.as_("owner").post(f"/forms/{form['id']}/links", {}).status == 404
    assert acme.as_("portal").get(f"/forms/{form['id']}").status == 404  # not assigned to them


# ---------- the portal ----------

def forms_waiting(tenant_id, customer_id):
    from chalicelib.forms import service

    return in_scope(tenant_id, lambda: service.forms_waiting(tenant_id, customer_id))


def test_an_assigned_form_waits_on_the_customer_until_they_submit_it(acme, deliver):
    api = acme.as_("owner")
    form = make_form(api)
    assigned = api.post(f"/forms/{form['id']}/assignments", {"customer_id": acme.portal_customer_id,
                                                              "due_date": "2026-12-20"})
    assert assigned.status == 201, assigned.body
    waiting = forms_waiting(acme.tenant_id, acme.portal_customer_id)
    assert form["id"] in {w["form_id"] for w in waiting}, waiting
    assert {"form_id": form["id"], "due_date": "2026-12-20"}.items() <= next(
        w for w in waiting if w["form_id"] == form["id"]).items()
    portal = acme.as_("portal")
    shown = portal.get(f"/forms/{form['id']}")
    assert shown.status == 200 and shown.json["due_date"] == "2026-12-20" and not shown.json.get("actions")
    refused = portal.post(f"/forms/{form['id']}/submissions", {"answers": {"plan": "Pro"}})
    assert refused.status == 422
    assert {e["field"] for e in refused.json["errors"]} == {"answers.company", "answers.seats"}
    sent = portal.post(f"/forms/{form['id']}/submissions", {"answers": {"company": "Portal Co", "plan": "Pro",
                                                                         "seats": 12, "nps": 9}})
    assert sent.status == 201, sent.body
    assert sent.json["customer_id"] == acme.portal_customer_id and sent.json["form_version"] == 1
    assert form["id"] not in {w["form_id"] for w in forms_waiting(acme.tenant_id, acme.portal_customer_id)}
    events = [d.event for d in deliver()]
    submitted = next(e for e in events if e.type == "Form.Submitted" and e.data["form_id"] == form["id"])
    assert submitted.data["customer_id"] == acme.portal_customer_id and submitted.data["visibility"] == "shared"
    assert {"key": "company", "label": "Company", "answer": "Portal Co"} in submitted.data["summary"]
    survey = next(e for e in events if e.type == "Survey.Responded" and e.data["form_id"] == form["id"])
    assert survey.data["kind"] == "nps" and survey.data["score"] == 9
    assert acme.as_("member").post(f"/forms/{form['id']}/submissions", {"answers": {}}).status == 403
    assert api.post(f"/forms/{form['id']}/submissions", {"answers": {}}).status == 404  # no customer of theirs


# ---------- signed links ----------

def test_a_single_use_link_takes_one_submission_and_its_hidden_field_comes_from_the_link(acme, anonymous):
    api = acme.as_("owner")
    form = make_form(api)
    link = link_for(api, form["id"], single_use=True, customer_id=acme.portal_customer_id,
                    prefill={"source": "spring-campaign"})
    opened = anonymous.get(link["path"])
    assert opened.status == 200 and opened.json["prefill"] == {"source": "spring-campaign"}
    assert not opened.json.get("actions")
    answers = {"company": "Initrode", "plan": "Basic", "reason": "small team", "seats": 99, "source": "forged"}
    sent = anonymous.post(f"{link['path']}/submissions", {"answers": answers})
    assert sent.status == 201, sent.body
    stored = sent.json["answers"]
    assert stored["source"] == "spring-campaign"  # the link's value, not the client's
    assert "seats" not in stored or stored["seats"] == 99  # seats is visible either way (only required for Pro)
    assert anonymous.post(f"{link['path']}/submissions", {"answers": answers}).status == 409
    assert anonymous.get(link["path"]).status == 409


def test_hidden_answers_are_dropped(acme, anonymous):
    api = acme.as_("owner")
    form = make_form(api)
    link = link_for(api, form["id"])
    sent = anonymous.post(f"{link['path']}/submissions", {"answers": {"company": "A", "plan": "Pro", "seats": 3,
                                                                       "reason": "should be dropped"}})
    assert sent.status == 201, sent.body
    assert "reason" not in sent.json["answers"]


def test_forged_expired_and_unknown_links_are_404s(acme, anonymous, monkeypatch):
    api = acme.as_("owner")
    form = make_form(api)
    link = link_for(api, form["id"], expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    payload, signature = link["token"].split(".")
    assert anonymous.get(f"/public/forms/{payload}.{signature[:-2]}AA").status == 404
    assert anonymous.get("/public/forms/not-a-token").status == 404
    later = datetime.now(UTC).timestamp() + 7200
    monkeypatch.setattr(submit.time, "time", lambda: later)
    assert anonymous.get(link["path"]).status == 404


def test_links_are_rate_limited_per_link_and_body_size_limited(acme, anonymous, monkeypatch):
    api = acme.as_("owner")
    form = make_form(api)
    link = link_for(api, form["id"])
    monkeypatch.setattr(submit, "LINK_REQUESTS_PER_MINUTE", 3)
    statuses = [anonymous.get(link["path"]).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other = link_for(api, form["id"])
    assert anonymous.get(other["path"]).status == 200  # another link has its own budget
    huge = anonymous.post(f"{other['path']}/submissions", {"answers": {"company": "x" * (70 * 1024)}})
    assert huge.status == 413


def test_links_are_rate_limited_per_address(acme, anonymous, monkeypatch):
    api = acme.as_("owner")
    form = make_form(api)
    monkeypatch.setattr(submit, "IP_REQUESTS_PER_MINUTE", 2)
    first, second = link_for(api, form["id"]), link_for(api, form["id"])
    assert anonymous.get(first["path"]).status == 200
    assert anonymous.get(second["path"]).status == 200
    assert anonymous.get(second["path"]).status == 429


# ---------- actions on submit ----------

def test_a_submission_creates_its_task_once_whatever_the_replays(acme, anonymous, project, deliver):
    api = acme.as_("owner")
    actions = [{"type": "create_task", "project_id": project["id"], "title": "Onboard {{answers.company}}",
                "description": "Plan: {{answers.plan}}", "due_in_days": 3},
               {"type": "notify", "assignee_id": acme.users["member"], "message": "{{answers.company}} signed up"}]
    form = make_form(api, actions=actions)
    link = link_for(api, form["id"], customer_id=acme.portal_customer_id)
    sent = anonymous.post(f"{link['path']}/submissions", {"answers": {"company": "{{answers.plan}} Ltd",
                                                                       "plan": "Basic"}})
    assert sent.status == 201, sent.body
    delivered = deliver()
    submitted = next(d for d in delivered if d.event.type == "Form.Submitted")
    assert submitted.outcomes["work_tasks_from_form"] == "applied"
    notice = next(d.event for d in delivered if d.event.type == "FormNotification.Requested")
    assert notice.data["assignee_id"] == acme.users["member"]
    assert notice.data["message"] == "{{answers.plan}} Ltd signed up"

    def titled() -> list[dict]:
        board = api.get(f"/projects/{project['id']}/board?include=description").json
        tasks = [t for column in board["columns"] for t in column["tasks"]]
        return [t for t in tasks if t["title"] == "Onboard {{answers.plan}} Ltd"]  # a value is never re-rendered

    assert len(titled()) == 1 and titled()[0]["description"] == "Plan: Basic"
    consumer = CONSUMERS["work_tasks_from_form"]
    assert deliver_once(consumer, submitted.event) == "duplicate"
    # a re-run after a crash before the marker: nothing new
    assert in_scope(acme.tenant_id, lambda: consumer.handler(submitted.event)) == 0
    assert len(titled()) == 1


def test_a_submission_fills_mapped_customer_fields_and_reports_refused_ones(acme, anonymous, deliver):
    api = acme.as_("owner")
    customer = api.post("/customers", {"name": "Mapped Co"}).json
    fields = [{"key": "stage", "type": "short_text", "label": "Stage"},
              {"key": "start", "type": "date", "label": "Start"},
              {"key": "seats", "type": "number", "label": "Seats"}]
    actions = [{"type": "update_customer", "mappings": [
        {"field": "stage", "target": "lifecycle_stage"}, {"field": "start", "target": "contract_start"},
        {"field": "seats", "target": "custom_fields.seats"}]}]
    refused_at_save = api.post("/forms", {"name": "x", "fields": fields, "actions": [
        {"type": "update_customer", "mappings": [{"field": "seats", "target": "contract_start"}]}]})
    assert refused_at_save.status == 422 and refused_at_save.json["errors"][0]["field"] == "actions[0].mappings[0]"
    form = make_form(api, fields=fields, actions=actions)
    link = link_for(api, form["id"], customer_id=customer["id"])
    sent = anonymous.post(f"{link['path']}/submissions", {"answers": {"stage": "galactic", "start": "2026-12-01",
                                                                       "seats": 40}})
    assert sent.status == 201, sent.body
    assert sent.json["refused_mappings"][0]["field"] == "stage"
    deliver()
    after = api.get(f"/customers/{customer['id']}").json
    assert after["contract_start"] == "2026-12-01" and after["lifecycle_stage"] is None
    assert after["custom_fields"]["seats"] == {"type": "number", "value": 40}


def test_a_submission_builds_the_onboarding_board_from_a_template(acme, anonymous, deliver):
    api = acme.as_("owner")
    template = api.post("/templates", {"name": "Form onboarding", "category": "onboarding",
                                       "tasks": [{"key": "a", "title": "Kick-off call", "day": 1}]}).json
    customer = api.post("/customers", {"name": "Templated Co"}).json
    fields = [{"key": "go_live", "type": "date", "label": "Start", "required": True}]
    form = make_form(api, fields=fields, actions=[{"type": "apply_template", "template_id": template["id"],
                                                   "anchor_field": "go_live"}])
    link = link_for(api, form["id"], customer_id=customer["id"])
    assert anonymous.post(f"{link['path']}/submissions", {"answers": {"go_live": "2026-06-01"}}).status == 201
    delivered = deliver()
    submitted = next(d for d in delivered if d.event.type == "Form.Submitted")
    assert submitted.outcomes["templates_apply_from_form"] == "applied"
    projects = api.get(f"/customers/{customer['id']}/projects").json["items"]
    assert len(projects) == 1
    # a re-run: the apply's claim answers
    in_scope(acme.tenant_id, lambda: CONSUMERS["templates_apply_from_form"].handler(submitted.event))
    assert len(api.get(f"/customers/{customer['id']}/projects").json["items"]) == 1


# ---------- submissions and analytics ----------

def test_submissions_list_and_csv_export(acme, anonymous):
    api = acme.as_("owner")
    form = make_form(api)
    link = link_for(api, form["id"])
    for company in ("=HYPERLINK(\"x\")", "Plain"):
        assert anonymous.post(f"{link['path']}/submissions", {"answers": {"company": company, "plan": "Basic"}}
                              ).status == 201
    page = api.get(f"/forms/{form['id']}/submissions?limit=1")
    assert page.status == 200 and len(page.json["items"]) == 1 and page.json["next_cursor"]
    rest = api.get(f"/forms/{form['id']}/submissions?limit=1&cursor={page.json['next_cursor']}").json
    assert rest["items"][0]["id"] != page.json["items"][0]["id"]
    exported = api.get(f"/forms/{form['id']}/submissions?format=csv")
    assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
    text = exported.body if isinstance(exported.body, str) else exported.body.decode()
    assert text.startswith("\ufeffsubmission_id,") and "\r\n" in text
    assert "'=HYPERLINK" in text
    assert api.get(f"/forms/{form['id']}/submissions?cursor=forged").status == 400
    assert acme.as_("portal").get(f"/forms/{form['id']}/submissions").status == 403


def test_analytics_count_opens_submissions_blanks_and_values_per_version(acme, anonymous, deliver):
    api = acme.as_("owner")
    form = make_form(api)
    link = link_for(api, form["id"])
    for _ in range(4):
        assert anonymous.get(link["path"]).status == 200
    for plan in ("Basic", "Basic", "Pro"):
        answers = {"company": "C", "plan": plan, **({"seats": 5} if plan == "Pro" else {})}
        assert anonymous.post(f"{link['path']}/submissions", {"answers": answers}).status == 201
    api.patch(f"/forms/{form['id']}", {"version": api.get(f"/forms/{form['id']}").json["version"], "name": "v2"})
    api.post(f"/forms/{form['id']}/publish")
    anonymous.get(link["path"])
    delivered = deliver()
    replayed = next(d for d in delivered if d.event.type == "Form.Submitted")
    # counted once whatever the re-runs
    in_scope(acme.tenant_id, lambda: CONSUMERS["forms_count_answers"].handler(replayed.event))
    stats = api.get(f"/forms/{form['id']}/analytics?version=1")
    assert stats.status == 200, stats.body
    report = stats.json
    assert report["opened"] == 4 and report["submitted"] == 3 and report["completion_rate"] == 0.75
    assert report["channels"]["link"]["submitted"] == 3 and report["channels"]["portal"]["submitted"] == 0
    by_key = {f["key"]: f for f in report["fields"]}
    assert by_key["plan"]["distribution"] == {"Basic": 2, "Pro": 1}
    assert by_key["seats"]["answered"] == 1 and by_key["seats"]["blank"] == 2
    assert by_key["seats"]["blank_rate"] == round(2 / 3, 4)
    assert by_key["company"]["distribution"] is None
    assert [v["opened"] for v in report["versions"]] == [4, 1]
    assert api.get(f"/forms/{form['id']}/analytics?version=9").status == 422


# ---------- defaults ----------

def test_a_new_tenant_gets_the_default_forms_once(fresh_tenant):
    from chalicelib.core.events import Event
    from chalicelib.team.events import TenantCreated

    event = TenantCreated(owner_id=fresh_tenant.users["owner"]).event(fresh_tenant.tenant_id)
    assert deliver_once(CONSUMERS["forms_seed_defaults"], event) == "applied"
    again = Event.model_validate(json.loads(event.model_dump_json()))
    assert in_scope(fresh_tenant.tenant_id, lambda: CONSUMERS["forms_seed_defaults"].handler(again)) is False
    names = {f["name"] for f in fresh_tenant.as_("owner").get("/forms?limit=200").json["items"]}
    assert {"Customer intake", "Requirements gathering", "Feedback", "Issue report", "Change request"} <= names
    feedback = next(f for f in fresh_tenant.as_("owner").get("/forms?limit=200").json["items"]
                    if f["name"] == "Feedback")
    assert feedback["published_version"] == 1
    assert {f["type"] for f in feedback["fields"]} >= {"csat", "nps", "ces"}


def test_a_signature_records_the_typed_name_consent_time_and_address(acme, anonymous, own_address):
    api = acme.as_("owner")
    form = make_form(api, fields=[{"key": "approval", "type": "signature", "label": "Sign", "required": True}])
    link = link_for(api, form["id"])
    unsigned = anonymous.post(f"{link['path']}/submissions", {"answers": {"approval": {"full_name": "Ada Lovelace",
                                                                                       "consent": False}}})
    assert unsigned.status == 422 and unsigned.json["errors"][0]["field"] == "answers.approval"
    sent = anonymous.post(f"{link['path']}/submissions", {"answers": {"approval": {"full_name": "Ada Lovelace",
                                                                                   "consent": True}}})
    assert sent.status == 201, sent.body
    signed = sent.json["answers"]["approval"]
    assert signed["full_name"] == "Ada Lovelace" and signed["consent"] is True and signed["ip"] == own_address
    assert signed["signed_at"].endswith("Z")
