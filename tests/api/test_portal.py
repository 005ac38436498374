"""The customer portal: its pages and actions for portal users only, what never reaches them,
milestone decisions recorded on the task, tickets through the tickets room, magic-link sign-in,
branding, access grants and adoption."""

from __future__ import annotations

import json
import re

import pytest
from chalicelib.core.http import ROUTES
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from bluehill_dev.harness_env import Api

MARKER = "ZZ-INTERNAL-MARKER-7731"
INTERNAL_ROLES = ("owner", "admin", "member", "contractor", "readonly")


def ok(response, status=200):
    assert response.status == status, response.body
    return response.json


@pytest.fixture(scope="module")
def shared(acme):
    """A shared project of the portal user's company: a visible task waiting on the customer,
    a milestone needing approval, a plain milestone, an internal task; an internal note."""
    owner, customer_id = acme.as_("owner"), acme.portal_customer_id
    project = ok(owner.post(f"/customers/{customer_id}/projects", {"name": "Onboarding", "portal_visible": True}),
                 201)
    hidden_project = ok(owner.post(f"/customers/{customer_id}/projects", {"name": f"Secret {MARKER}"}), 201)

    def task(project_id, **fields):
        return ok(owner.post(f"/projects/{project_id}/tasks", fields), 201)

    waiting = task(project["id"], title="Send us your logo", status="waiting_on_customer", portal_visible=True,
                   description=f"internal description {MARKER}", portal_blocker="We need your logo in SVG",
                   tags=[MARKER[:40]])
    vendor = task(project["id"], title="Data import", status="blocked", portal_visible=True,
                  portal_status="in_progress", due_date="2026-12-20", portal_due_date="2026-12-24")
    approval = task(project["id"], title="Design sign-off", is_milestone=True, needs_approval=True,
                    portal_visible=True, due_date="2026-12-15")
    plain = task(project["id"], title="Go live", is_milestone=True, portal_visible=True)
    internal = task(project["id"], title=f"Chase vendor {MARKER}")
    task(hidden_project["id"], title=f"Hidden {MARKER}", portal_visible=True)
    ticket = ok(owner.post("/tickets", {"subject": "Need your input", "description": "Which SSO?",
                                        "customer_id": customer_id}), 201)
    ok(owner.post(f"/tickets/{ticket['id']}/messages", {"visibility": "internal", "body": f"note {MARKER}"}), 201)
    for change in ({"status": "open", "assignee_id": acme.users["member"]}, {"status": "waiting_on_customer"}):
        ticket = ok(owner.get(f"/tickets/{ticket['id']}"))
        ok(owner.patch(f"/tickets/{ticket['id']}", {"version": ticket["version"], **change}))
    return {"project": project, "hidden_project": hidden_project, "waiting": waiting, "vendor": vendor,
            "approval": approval, "plain": plain, "internal": internal, "ticket": ticket}


def portal_paths(shared):
    """Every /portal route, with the shared records' ids."""
    ids = {"project_id": shared["project"]["id"], "task_id": shared["approval"]["id"],
           "ticket_id": shared["ticket"]["id"], "invoice_id": "01jz0000000000000000000000"}
    bodies = {("/portal/tickets", "POST"): {"subject": "x", "description": "y"},
              ("/portal/tickets/{ticket_id}/messages", "POST"): {"body": "hi"},
              ("/portal/milestones/{task_id}/request-changes", "POST"): {"comment": "no"},
              ("/portal/milestones/{task_id}/approve", "POST"): {},
              ("/portal/team", "POST"): {"email": "x@initech.example", "name": "X"},
              ("/portal/files", "POST"): {"filename": "a.pdf", "content_type": "application/pdf", "size": 10}}
    found = []
    for (path, method), spec in ROUTES.items():
        if path.startswith("/portal/") and not spec.public:
            found.append((method, path.format(**ids), bodies.get((path, method))))
    assert len(found) >= 10
    return sorted(found)


# ---------- the matrix ----------


