"""Mail: inbound mail becomes tickets (threaded back by each of the four methods), triage and
quarantine, exactly-once delivery, loops and bounces, the log address, and outbound replies."""

from __future__ import annotations

import uuid

import boto3
import pytest

from bluehill_dev import resources
from tests.api.mail_helpers import log, message, receive, sent, support


def _uid() -> str:
    return f"{uuid.uuid4().hex}@mail.initech.example"


@pytest.fixture
def desk(fresh_tenant):
    """A tenant with a customer (domain initech.example) and its contact jane@initech.example."""
    owner = fresh_tenant.as_("owner")
    customer = owner.post("/customers", {"name": "Initech", "tier": "smb", "domains": ["initech.example"]}).json
    contact = owner.post(f"/customers/{customer['id']}/contacts",
                         {"name": "Jane Doe", "email": "jane@initech.example"}).json
    return fresh_tenant, customer, contact


def _applied(deliver) -> list:
    delivered = deliver()
    parked = [(d.event.type, name) for d in delivered for name, outcome in d.outcomes.items() if outcome == "parked"]
    assert not parked, parked
    return delivered


def _ticket(world, ticket_id):
    response = world.as_("owner").get(f"/tickets/{ticket_id}")
    assert response.status == 200, response.body
    return response.json


def _messages(world, ticket_id):
    return world.as_("owner").get(f"/tickets/{ticket_id}/messages").json["items"]


def _reply(world, ticket_id, body, visibility="public"):
    response = world.as_("owner").post(f"/tickets/{ticket_id}/messages", {"body": body, "visibility": visibility})
    assert response.status == 201, response.body
    return response.json


def _sent_for(ticket_id_hint: str | None = None, marker: str | None = None):
    found = sent()
    if marker is not None:
        found = [one for one in found if marker in one.get_body(("plain",)).get_content()]
    return found


# ---------- addresses ----------


def test_tenant_mail_shows_the_support_and_log_addresses_and_the_forwarding_setup(acme):
    answer = acme.as_("member").get("/tenant/mail")
    assert answer.status == 200, answer.body
    assert answer.json["support_address"] == support(acme.tenant_id)
    assert answer.json["log_address"] == log(acme.tenant_id)
    assert answer.json["support_address"] in answer.json["forwarding"]["support"]
    assert acme.as_("portal").get("/tenant/mail").status == 403


# ---------- inbound: new tickets, exactly once ----------


def test_a_contacts_email_opens_an_email_ticket_for_its_customer(desk, deliver):
    world, customer, contact = desk
    outcome = receive(message(to=support(world.tenant_id), message_id=_uid(), body="Export fails, please help"),
                      support(world.tenant_id))
    assert outcome["status"] == "routed" and outcome["ticket_id"], outcome
    _applied(deliver)
    ticket = _ticket(world, outcome["ticket_id"])
    assert ticket["source"] == "email" and ticket["customer_id"] == customer["id"]
    assert ticket["requester_contact_id"] == contact["id"] and ticket["description"] == "Export fails, please help"
    stored = world.as_("owner").get(f"/mail/messages/{outcome['mail_id']}").json
    assert stored["new_ticket"] is True and stored["status"] == "routed" and stored["contact_id"] == contact["id"]


def test_an_unknown_sender_of_a_customers_domain_opens_a_ticket_for_that_customer(desk, deliver):
    world, customer, _ = desk
    outcome = receive(message(sender="bob@initech.example", to=support(world.tenant_id), message_id=_uid()),
                      support(world.tenant_id))
    _applied(deliver)
    ticket = _ticket(world, outcome["ticket_id"])
    assert ticket["customer_id"] == customer["id"] and ticket["requester_contact_id"] is None


def test_the_same_object_or_the_same_message_id_twice_makes_one_ticket(desk, deliver):
    world, _, _ = desk
    raw = message(to=support(world.tenant_id), message_id=_uid())
    first = receive(raw, support(world.tenant_id))
    again = receive(raw, support(world.tenant_id), key=first["key"])  # the same S3 object delivered twice
    copy = receive(raw, support(world.tenant_id))  # the same Message-ID in a second object
    assert again["status"] == copy["status"] == "duplicate"
    assert again["mail_id"] == copy["mail_id"] == first["mail_id"]
    _applied(deliver)
    tickets = world.as_("owner").get("/tickets?source=email").json["items"]
    assert [ticket["id"] for ticket in tickets] == [first["ticket_id"]]


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(desk):
    world, _, _ = desk
    raw = message(to=support(world.tenant_id), subject="No id here")
    first = receive(raw, support(world.tenant_id))
    assert receive(raw, support(world.tenant_id), key=first["key"])["status"] == "duplicate"


