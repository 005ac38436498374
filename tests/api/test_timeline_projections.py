"""The kinds the later rooms add to the customer timeline (timeline/projections.py): mail, files,
the portal's milestone decisions and sign-ins, follow-ups — each in the customer's feed with the
visibility it should have, an email counted as a customer touch, and none applied twice."""

from __future__ import annotations

from typing import Any

from work_helpers import ok

from bluehill_dev.harness_env import TenantWorld

MARKER = "OKAPI-MARKER-4410"


def _apply(event: Any) -> str:
    from chalicelib.core.consumers import CONSUMERS, deliver

    return deliver(CONSUMERS["timeline_feed"], event)


def _feed(api: Any, customer_id: str, query: str = "") -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in ok(api.get(f"/customers/{customer_id}/timeline{query}"))["items"]}


def _portal_sees(world: TenantWorld, customer_id: str) -> dict[str, dict[str, Any]]:
    response = world.as_("portal").get(f"/customers/{customer_id}/timeline")
    assert response.status == 200, response.body
    assert MARKER not in str(response.json)
    return {e["id"]: e for e in response.json["items"]}


def test_mail_joins_the_feed_shared_only_as_ticket_correspondence(fresh_tenant: TenantWorld) -> None:
    from chalicelib.mail.events import MailBounced, MailReceived, MailSent

    tenant, mine, owner = fresh_tenant.tenant_id, fresh_tenant.portal_customer_id, fresh_tenant.as_("owner")
    ticket = ok(owner.post("/tickets", {"subject": "Export fails", "description": "d", "customer_id": mine}), 201)
    mail = {"message_id": "<m@x>", "customer_id": mine, "from_address": "dana@customer.test", "snippet": "s",
            "body": MARKER, "received_at": "2026-11-20T10:00:00Z"}
    support = MailReceived(mail_id="m1", mailbox="support", direction="inbound", ticket_id=ticket["id"],
                           subject="Re: Export fails", **mail).event(tenant)
    logged = MailReceived(mail_id="m2", mailbox="log", direction="outbound", subject=f"Pricing {MARKER}",
                          **mail).event(tenant)
    sent = MailSent(mail_id="m3", message_id="<o@x>", ticket_id=ticket["id"], customer_id=mine,
                    to=["dana@customer.test"], subject="Re: Export fails", snippet="s", status="sent").event(tenant)
    held = MailSent(mail_id="m4", message_id="<p@x>", ticket_id=ticket["id"], customer_id=mine,
                    to=[f"{MARKER}@customer.test"], subject="Re: Export fails", snippet="s",
                    status="suppressed").event(tenant)
    bounced = MailBounced(mail_id="m5", original_message_id="<o@x>", recipients=[f"{MARKER}@customer.test"],
                          permanent=True, ticket_id=ticket["id"]).event(tenant)
    events = [support, logged, sent, held, bounced]
    assert [_apply(event) for event in events] == ["applied"] * 5
    assert [_apply(event) for event in events] == ["duplicate"] * 5  # replayed: nothing moves twice
    team = _feed(owner, mine)
    assert {(team[e.id]["kind"], team[e.id]["visibility"]) for e in events} == {
        ("Mail.Received", "shared"), ("Mail.Received", "internal"), ("Mail.Sent", "shared"),
        ("Mail.Sent", "internal"), ("Mail.Bounced", "internal")}
    assert team[support.id]["ticket_id"] == ticket["id"] and team[support.id]["type"] == "email"
    assert MARKER in team[bounced.id]["summary"] and team[logged.id]["system"] is False
    assert set(_feed(owner, mine, "?types=email")) == {support.id, logged.id, sent.id, held.id}
    portal = _portal_sees(fresh_tenant, mine)
    assert {support.id, sent.id} <= set(portal) and not {logged.id, held.id, bounced.id} & set(portal)