def test_every_portal_route_refuses_every_internal_role(acme, shared):
    for role in INTERNAL_ROLES:
        for method, path, body in portal_paths(shared):
            response = acme.as_(role).request(method, path, body)
            assert response.status == 403, (role, method, path, response.body)


@pytest.fixture(scope="module")
def other_company(acme, aws):
    """A portal user of another customer of the same tenant."""
    import boto3
    from chalicelib.core.scope import tenant_scope
    from chalicelib.customers import service as customers
    from chalicelib.team import service as team

    from bluehill_dev import resources

    email, password = f"other-{acme.tenant_id}@other.example", "Portal-Passw0rd!"
    with tenant_scope(acme.tenant_id):
        other = customers.create_customer(acme.principal("owner"), {"name": "Other Co"})
        team.invite_user(acme.principal("owner"), {"email": email, "name": "Olga", "role": "portal",
                                                   "customer_id": other.id}, password=password)
    return Api(acme.client, resources.id_token(boto3.client("cognito-idp"), aws, email, password))


def test_a_portal_user_of_another_tenant_or_company_never_reaches_these_records(acme, globex, shared,
                                                                                other_company):
    for api in (other_company, globex.as_("portal")):
        for method, path, body in portal_paths(shared):
            if method == "POST" and path in ("/portal/tickets", "/portal/team", "/portal/files"):
                continue  # their own company's: no record of acme's company is named
            response = api.request(method, path, body)
            names_acme_record = path.startswith(("/portal/projects/", "/portal/milestones/", "/portal/tickets/",
                                                 "/portal/invoices/"))
            expected = 404 if names_acme_record else 200  # the rest answer about their own company
            assert response.status == expected, (method, path, response.body)
        text = json.dumps(ok(api.get("/portal/home"))) + json.dumps(ok(api.get("/portal/waiting-on-you")))
        assert shared["project"]["id"] not in text and shared["ticket"]["id"] not in text


# ---------- what the customer sees ----------


def share_tickets(world, sharing):
    owner, customer_id = world.as_("owner"), world.portal_customer_id
    ok(owner.patch(f"/customers/{customer_id}", {"version": ok(owner.get(f"/customers/{customer_id}"))["version"],
                                                 "portal_ticket_sharing": sharing}))


def test_home_shows_shared_projects_with_progress_and_next_milestone_and_never_internal_data(acme, shared):
    share_tickets(acme, "own")
    home = ok(acme.as_("portal").get("/portal/home"))
    assert MARKER not in json.dumps(home)
    assert home["company"]["id"] == acme.portal_customer_id
    project = next(p for p in home["projects"] if p["id"] == shared["project"]["id"])
    assert project["next_milestone"]["title"] == "Design sign-off" and project["tasks_in_progress"] >= 2
    assert shared["hidden_project"]["id"] not in json.dumps(home)
    assert home["waiting_on_you_count"] >= 2  # the task and the milestone; the ticket is not theirs (own sharing)
    assert any(t["id"] == shared["ticket"]["id"] for t in home["open_tickets"]) is False  # own sharing, no requester
    assert home["forms_waiting"] == [] and home["invoices"] == [] and home["recent_documents"] == []


def test_a_shared_project_shows_only_shared_tasks_with_their_portal_values(acme, shared):
    page = ok(acme.as_("portal").get(f"/portal/projects/{shared['project']['id']}"))
    text = json.dumps(page)
    assert MARKER not in text and "assignee" not in text and "description" not in text
    tasks = {t["id"]: t for t in page["phases"]}
    assert shared["internal"]["id"] not in tasks
    vendor = tasks[shared["vendor"]["id"]]
    assert vendor["status"] == "in_progress" and vendor["due_date"] == "2026-12-24"
    assert tasks[shared["waiting"]["id"]]["blocker"] == "We need your logo in SVG"
    assert ok(acme.as_("portal").get(f"/portal/projects/{shared['hidden_project']['id']}"), 404)