def test_keyword_escalation_applies_to_inbound_mail(desk, deliver):
    world, _, _ = desk
    outcome = receive(message(to=support(world.tenant_id), message_id=_uid(), body="I am furious about this."),
                      support(world.tenant_id))
    _applied(deliver)
    assert _ticket(world, outcome["ticket_id"])["escalation_level"] == 1


def test_attachments_are_stored_under_the_tenants_prefix_and_listed_on_the_event(desk, deliver):
    world, _, _ = desk
    built = message(to=support(world.tenant_id), message_id=_uid())
    import email

    parsed = email.message_from_bytes(built, policy=email.policy.default)
    parsed.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="../../inv\u00f8ice.pdf")
    outcome = receive(parsed.as_bytes(), support(world.tenant_id))
    received = [d.event for d in _applied(deliver) if d.event.type == "Mail.Received"]
    (attachment,) = received[0].data["attachments"]
    assert attachment["filename"] == "inv\u00f8ice.pdf" and attachment["size"] == len(b"%PDF-1.4 test")
    assert attachment["key"].startswith(f"tenants/{world.tenant_id}/mail/{outcome['mail_id']}/")
    stored = boto3.client("s3").get_object(Bucket=resources.FILES_BUCKET, Key=attachment["key"])["Body"].read()
    assert stored == b"%PDF-1.4 test"


# ---------- triage ----------


def test_an_unknown_sender_goes_to_triage_and_assigning_creates_the_contact_and_the_ticket(desk, deliver):
    world, customer, _ = desk
    outcome = receive(message(sender="sam@unknown.example", to=support(world.tenant_id), message_id=_uid()),
                      support(world.tenant_id))
    assert outcome["status"] == "triage" and outcome["ticket_id"] is None
    listed = world.as_("member").get("/mail/triage").json["items"]
    assert [item["id"] for item in listed] == [outcome["mail_id"]] and listed[0]["reason"] == "unknown_sender"

    bad = world.as_("owner").post(f"/mail/triage/{outcome['mail_id']}/assign", {"customer_id": "nope"})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "customer_id"
    assert world.as_("readonly").post(f"/mail/triage/{outcome['mail_id']}/assign",
                                      {"customer_id": customer["id"]}).status == 403

    assigned = world.as_("owner").post(f"/mail/triage/{outcome['mail_id']}/assign",
                                       {"customer_id": customer["id"], "contact": {"name": "Sam"}})
    assert assigned.status == 200, assigned.body
    assert assigned.json["status"] == "routed" and assigned.json["contact_id"] and assigned.json["ticket_id"]
    _applied(deliver)
    assert _ticket(world, assigned.json["ticket_id"])["requester_contact_id"] == assigned.json["contact_id"]
    assert world.as_("member").get("/mail/triage").json["items"] == []
    again = world.as_("owner").post(f"/mail/triage/{outcome['mail_id']}/assign", {"customer_id": customer["id"]})
    assert again.status == 409


def test_another_tenant_never_sees_a_triaged_message(desk, globex):
    world, _, _ = desk
    outcome = receive(message(sender="x@nowhere.example", to=support(world.tenant_id), message_id=_uid()),
                      support(world.tenant_id))
    assert globex.as_("owner").get(f"/mail/messages/{outcome['mail_id']}").status == 404
    assert globex.as_("owner").post(f"/mail/triage/{outcome['mail_id']}/assign",
                                    {"customer_id": "x"}).status == 404
    assert globex.as_("owner").get("/mail/triage").json["items"] == []


# ---------- threading, each method ----------


def _open_ticket(world, deliver, subject="Export fails", sender="jane@initech.example"):
    outcome = receive(message(sender=sender, to=support(world.tenant_id), message_id=_uid(), subject=subject),
                      support(world.tenant_id))
    _applied(deliver)
    return outcome["ticket_id"]