def test_an_email_is_a_customer_touch_and_a_held_one_is_not(fresh_tenant: TenantWorld) -> None:
    from chalicelib.mail.events import MailReceived, MailSent

    tenant, owner = fresh_tenant.tenant_id, fresh_tenant.as_("owner")
    company = ok(owner.post("/customers", {"name": "Mailed Co"}), 201)["id"]
    held = MailSent(mail_id="m1", message_id="<o@x>", ticket_id="t1", customer_id=company, to=["a@c.test"],
                    subject="s", snippet="s", status="failed").event(tenant)
    received = MailReceived(mail_id="m2", message_id="<m@x>", mailbox="log", direction="inbound",
                            customer_id=company, from_address="a@c.test", subject="Hello", snippet="s", body="b",
                            received_at="2026-11-20T10:00:00Z").event(tenant)
    _apply(held.model_copy(update={"occurred_at": "2026-11-25T09:00:00Z"}))
    _apply(received.model_copy(update={"occurred_at": "2026-11-20T10:00:00Z"}))
    listed = {row["customer_id"]: row for row in ok(owner.get("/reports/quiet-customers?days=1"))["items"]}
    assert listed[company]["last_customer_touch_at"] == "2026-11-20T10:00:00Z"
    assert listed[company]["last_interaction_at"] == "2026-11-20T10:00:00Z"


def test_files_milestones_sign_ins_and_follow_ups_join_the_feed(fresh_tenant: TenantWorld) -> None:
    from chalicelib.files.events import FileRejected, FileUploaded
    from chalicelib.followups.events import FollowUpCompleted, FollowUpCreated, FollowUpOverdue
    from chalicelib.portal.events import (
        CustomerPortalFirstLogin,
        MilestoneApproved,
        MilestoneChangesRequested,
        PortalLogin,
    )

    tenant, mine, owner = fresh_tenant.tenant_id, fresh_tenant.portal_customer_id, fresh_tenant.as_("owner")
    member = fresh_tenant.users["member"]
    file = {"customer_id": mine, "content_type": "application/pdf", "size": 10, "source": "upload"}
    decision = {"task_id": "task1", "project_id": "p1", "customer_id": mine, "decided_by": "u",
                "decided_at": "2026-11-20T10:00:00Z"}
    follow = {"follow_up_id": "f1", "customer_id": mine, "assignee_id": member, "title": f"Call back {MARKER}",
              "due_at": "2026-11-21T09:00:00Z", "due_date": "2026-11-21"}
    shared = [FileUploaded(file_id="f1", filename="Contract.pdf", portal_visible=True, **file),
              MilestoneApproved(**decision), MilestoneChangesRequested(**decision, comment="Move the logo")]
    internal = [FileUploaded(file_id="f2", filename=f"{MARKER}.pdf", portal_visible=False, **file),
                FileRejected(file_id="f3", filename=f"{MARKER}.exe", portal_visible=True, reason="executable", **file),
                CustomerPortalFirstLogin(customer_id=mine, user_id="pu", logged_in_at="2026-11-20T10:00:00Z"),
                PortalLogin(customer_id=mine, user_id="pu", month="2026-11"),
                FollowUpCreated(**follow), FollowUpOverdue(**follow, overdue_at="2026-11-21T09:00:00Z"),
                FollowUpCompleted(**follow, completed_at="2026-11-23T09:00:00Z", on_time=False, days_late=2,
                                  next_ids=[])]
    shared_events, internal_events = [e.event(tenant) for e in shared], [e.event(tenant) for e in internal]
    assert {_apply(event) for event in shared_events + internal_events} == {"applied"}
    shared_ids, internal_ids = [_entry_id(e) for e in shared_events], [_entry_id(e) for e in internal_events]
    team = _feed(owner, mine)
    assert {team[entry]["visibility"] for entry in shared_ids} == {"shared"}
    assert {team[entry]["visibility"] for entry in internal_ids} == {"internal"}
    assert team[shared_ids[2]]["summary"] == "Milestone changes requested: a task — Move the logo"
    assert team[internal_ids[-1]]["summary"] == f"Follow-up completed (2 days late): “Call back {MARKER}”"
    assert {e["kind"] for e in team.values()} >= {
        "File.Uploaded", "File.Rejected", "Milestone.Approved", "Milestone.ChangesRequested",
        "Customer.PortalFirstLogin", "Portal.Login", "FollowUp.Created", "FollowUp.Overdue", "FollowUp.Completed"}
    portal = _portal_sees(fresh_tenant, mine)
    assert set(shared_ids) <= set(portal) and not set(internal_ids) & set(portal)