def test_waiting_on_you_lists_the_column_the_milestone_and_the_paused_ticket_oldest_first(acme, shared):
    share_tickets(acme, "company")
    items = ok(acme.as_("portal").get("/portal/waiting-on-you"))["items"]
    kinds = {(item["kind"], item["id"]) for item in items}
    assert ("task", shared["waiting"]["id"]) in kinds
    assert ("milestone_approval", shared["approval"]["id"]) in kinds
    ticket = next(item for item in items if item["id"] == shared["ticket"]["id"])
    assert ticket["sla_clock"]["paused"] is True and ticket["sla_clock"]["paused_since"].endswith("Z")
    assert [item["since"] for item in items] == sorted(item["since"] for item in items)
    assert MARKER not in json.dumps(items)


# ---------- milestones ----------


def test_approving_a_milestone_is_recorded_on_the_task_for_the_team(acme, shared, deliver):
    portal, task_id = acme.as_("portal"), shared["approval"]["id"]
    decision = ok(portal.post(f"/portal/milestones/{task_id}/approve", {"comment": "Lovely"}))
    assert decision["state"] == "approved"
    assert portal.post(f"/portal/milestones/{task_id}/approve", {}).status == 409
    delivered = deliver()
    assert any(d.event.type == "Milestone.Approved" for d in delivered)
    task = ok(acme.as_("owner").get(f"/tasks/{task_id}"))
    assert task["approval"]["state"] == "approved" and task["approval"]["comment"] == "Lovely"
    activity = ok(acme.as_("owner").get(f"/tasks/{task_id}/activity"))["items"]
    assert activity[0]["kinds"] == ["approved"]
    waiting = ok(portal.get("/portal/waiting-on-you"))["items"]
    assert not any(item["id"] == task_id for item in waiting)


def test_request_changes_needs_a_comment_and_a_milestone_marked_for_approval(acme, shared, deliver):
    portal = acme.as_("portal")
    refused = portal.post(f"/portal/milestones/{shared['plain']['id']}/request-changes", {})
    assert refused.status == 422 and refused.json["errors"][0]["field"] == "comment"
    assert portal.post(f"/portal/milestones/{shared['plain']['id']}/request-changes",
                       {"comment": "No"}).status == 409
    assert portal.post(f"/portal/milestones/{shared['internal']['id']}/approve", {}).status == 404


def test_needs_approval_is_only_for_milestones(acme, shared):
    response = acme.as_("owner").post(f"/projects/{shared['project']['id']}/tasks",
                                      {"title": "Not a milestone", "needs_approval": True})
    assert response.status == 422 and response.json["errors"][0]["field"] == "needs_approval"


# ---------- tickets ----------


def test_portal_tickets_are_the_tickets_rooms_with_public_messages_only(acme, shared):
    portal, owner = acme.as_("portal"), acme.as_("owner")
    ticket = ok(portal.post("/portal/tickets", {"subject": "Broken export", "description": "It fails"}), 201)
    assert ticket["source"] == "portal" and "assignee_id" not in ticket
    ok(owner.post(f"/tickets/{ticket['id']}/messages", {"visibility": "internal", "body": f"psst {MARKER}"}), 201)
    ok(owner.post(f"/tickets/{ticket['id']}/messages", {"visibility": "public", "body": "On it"}), 201)
    reply = ok(portal.post(f"/portal/tickets/{ticket['id']}/messages", {"body": "Thanks"}), 201)
    assert reply["author_type"] == "customer"
    detail = ok(portal.get(f"/portal/tickets/{ticket['id']}"))
    assert [m["body"] for m in detail["messages"]] == ["On it", "Thanks"]
    assert MARKER not in json.dumps(detail) and "sla" not in detail
    listed = ok(portal.get("/portal/tickets?scope=company"))["items"]
    assert ticket["id"] in {t["id"] for t in listed} and MARKER not in json.dumps(listed)
    assert portal.get("/portal/tickets?scope=everyone").status == 422


def test_company_scope_needs_sharing_or_a_portal_admin(fresh_tenant):
    share_tickets(fresh_tenant, "own")
    portal = fresh_tenant.as_("portal")
    assert portal.get("/portal/tickets?scope=company").status == 403
    assert ok(portal.get("/portal/tickets?scope=mine"))["items"] == []