def _answered(world, deliver, ticket_id, body="We are on it."):
    marker = f"{body} {uuid.uuid4().hex}"
    _reply(world, ticket_id, marker)
    _applied(deliver)
    (mail,) = _sent_for(marker=marker)
    return mail


def test_a_reply_to_our_answer_threads_by_in_reply_to(desk, deliver):
    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver)
    answer = _answered(world, deliver, ticket_id)
    reply = message(to=support(world.tenant_id), subject="something else entirely", message_id=_uid(),
                    In_Reply_To=answer["Message-ID"], body="Thanks, still broken")
    outcome = receive(reply, support(world.tenant_id))
    assert (outcome["ticket_id"], outcome["thread_method"]) == (ticket_id, "message_id")
    _applied(deliver)
    assert [m["body"] for m in _messages(world, ticket_id)][-1] == "Thanks, still broken"


def test_our_answer_carries_thread_headers_the_signed_reply_to_and_the_subject_token(desk, deliver):
    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver, subject="Login broken")
    answer = _answered(world, deliver, ticket_id)
    assert answer["From"] == support(world.tenant_id) and answer["To"] == "jane@initech.example"
    assert answer["In-Reply-To"] and answer["References"]
    assert answer["Reply-To"].startswith("support+t.") and "[#T-" in answer["Subject"]
    assert answer["Subject"].startswith("Re: Login broken") and answer["Auto-Submitted"] is None


def test_a_reply_to_the_plus_address_threads_by_its_signed_token_and_a_forged_one_does_not(desk, deliver):
    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver)
    answer = _answered(world, deliver, ticket_id)
    reply_to = answer["Reply-To"]
    outcome = receive(message(to=reply_to, subject="unrelated", message_id=_uid()), reply_to)
    assert (outcome["ticket_id"], outcome["thread_method"]) == (ticket_id, "address_token")
    forged = reply_to.replace("support+t.", "support+t.0").split(".")[0]
    forged_to = support(world.tenant_id, f"t.{ticket_id.lower()}.aaaaaaaaaaaaa")
    other = receive(message(to=forged_to, subject="unrelated 2", message_id=_uid()), forged_to)
    assert other["thread_method"] is None and other["ticket_id"] != ticket_id, forged


def test_an_outlook_reply_with_headers_stripped_threads_by_the_subject_token(desk, deliver):
    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver)
    answer = _answered(world, deliver, ticket_id)
    outcome = receive(message(sender="bob@initech.example", to=support(world.tenant_id),
                              subject=f"AW: {answer['Subject']}", message_id=_uid()), support(world.tenant_id))
    assert (outcome["ticket_id"], outcome["thread_method"]) == (ticket_id, "subject_token")


@pytest.mark.parametrize("prefix", ["Re: ", "RE[2]: ", "AW: ", "SV: ", "VS: ", "Antw: ", "Fwd: ", "WG: ", "TR: ",
                                    "RV: ", "Re: Re: "])
def test_the_same_sender_with_the_same_normalised_subject_threads_by_subject(desk, deliver, prefix):
    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver, subject="Invoice 4411 is wrong")
    outcome = receive(message(to=support(world.tenant_id), subject=f"{prefix}invoice 4411 IS wrong",
                              message_id=_uid()), support(world.tenant_id))
    assert (outcome["ticket_id"], outcome["thread_method"]) == (ticket_id, "subject")
    other = receive(message(sender="bob@initech.example", to=support(world.tenant_id),
                            subject=f"{prefix}Invoice 4411 is wrong", message_id=_uid()), support(world.tenant_id))
    assert other["ticket_id"] != ticket_id  # another sender: a ticket of its own


def test_the_subject_method_stops_after_thirty_days(desk, deliver, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from chalicelib.mail import service

    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver, subject="Quarterly report missing")

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(UTC) + timedelta(days=31)

    monkeypatch.setattr(service, "datetime", Later)
    outcome = receive(message(to=support(world.tenant_id), subject="Re: Quarterly report missing",
                              message_id=_uid()), support(world.tenant_id))
    assert outcome["ticket_id"] != ticket_id and outcome["new_ticket"]