def _entry_id(event: Any) -> str:
    """A file's entry is the file's own (its later changes replace it); every other kind's is the event's."""
    return str(event.data["file_id"]) if event.type == "File.Uploaded" else str(event.id)


def test_a_files_entry_follows_the_file_hidden_renamed_then_deleted_whatever_the_order(
        fresh_tenant: TenantWorld) -> None:
    from chalicelib.files.events import FileDeleted, FileUpdated, FileUploaded

    tenant, mine, owner = fresh_tenant.tenant_id, fresh_tenant.portal_customer_id, fresh_tenant.as_("owner")
    file = {"file_id": "f9", "customer_id": mine, "content_type": "application/pdf", "size": 10, "source": "upload",
            "added_at": "2026-11-20T10:00:00Z", "added_by": fresh_tenant.users["member"]}
    uploaded = FileUploaded(filename="Plan.pdf", portal_visible=True, version=2, **file).event(tenant)
    hidden = FileUpdated(filename=f"{MARKER}.pdf", portal_visible=False, version=3, changes={
        "portal_visible": {"before": True, "after": False}}, **file).event(tenant)
    deleted = FileDeleted(file_id="f9", customer_id=mine, version=4).event(tenant)

    assert _apply(uploaded) == "applied"
    assert _portal_sees(fresh_tenant, mine)["f9"]["summary"] == "File uploaded: Plan.pdf"
    assert _apply(hidden) == "applied"
    entry = _feed(owner, mine)["f9"]
    assert (entry["visibility"], entry["occurred_at"]) == ("internal", "2026-11-20T10:00:00Z")
    assert entry["actor"]["id"] == fresh_tenant.users["member"]  # who added it, not who hid it
    assert "f9" not in _portal_sees(fresh_tenant, mine)  # and the marker in its new name is nowhere
    _apply(uploaded.model_copy(update={"id": "late-copy"}))  # a late copy of the older version, as a new event
    assert _feed(owner, mine)["f9"]["visibility"] == "internal"
    assert _apply(deleted) == "applied"
    assert "f9" not in _feed(owner, mine)


def test_a_customers_support_mail_lands_on_its_timeline_through_the_mail_room(fresh_tenant: TenantWorld,
                                                                              deliver: Any) -> None:
    """The whole path: a message to the support address opens a ticket and is an `email` entry
    (shared: the customer's correspondence on its ticket) that moves the customer's last touch."""
    import uuid

    from mail_helpers import message, receive, support

    owner = fresh_tenant.as_("owner")
    company = ok(owner.post("/customers", {"name": "Initech", "domains": ["initech.example"]}), 201)["id"]
    ok(owner.post(f"/customers/{company}/contacts", {"name": "Jane Doe", "email": "jane@initech.example"}), 201)
    outcome = receive(message(to=support(fresh_tenant.tenant_id), message_id=f"{uuid.uuid4().hex}@initech.example",
                              subject="Export fails"), support(fresh_tenant.tenant_id))
    assert outcome["status"] == "routed", outcome
    deliver()
    [email] = [e for e in _feed(owner, company).values() if e["kind"] == "Mail.Received"]
    assert (email["visibility"], email["type"], email["ticket_id"]) == ("shared", "email", outcome["ticket_id"])
    assert "Export fails" in email["summary"]
    quiet = {row["customer_id"] for row in ok(owner.get("/reports/quiet-customers?days=1"))["items"]}
    assert company not in quiet  # written to today: not quiet