# ---------- documents ----------


def _linked_document(owner, customer_id, title, **more):
    return ok(owner.post("/files", {"filename": title, "source": "link", "customer_id": customer_id,
                                    "url": "https://docs.google.com/document/d/1abc/edit", **more}), 201)


def test_portal_documents_are_the_companys_shared_files_only(acme, globex, other_company):
    owner, portal = acme.as_("owner"), acme.as_("portal")
    older = _linked_document(owner, acme.portal_customer_id, "Kickoff deck", portal_visible=True)
    shared = _linked_document(owner, acme.portal_customer_id, "Onboarding plan", portal_visible=True)
    internal = _linked_document(owner, acme.portal_customer_id, f"Pricing {MARKER}")
    elsewhere = ok(owner.post("/customers", {"name": "Elsewhere Co"}), 201)
    theirs = _linked_document(owner, elsewhere["id"], "Elsewhere plan", portal_visible=True)
    listed = ok(portal.get("/portal/files"))["items"]
    ids = [item["id"] for item in listed]
    assert shared["id"] in ids and internal["id"] not in ids and theirs["id"] not in ids
    assert MARKER not in json.dumps(listed) and all(item.get("uploaded_by") is None for item in listed)
    home = ok(portal.get("/portal/home"))["recent_documents"]
    assert home[0]["id"] == shared["id"] and internal["id"] not in {d["id"] for d in home}
    for api in (other_company, globex.as_("portal")):
        text = json.dumps(ok(api.get("/portal/files"))) + json.dumps(ok(api.get("/portal/home")))
        assert shared["id"] not in text
    page = ok(portal.get("/portal/files?limit=1"))
    assert [item["id"] for item in page["items"]] == [shared["id"]] and page["next_cursor"]
    after = ok(portal.get(f"/portal/files?limit=1&cursor={page['next_cursor']}"))
    assert [item["id"] for item in after["items"]] == [older["id"]]


def test_a_portal_upload_is_a_limited_presigned_post_for_a_shared_file_of_the_company(acme):
    import base64

    owner, portal = acme.as_("owner"), acme.as_("portal")
    ticket = ok(portal.post("/portal/tickets", {"subject": "Logo", "description": "Attached"}), 201)
    created = ok(portal.post("/portal/files", {"filename": "../Logo.png", "content_type": "image/png",
                                               "size": 2048, "ticket_id": ticket["id"], "description": "Logo"}), 201)
    assert (created["customer_id"], created["status"], created["portal_visible"], created["filename"],
            created["ticket_id"]) == (acme.portal_customer_id, "pending", True, "Logo.png", ticket["id"])
    upload = created["upload"]
    assert upload["fields"]["key"].startswith(f"tenants/{acme.tenant_id}/files/{created['id']}/")
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 2048, 2048] in policy["conditions"] and upload["max_bytes"] == 2048
    assert created["id"] not in {f["id"] for f in ok(portal.get("/portal/files"))["items"]}  # pending
    assert ok(owner.get(f"/files/{created['id']}"))["uploaded_by"] == acme.users["portal"]
    elsewhere = ok(owner.post("/customers", {"name": "Upload Elsewhere Co"}), 201)
    foreign = ok(owner.post("/tickets", {"subject": "x", "description": "y", "customer_id": elsewhere["id"]}), 201)
    body = {"filename": "a.pdf", "content_type": "application/pdf", "size": 10}
    for change, field in (({"size": 25 * 1024 * 1024 + 1}, "size"), ({"content_type": "application/x-msdownload"},
                          "content_type"), ({"ticket_id": foreign["id"]}, "ticket_id"),
                          ({"customer_id": elsewhere["id"]}, "customer_id"), ({"project_id": "p1"}, "project_id")):
        refused = portal.post("/portal/files", {**body, **change})
        assert refused.status == 422 and refused.json["errors"][0]["field"] == field, (change, refused.body)


# ---------- sign-in, branding, access, adoption ----------