def test_a_reply_reopens_a_waiting_ticket_and_a_closed_ticket_gets_a_linked_one(desk, deliver):
    world, _, _ = desk
    owner = world.as_("owner")
    ticket_id = _open_ticket(world, deliver)
    ticket = _ticket(world, ticket_id)
    ticket = owner.patch(f"/tickets/{ticket_id}", {"version": ticket["version"], "status": "open",
                                                    "assignee_id": world.users["member"]}).json
    ticket = owner.patch(f"/tickets/{ticket_id}", {"version": ticket["version"],
                                                    "status": "waiting_on_customer"}).json
    receive(message(to=support(world.tenant_id), subject="Re: Export fails", message_id=_uid()),
            support(world.tenant_id))
    _applied(deliver)
    ticket = _ticket(world, ticket_id)
    assert ticket["status"] == "open"
    ticket = owner.patch(f"/tickets/{ticket_id}", {"version": ticket["version"], "status": "resolved"}).json
    owner.patch(f"/tickets/{ticket_id}", {"version": ticket["version"], "status": "closed"})
    receive(message(to=support(world.tenant_id), subject="Re: Export fails", message_id=_uid(), body="Back again"),
            support(world.tenant_id))
    _applied(deliver)
    assert _ticket(world, ticket_id)["status"] == "closed"
    linked = [t for t in owner.get("/tickets?source=email").json["items"] if t.get("follow_up_of") == ticket_id]
    assert len(linked) == 1 and linked[0]["description"] == "Back again"


# ---------- loops, rate limit, bounces ----------


def test_an_auto_reply_pair_never_loops(desk, deliver):
    """Our answer reaches a vacation responder; its auto-reply threads to the ticket by
    In-Reply-To but opens nothing, posts nothing and is answered by nothing."""
    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver)
    answer = _answered(world, deliver, ticket_id)
    before = len(sent())
    auto = message(to=support(world.tenant_id), subject=f"Automatic reply: {answer['Subject']}", message_id=_uid(),
                   In_Reply_To=answer["Message-ID"], Auto_Submitted="auto-replied", body="I am out of office.")
    outcome = receive(auto, support(world.tenant_id))
    assert outcome["status"] == "quarantine" and outcome["reason"] == "auto_reply"
    _applied(deliver)
    assert len(sent()) == before
    assert all(m["body"] != "I am out of office." for m in _messages(world, ticket_id))


@pytest.mark.parametrize("headers", [
    {"X_Autoreply": "yes"}, {"X_Autorespond": "yes"}, {"Precedence": "bulk"}, {"Precedence": "junk"},
    {"Precedence": "list"}, {"X_Auto_Response_Suppress": "All"}, {"Return_Path": "<>"},
    {"List_Unsubscribe": "<mailto:unsub@initech.example>"},
])
def test_automatic_mail_never_opens_a_ticket(desk, headers):
    world, _, _ = desk
    outcome = receive(message(to=support(world.tenant_id), subject="Newsletter", message_id=_uid(), **headers),
                      support(world.tenant_id))
    assert outcome["status"] == "quarantine" and outcome["reason"] in ("auto_reply", "list_mail")


@pytest.mark.parametrize("sender", ["mailer-daemon@initech.example", "postmaster@initech.example"])
def test_daemon_senders_never_open_a_ticket(desk, sender):
    world, _, _ = desk
    outcome = receive(message(sender=sender, to=support(world.tenant_id), message_id=_uid()),
                      support(world.tenant_id))
    assert outcome["status"] == "quarantine" and outcome["reason"] == "auto_reply"


def test_a_sender_over_five_messages_an_hour_is_parked_and_a_retry_lets_it_through(desk, deliver):
    world, _, _ = desk
    outcomes = [receive(message(to=support(world.tenant_id), subject=f"Question number {n}", message_id=_uid()),
                        support(world.tenant_id)) for n in range(6)]
    assert [o["status"] for o in outcomes] == ["routed"] * 5 + ["quarantine"]
    assert outcomes[-1]["reason"] == "rate_limited"
    listed = world.as_("admin").get("/mail/quarantine").json["items"]
    assert [item["id"] for item in listed] == [outcomes[-1]["mail_id"]]
    retried = world.as_("admin").post(f"/mail/quarantine/{outcomes[-1]['mail_id']}/retry")
    assert retried.status == 200 and retried.json["status"] == "routed" and retried.json["attempts"] == 2
    assert world.as_("admin").get("/mail/quarantine").json["items"] == []
    assert world.as_("admin").post(f"/mail/quarantine/{outcomes[-1]['mail_id']}/retry").status == 409
    _applied(deliver)
    assert _ticket(world, retried.json["ticket_id"])["subject"] == "Question number 5"