def _sent_links():
    messages = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    # The mail room's raw messages (SendRawEmail) share the backend; sign-in links are plain SendEmail.
    return [re.search(r"link=([^\s]+)", m.body).group(1) for m in messages
            if "link=" in getattr(m, "body", "")]


@pytest.fixture
def portal_tenant(fresh_tenant):
    owner, customer_id = fresh_tenant.as_("owner"), fresh_tenant.portal_customer_id
    share_tickets(fresh_tenant, "own")  # the default for a customer
    sub = f"p{fresh_tenant.tenant_id}".lower()[:40]
    ok(owner.put("/tenant/branding", {"portal_name": "Acme Portal", "primary_color": "#0a7cff",
                                      "portal_subdomain": sub, "support_email": "help@acme.example"}))
    contact = ok(owner.post(f"/customers/{customer_id}/contacts",
                            {"name": "Pat Lee", "email": f"pat-{sub}@initech.example"}), 201)
    access = ok(owner.post(f"/customers/{customer_id}/contacts/{contact['id']}/portal-access", {}), 201)
    return {"world": fresh_tenant, "host": f"{sub}.bluehill.app", "contact": contact, "access": access}


def _sign_in(anonymous, portal_tenant):
    before = len(_sent_links())
    answer = anonymous.post("/portal/login/link", {"email": portal_tenant["contact"]["email"],
                                                   "host": portal_tenant["host"]})
    assert answer.status == 202
    links = _sent_links()
    assert len(links) == before + 1
    return links[-1]


def test_a_magic_link_signs_in_once_and_the_session_passes_the_authorizer(anonymous, portal_tenant, http):
    link = _sign_in(anonymous, portal_tenant)
    session = ok(anonymous.post("/portal/login/exchange", {"link": link}))
    api = Api(http, session["token"])
    home = ok(api.get("/portal/home"))
    assert home["company"]["id"] == portal_tenant["world"].portal_customer_id
    again = anonymous.post("/portal/login/exchange", {"link": link})
    forged = anonymous.post("/portal/login/exchange", {"link": link[:-4] + "abcd"})
    assert again.status == forged.status == 404 and again.json["detail"] == forged.json["detail"]
    assert api.get("/users").status == 403  # a portal session is a portal user's, nothing more


def test_an_expired_link_is_refused_like_a_forged_one(anonymous, portal_tenant, monkeypatch):
    import time as real_time

    from chalicelib.portal import signin

    link = _sign_in(anonymous, portal_tenant)

    class Later:
        @staticmethod
        def time() -> float:
            return real_time.time() + 16 * 60

    monkeypatch.setattr(signin, "time", Later)
    refused = anonymous.post("/portal/login/exchange", {"link": link})
    assert refused.status == 404 and refused.json["detail"] == signin.REFUSED


def test_an_unknown_email_or_host_still_answers_202_and_sends_nothing(anonymous, portal_tenant):
    before = len(_sent_links())
    for body in ({"email": "nobody@initech.example", "host": portal_tenant["host"]},
                 {"email": portal_tenant["contact"]["email"], "host": "nowhere.bluehill.app"}):
        assert anonymous.post("/portal/login/link", body).status == 202
    assert len(_sent_links()) == before


def test_the_first_login_of_a_customer_is_published_once_and_logins_are_counted(anonymous, portal_tenant,
                                                                                deliver):
    for _ in range(2):
        ok(anonymous.post("/portal/login/exchange", {"link": _sign_in(anonymous, portal_tenant)}))
    events = [d.event for d in deliver()]
    assert [e.type for e in events].count("Customer.PortalFirstLogin") == 1
    assert [e.type for e in events].count("Portal.Login") == 2
    world = portal_tenant["world"]
    month = events[0].occurred_at[:7]
    report = ok(world.as_("owner").get(f"/reports/portal-adoption?month={month}"))
    assert report["customers_logged_in"] == 1 and report["logins"] == 2 and report["percent_logged_in"] > 0
    assert world.portal_customer_id not in {c["id"] for c in report["never_logged_in"]}
    assert world.as_("portal").get("/reports/portal-adoption").status == 403


def test_revoking_access_refuses_the_next_request(anonymous, portal_tenant, http):
    session = ok(anonymous.post("/portal/login/exchange", {"link": _sign_in(anonymous, portal_tenant)}))
    api = Api(http, session["token"])
    ok(api.get("/portal/home"))
    world, contact = portal_tenant["world"], portal_tenant["contact"]
    path = f"/customers/{world.portal_customer_id}/contacts/{contact['id']}/portal-access"
    assert world.as_("owner").delete(path).status == 204
    assert api.get("/portal/home").status == 401
    asked = anonymous.post("/portal/login/link", {"email": contact["email"], "host": portal_tenant["host"]})
    assert asked.status == 202


def test_branding_is_public_by_host_and_a_subdomain_is_unique_across_tenants(anonymous, portal_tenant, globex):
    brand = ok(anonymous.get(f"/portal/branding?host=portal.{portal_tenant['host']}"))
    assert brand == {"portal_name": "Acme Portal", "logo_file_id": None, "primary_color": "#0a7cff",
                     "support_email": "help@acme.example"}
    taken = globex.as_("owner").put("/tenant/branding", {"portal_subdomain": portal_tenant["host"].split(".")[0]})
    assert taken.status == 409
    assert globex.as_("owner").put("/tenant/branding", {"primary_color": "blue"}).status == 422
    assert globex.as_("owner").put("/tenant/branding", {"portal_subdomain": "Not_DNS"}).status == 422
    assert globex.as_("member").put("/tenant/branding", {"portal_name": "X"}).status == 403
    assert anonymous.get("/portal/branding?host=nobody-here.bluehill.app").status == 404


def test_a_portal_admin_invites_a_colleague_and_sees_the_company_tickets(portal_tenant, anonymous, http):
    world = portal_tenant["world"]
    portal = world.as_("portal")  # no portal_admin, self-invite off
    assert portal.post("/portal/team", {"email": "sam@initech.example", "name": "Sam"}).status == 403
    owner, customer_id = world.as_("owner"), world.portal_customer_id
    contact = ok(owner.post(f"/customers/{customer_id}/contacts", {"name": "Ada Admin",
                                                                   "email": f"ada-{world.tenant_id}@initech.example"}),
                 201)
    ok(owner.post(f"/customers/{customer_id}/contacts/{contact['id']}/portal-access", {"portal_admin": True}), 201)
    link_tenant = {**portal_tenant, "contact": contact}
    admin = Api(http, ok(anonymous.post("/portal/login/exchange", {"link": _sign_in(anonymous, link_tenant)}))["token"])
    ok(admin.get("/portal/tickets?scope=company"))
    member = ok(admin.post("/portal/team", {"email": f"sam-{world.tenant_id}@initech.example", "name": "Sam"}), 201)
    team = ok(admin.get("/portal/team"))["items"]
    assert {member["user_id"], portal_tenant["access"]["user_id"]} <= {m["user_id"] for m in team}


def test_the_tickets_routes_follow_the_customers_ticket_sharing_as_the_portal_does(portal_tenant, anonymous, http):
    world = portal_tenant["world"]
    owner, customer_id = world.as_("owner"), world.portal_customer_id
    pat = Api(http, ok(anonymous.post("/portal/login/exchange", {"link": _sign_in(anonymous, portal_tenant)}))["token"])
    mine = ok(owner.post("/tickets", {"subject": "Pat's", "description": "x", "customer_id": customer_id,
                                      "requester_contact_id": portal_tenant["contact"]["id"]}), 201)
    colleague = ok(owner.post("/tickets", {"subject": "A colleague's", "description": "y",
                                           "customer_id": customer_id}), 201)
    opened = ok(pat.post("/tickets", {"subject": "Opened by Pat", "description": "z"}), 201)

    def reached():
        listed = {t["id"] for t in ok(pat.get("/tickets"))["items"]}
        by_customer = {t["id"] for t in ok(pat.get(f"/customers/{customer_id}/tickets"))["items"]}
        portal = {t["id"] for t in ok(pat.get("/portal/tickets"))["items"]}
        read = {t["id"] for t in (mine, colleague, opened) if pat.get(f"/tickets/{t['id']}").status == 200}
        assert listed == by_customer == portal == read, (listed, by_customer, portal, read)
        return listed

    assert reached() == {mine["id"], opened["id"]}  # own (the default): the tickets they are the requester of
    assert pat.get(f"/tickets/{colleague['id']}/messages").status == 404
    assert pat.post(f"/tickets/{colleague['id']}/messages", {"body": "peek"}).status == 404
    assert {t["id"] for t in ok(pat.get("/tickets?status=new"))["items"]} <= {mine["id"], opened["id"]}
    share_tickets(world, "company")
    assert reached() == {mine["id"], colleague["id"], opened["id"]}