def _dsn(to: str, original_message_id: str, recipient: str) -> bytes:
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.initech.example>\r\nTo: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
        f"Message-ID: <{_uid()}>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.initech.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_message_id}\r\nSubject: Re: Export fails\r\n\r\n--B--\r\n"
    ).encode()


def test_a_dsn_for_a_sent_reply_marks_the_contact_bouncing_notes_the_ticket_and_holds_later_replies(desk, deliver):
    world, _customer, contact = desk
    ticket_id = _open_ticket(world, deliver)
    answer = _answered(world, deliver, ticket_id)
    outcome = receive(_dsn(support(world.tenant_id), answer["Message-ID"], "jane@initech.example"),
                      support(world.tenant_id))
    assert (outcome["status"], outcome["ticket_id"]) == ("bounce", ticket_id)
    _applied(deliver)
    (refreshed,) = world.as_("owner").get("/contacts?email=jane@initech.example").json["items"]
    assert refreshed["id"] == contact["id"] and refreshed["email_status"] == "bouncing"
    notes = [m for m in _messages(world, ticket_id) if m["visibility"] == "internal"]
    assert notes and "bounced" in notes[-1]["body"]
    before = len(sent())
    _reply(world, ticket_id, "Second answer")
    delivered = _applied(deliver)
    assert len(sent()) == before
    (held,) = [d.event for d in delivered if d.event.type == "Mail.Sent"]
    assert held.data["status"] == "suppressed"
    stored = world.as_("owner").get(f"/mail/messages/{held.data['mail_id']}").json
    assert stored["status"] == "suppressed" and stored["reason"] == "recipient_bouncing"


def test_a_dsn_for_mail_we_never_sent_is_quarantined(desk):
    world, _, _ = desk
    outcome = receive(_dsn(support(world.tenant_id), "<nobody@else.example>", "x@initech.example"),
                      support(world.tenant_id))
    assert outcome["status"] == "quarantine" and outcome["reason"] == "unmatched_bounce"


# ---------- outbound ----------


def test_an_internal_note_marker_appears_in_no_sent_message(desk, deliver):
    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver)
    marker = f"INTERNAL-{uuid.uuid4().hex}"
    _reply(world, ticket_id, f"Customer is on the old plan {marker}", visibility="internal")
    _reply(world, ticket_id, "Public answer")
    _applied(deliver)
    everything = [one.as_string() for one in sent()]
    assert everything and not any(marker in text for text in everything)


def test_the_resolution_email_carries_the_csat_link_and_auto_submitted(desk, deliver):
    world, _, _ = desk
    owner = world.as_("owner")
    ticket_id = _open_ticket(world, deliver)
    ticket = owner.patch(f"/tickets/{ticket_id}", {"version": _ticket(world, ticket_id)["version"], "status": "open",
                                                    "assignee_id": world.users["member"]}).json
    owner.patch(f"/tickets/{ticket_id}", {"version": ticket["version"], "status": "resolved"})
    _applied(deliver)
    resolution = [one for one in sent() if ("/csat/" in one.get_body(("plain",)).get_content()
                  and ticket_id.lower() in one["Message-ID"].lower()) or False]
    mails = [one for one in sent() if "/csat/" in one.get_body(("plain",)).get_content()
             and one["Reply-To"] and ticket_id.lower() in one["Reply-To"]]
    assert mails, resolution
    assert mails[-1]["Auto-Submitted"] == "auto-replied"


def test_a_permanent_send_failure_is_shown_on_the_message(desk, deliver, monkeypatch):
    from botocore.exceptions import ClientError
    from chalicelib.mail import storage

    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver)

    def refuse(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "Email address is not verified."}},
                          "SendRawEmail")

    monkeypatch.setattr(storage, "send_raw", refuse)
    _reply(world, ticket_id, "This will not go out")
    delivered = _applied(deliver)
    (failed,) = [d.event for d in delivered if d.event.type == "Mail.Sent"]
    assert failed.data["status"] == "failed"
    stored = world.as_("owner").get(f"/mail/messages/{failed.data['mail_id']}").json
    assert stored["status"] == "failed" and stored["reason"] == "MessageRejected"