def test_the_demo_seed_gives_the_portal_user_a_shared_project_a_milestone_and_a_waiting_ticket(aws, http):
    import boto3
    from chalicelib.core.scope import tenant_scope
    from chalicelib.team import service as team

    from bluehill_dev import resources, seed

    with tenant_scope(seed.DEMO_TENANT):
        seeded = team.user_by_email(seed.DEMO_TENANT, seed.email_for(seed.DEMO_TENANT, "portal")) is not None
    if not seeded:
        seed.seed()
    token = resources.id_token(boto3.client("cognito-idp"), aws, seed.email_for(seed.DEMO_TENANT, "portal"),
                               seed.DEMO_PASSWORD)
    portal = Api(http, token)
    kinds = {item["kind"] for item in ok(portal.get("/portal/waiting-on-you"))["items"]}
    assert kinds == {"task", "milestone_approval", "ticket"}
    home = ok(portal.get("/portal/home"))
    assert [p["name"] for p in home["projects"]] == ["Initech onboarding"] and home["open_tickets"]
    assert "vendor" not in json.dumps(home) and "Internal capacity" not in json.dumps(home)
    assert ok(Api(http, None).get("/portal/branding?host=demo.portal.localhost"))["portal_name"] == "Demo Corp Portal"


def test_a_template_anchors_on_the_customers_first_portal_login(anonymous, portal_tenant):
    from datetime import UTC, datetime

    world = portal_tenant["world"]
    owner = world.as_("owner")
    template = ok(owner.post("/templates", {"name": "Portal onboarding", "category": "onboarding",
                                            "tasks": [{"key": "a", "title": "Welcome call", "day": 1}]}), 201)
    apply = {"customer_id": world.portal_customer_id, "anchor": {"source": "first_portal_login"}}
    refused = owner.post(f"/templates/{template['id']}/apply", apply)
    assert refused.status == 422 and refused.json["errors"][0]["field"] == "anchor.source"
    ok(anonymous.post("/portal/login/exchange", {"link": _sign_in(anonymous, portal_tenant)}))
    applied = ok(owner.post(f"/templates/{template['id']}/apply", apply), 201)
    assert applied["anchor"] == {"source": "first_portal_login", "date": datetime.now(UTC).date().isoformat()}


def test_the_work_room_records_a_decision_once_and_an_older_one_does_not_replace_a_newer(acme, shared, http):
    from templating import sample_event

    owner, task = acme.as_("owner"), shared["plain"]
    ok(owner.patch(f"/tasks/{task['id']}", {"version": task["version"], "needs_approval": True}))
    newer = sample_event("milestone-approved.json", tenant_id=acme.tenant_id, task_id=task["id"],
                         project_id=task["project_id"], customer_id=acme.portal_customer_id,
                         decided_at="2026-06-22T15:04:05Z", comment="Ship it")
    older = sample_event("milestone-approved.json", tenant_id=acme.tenant_id, task_id=task["id"],
                         project_id=task["project_id"], customer_id=acme.portal_customer_id,
                         decided_at="2026-06-21T09:00:00Z", comment="Earlier")
    older["detail"]["type"] = older["detail-type"] = "Milestone.ChangesRequested"
    for event in (newer, newer, older):  # a replay, then an older decision arriving late
        http.lambda_.invoke("work_record_milestone_decision", event)
    approval = ok(owner.get(f"/tasks/{task['id']}"))["approval"]
    assert approval["state"] == "approved" and approval["comment"] == "Ship it"
    kinds = [entry["kinds"] for entry in ok(owner.get(f"/tasks/{task['id']}/activity"))["items"]]
    assert kinds.count(["approved"]) == 1 and kinds.count(["changes_requested"]) == 1