def test_a_transient_send_failure_is_retried(desk, deliver, monkeypatch):
    from botocore.exceptions import ClientError
    from chalicelib.mail import storage

    world, _, _ = desk
    ticket_id = _open_ticket(world, deliver)
    real, calls = storage.send_raw, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendRawEmail")
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "send_raw", flaky)
    _reply(world, ticket_id, "Goes out on the second try")
    delivered = _applied(deliver)
    (mail,) = [d.event for d in delivered if d.event.type == "Mail.Sent"]
    assert mail.data["status"] == "sent" and len(calls) == 2


# ---------- the log address ----------


def test_a_customer_mail_to_the_log_address_is_an_inbound_interaction_without_a_ticket(desk, deliver):
    world, customer, contact = desk
    outcome = receive(message(to="someone@ourcompany.example", message_id=_uid(), Bcc=log(world.tenant_id)),
                      log(world.tenant_id))
    assert outcome["status"] == "routed" and outcome["ticket_id"] is None
    (event,) = [d.event for d in _applied(deliver) if d.event.type == "Mail.Received"]
    assert event.data["mailbox"] == "log" and event.data["direction"] == "inbound"
    assert (event.data["customer_id"], event.data["contact_id"]) == (customer["id"], contact["id"])


def test_a_team_member_mailing_the_log_address_logs_their_own_outbound_mail(desk, deliver):
    world, _customer, contact = desk
    outcome = receive(message(sender=world.emails["member"], to="jane@initech.example", message_id=_uid()),
                      log(world.tenant_id))
    assert outcome["status"] == "routed"
    (event,) = [d.event for d in _applied(deliver) if d.event.type == "Mail.Received"]
    assert event.data["direction"] == "outbound" and event.data["contact_id"] == contact["id"]


# ---------- limits ----------


def test_an_over_size_message_is_stored_and_quarantined(desk, monkeypatch):
    from chalicelib.mail import parser

    world, _, _ = desk
    monkeypatch.setattr(parser, "MAX_MESSAGE_BYTES", 50_000)
    huge = message(to=support(world.tenant_id), message_id=_uid(), body="x" * 60_000)
    outcome = receive(huge, support(world.tenant_id))
    assert outcome["status"] == "quarantine" and outcome["reason"] == "too_large"
    stored = world.as_("owner").get(f"/mail/messages/{outcome['mail_id']}").json
    assert stored["from_address"] == "jane@initech.example"


def test_mail_to_an_unknown_tenant_is_dropped_unrouted(aws):
    outcome = receive(message(to=support("tnosuchtenant")), support("tnosuchtenant"))
    assert outcome["status"] == "unroutable"


# ---------- mailbox connectors ----------


class FakeConnector:
    """A mailbox with two messages; the cursor after them returns nothing new."""

    name = "fake"

    def __init__(self, messages: list[bytes]) -> None:
        self.messages = messages

    def fetch(self, cursor):
        return ([], cursor) if cursor == "end" else (self.messages, "end")


def test_a_mailbox_connector_delivers_into_the_same_pipeline_exactly_once(desk, deliver):
    from chalicelib.mail import connectors, jobs

    world, customer, _ = desk
    s3 = boto3.client("s3")
    mailbox = FakeConnector([message(to="csm@ourcompany.example", subject=f"Sync {n}", message_id=_uid())
                             for n in range(2)])

    def put(key, data):
        s3.put_object(Bucket=resources.MAIL_BUCKET, Key=key, Body=data)

    first = connectors.sync(mailbox, log(world.tenant_id), None, put)
    again = connectors.sync(FakeConnector(mailbox.messages), log(world.tenant_id), None, put)  # a re-sync
    assert first.cursor == "end" and connectors.sync(mailbox, log(world.tenant_id), "end", put).keys == []
    outcomes = [jobs.handle_records([{"s3": {"bucket": {"name": resources.MAIL_BUCKET}, "object": {"key": key}}}])[0]
                for key in first.keys + again.keys]
    assert [o["status"] for o in outcomes] == ["routed", "routed", "duplicate", "duplicate"]
    received = [d.event for d in _applied(deliver) if d.event.type == "Mail.Received"]
    assert {e.data["customer_id"] for e in received} == {customer["id"]} and len(received) == 2