def test_a_link_ses_refuses_still_answers_202(anonymous, portal_tenant, monkeypatch):
    from chalicelib.portal import mailer

    monkeypatch.setattr(mailer, "sender", lambda: "unverified@nowhere.example")
    before = len(_sent_links())
    answer = anonymous.post("/portal/login/link", {"email": portal_tenant["contact"]["email"],
                                                   "host": portal_tenant["host"]})
    assert answer.status == 202 and len(_sent_links()) == before


def test_a_changed_subdomain_is_released_for_others_and_keeping_it_is_no_conflict(fresh_tenant, globex, anonymous):
    owner, sub = fresh_tenant.as_("owner"), f"rel{fresh_tenant.tenant_id}".lower()[:40]
    first = ok(owner.put("/tenant/branding", {"portal_subdomain": sub}))
    kept = ok(owner.put("/tenant/branding", {"version": first["version"], "portal_subdomain": sub,
                                             "portal_name": "Kept"}))
    assert globex.as_("owner").put("/tenant/branding", {"portal_subdomain": sub}).status == 409
    ok(owner.put("/tenant/branding", {"version": kept["version"], "portal_subdomain": f"{sub}-new"}))
    assert anonymous.get(f"/portal/branding?host={sub}.bluehill.app").status == 404
    assert owner.put("/tenant/branding", {"version": kept["version"], "portal_name": "Stale"}).status == 409
    theirs = ok(globex.as_("owner").put("/tenant/branding", {"portal_subdomain": sub}))
    assert theirs["portal_subdomain"] == sub
    ok(globex.as_("owner").put("/tenant/branding", {"version": theirs["version"], "portal_subdomain": None}))


def test_invoices_and_forms_reach_the_portal_through_their_rooms_never_drafts(fresh_tenant):
    from billing_helpers import approved_entries, draft

    from bluehill_dev import fidelity

    owner, portal, customer = fresh_tenant.as_("owner"), fresh_tenant.as_("portal"), fresh_tenant.portal_customer_id
    approved_entries(fresh_tenant, customer, 1)
    drafted = draft(fresh_tenant, customer).json
    approved_entries(fresh_tenant, customer, 1)
    final = draft(fresh_tenant, customer).json
    ok(owner.post(f"/invoices/{final['id']}/finalize"))
    form = ok(owner.post("/forms", {"name": "Intake", "fields": [
        {"key": "company", "type": "short_text", "label": "Company"}]}), 201)
    ok(owner.post(f"/forms/{form['id']}/publish"), 201)
    owner.post(f"/forms/{form['id']}/assignments", {"customer_id": customer, "due_date": "2026-12-31"})
    fidelity.settle()
    listed = ok(portal.get("/portal/invoices"))["items"]
    assert [i["id"] for i in listed] == [final["id"]] and drafted["id"] not in json.dumps(listed)
    detail = ok(portal.get(f"/portal/invoices/{final['id']}"))
    assert detail["pdf_url"] and detail["lines"] and "entry_ids" not in json.dumps(detail)
    assert portal.get(f"/portal/invoices/{drafted['id']}").status == 404
    home = ok(portal.get("/portal/home"))
    assert [i["id"] for i in home["invoices"]] == [final["id"]]
    assert [f["form_id"] for f in home["forms_waiting"]] == [form["id"]]
    waiting = ok(portal.get("/portal/waiting-on-you"))["items"]
    assert {"kind": "form", "id": form["id"], "due_date": "2026-12-31"}.items() <= next(
        item for item in waiting if item["kind"] == "form").items()
