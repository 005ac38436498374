"""The event backbone in process: events ride in their change's transaction (the outbox), the
relay puts them on the bus and every registered consumer takes each event once — whatever the
copies, retries or faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import chalicelib.wiring  # noqa: F401  (registers every room's consumers, as each entry point does)
import pytest
from chalicelib.core.consumers import CONSUMERS, deliver
from chalicelib.core.events import Event
from chalicelib.core.scope import tenant_scope

from bluehill_dev.harness_env import event_bus
from tests.api.foundation_helpers import EventLog
from tests.api.templating import applied, create_customer, create_template, gantt_by_key

# ---------- a real event for each registered consumer, with the state it acts on ----------


def _tenant_created(world: Any, api: Any) -> Event:
    from chalicelib.team.events import TenantCreated

    return TenantCreated(owner_id=world.users["owner"]).event(world.tenant_id)


def _contract_start_moved(world: Any, api: Any) -> Event:
    from chalicelib.customers.events import CustomerUpdated

    customer = create_customer(api, contract_start="2026-06-12")
    applied(api, create_template(api)["id"], customer["id"], {"source": "contract_start"}, follow_anchor=True)
    moved = api.patch(f"/customers/{customer['id']}", {"version": customer["version"], "contract_start": "2026-06-19"})
    return CustomerUpdated.model_validate({
        "customer_id": customer["id"], "version": moved.json["version"],
        "changes": {"contract_start": {"before": "2026-06-12", "after": "2026-06-19"}}}).event(world.tenant_id)


def _template_project(api: Any) -> dict[str, Any]:
    return applied(api, create_template(api)["id"], create_customer(api)["id"], date.today().isoformat())


def _task_completed(world: Any, api: Any) -> Event:
    from chalicelib.work.events import TaskCompleted

    result = _template_project(api)
    task = gantt_by_key(api, result)["prep"]
    done = api.patch(f"/tasks/{task['id']}", {"version": task["version"], "status": "complete"}).json
    return TaskCompleted(task_id=task["id"], project_id=result["project"]["id"],
                         customer_id=result["project"]["customer_id"], completed_at=done["completed_at"],
                         late=False).event(world.tenant_id)


def _project_completed(world: Any, api: Any) -> Event:
    from chalicelib.work.events import ProjectStatusChanged

    result = _template_project(api)
    return ProjectStatusChanged.model_validate({
        "project_id": result["project"]["id"], "customer_id": result["project"]["customer_id"],
        "from": "on_track", "to": "complete", "changed_by": "auto"}).event(world.tenant_id)


def _project_applied(world: Any, api: Any) -> Event:
    from chalicelib.templates.events import TemplateApplied

    result = _template_project(api)
    return TemplateApplied.model_validate({
        "template_id": result["template_id"], "template_version": result["template_version"],
        "project_id": result["project"]["id"], "customer_id": result["project"]["customer_id"],
        "anchor": {"source": "date", "date": date.today().isoformat()}}).event(world.tenant_id)


def _ticket_created(world: Any, api: Any, queued: bool) -> Event:
    from chalicelib.tickets.events import TicketCreated

    body = {"subject": "s", "description": "d", "customer_id": create_customer(api)["id"]}
    if queued:
        queue = api.post("/queues", {"name": "Events", "members": [world.users["owner"]], "routing": "round_robin"})
        body["queue_id"] = queue.json["id"]
    ticket = api.post("/tickets", body).json
    return TicketCreated(ticket_id=ticket["id"], status=ticket["status"], priority=ticket["priority"],
                         customer_id=ticket["customer_id"], assignee_id=ticket["assignee_id"],
                         queue_id=ticket["queue_id"], at=ticket["created_at"]).event(world.tenant_id)


def _interaction_logged(world: Any, api: Any) -> Event:
    from chalicelib.timeline.events import InteractionCreated

    customer = create_customer(api)
    return InteractionCreated(interaction_id="01jinteractionscenario0000", customer_id=customer["id"], version=1,
                              type="call", occurred_at="2026-11-20T10:00:00Z", summary="Scenario call",
                              visibility="internal", author_id=world.users["owner"]).event(world.tenant_id)


def _interaction_with_follow_up(world: Any, api: Any) -> Event:
    from chalicelib.timeline.events import FollowUpRequest

    event = _interaction_logged(world, api)
    request = FollowUpRequest(title="Scenario follow-up", due_date="2030-05-10", assignee_id=world.users["owner"])
    return event.model_copy(update={"data": {**event.data, "follow_up": request.model_dump()}})


def _customer_created(world: Any, api: Any) -> Event:
    from chalicelib.customers.events import CustomerCreated

    customer = create_customer(api)
    return CustomerCreated(customer_id=customer["id"], fields={"name": customer["name"], "owner_id": None,
                                                               "team_ids": []}).event(world.tenant_id)
def _milestone_approved(world: Any, api: Any) -> Event:
    from chalicelib.portal.events import MilestoneApproved

    customer = create_customer(api)
    project = api.post(f"/customers/{customer['id']}/projects", {"name": "P", "portal_visible": True}).json
    task = api.post(f"/projects/{project['id']}/tasks", {"title": "Sign-off", "is_milestone": True,
                                                          "needs_approval": True, "portal_visible": True}).json
    return MilestoneApproved(task_id=task["id"], project_id=project["id"], customer_id=customer["id"],
                             decided_by=world.users["owner"], decided_at="2026-06-22T15:04:05Z",
                             comment="ok").event(world.tenant_id)


def _form_submitted(world: Any, api: Any) -> Event:
    """A real portal submission (its own event left undelivered) and a Form.Submitted naming it,
    with one action of each kind the consumers run."""
    from chalicelib.forms.events import AnswerLine, FormSubmitted, SubmitAction

    customer = world.portal_customer_id
    project = api.post(f"/customers/{customer}/projects", {"name": "Form board"}).json
    template = create_template(api)
    form = api.post("/forms", {"name": "Intake", "fields": [
        {"key": "company", "type": "short_text", "label": "Company"},
        {"key": "size", "type": "radio", "label": "Size", "options": ["S", "L"]}]}).json
    api.post(f"/forms/{form['id']}/publish")
    api.post(f"/forms/{form['id']}/assignments", {"customer_id": customer})
    sent = world.as_("portal").post(f"/forms/{form['id']}/submissions", {"answers": {"company": "Co", "size": "L"}})
    assert sent.status == 201, sent.body
    event_bus().reader.skip_to_end()
    return FormSubmitted(
        form_id=form["id"], form_name="Intake", form_version=1, submission_id=sent.json["id"], customer_id=customer,
        channel="portal", summary=[AnswerLine(key="company", label="Company", answer="Co")],
        actions=[SubmitAction(type="create_task", project_id=project["id"], title="Onboard Co"),
                 SubmitAction(type="apply_template", template_id=template["id"], anchor_date=date.today().isoformat(),
                              on_behalf_of=world.users["owner"]),
                 SubmitAction(type="update_customer", changes={"segment": "From a form"})]).event(world.tenant_id)


def _sla_breached(world: Any, api: Any) -> Event:
    from chalicelib.tickets.events import TicketSLABreached

    return TicketSLABreached(ticket_id="tk1", target="resolution", due_at="2026-06-03T10:00:00Z", escalation_level=1,
                             at="2026-06-03T10:00:00Z", priority="high", customer_tier="enterprise",
                             customer_id=create_customer(api)["id"]).event(world.tenant_id)


def _billable_entry(world: Any, api: Any) -> Event:
    from chalicelib.timekeeping.events import TimeEntryCreated

    return TimeEntryCreated.model_validate({"entry": {
        "id": "e1", "user_id": world.users["member"], "customer_id": create_customer(api)["id"], "date": "2026-06-10",
        "minutes": 60, "billable": True, "billable_source": "customer", "category": "support", "rate": 12_000,
        "rate_source": "customer", "amount": 12_000, "currency": "USD", "status": "approved",
        "timesheet_id": "u--2026-W24", "version": 1}}).event(world.tenant_id)


def _time_entry(world: Any, api: Any) -> dict[str, Any]:
    entry = api.post("/time-entries", {"customer_id": create_customer(api)["id"], "date": "2026-06-02", "minutes": 30})
    assert entry.status == 201, entry.body
    return entry.json


def _time_entry_created(world: Any, api: Any) -> Event:
    from chalicelib.timekeeping.events import EntryData, TimeEntryCreated

    entry = _time_entry(world, api)
    return TimeEntryCreated(entry=EntryData.model_validate({k: entry[k] for k in EntryData.model_fields})
                            ).event(world.tenant_id)


def _timesheet_approved(world: Any, api: Any) -> Event:
    from chalicelib.timekeeping.events import TimesheetApproved

    entry = _time_entry(world, api)
    api.post(f"/timesheets/{entry['timesheet_id']}/submit", {})
    assert api.post(f"/timesheets/{entry['timesheet_id']}/approve", {}).status == 200
    return TimesheetApproved(timesheet_id=entry["timesheet_id"], user_id=world.users["owner"], week="2026-W23",
                             entry_ids=[entry["id"]]).event(world.tenant_id)


def _invoice_drafted(world: Any, api: Any) -> Event:
    from chalicelib.billing.events import InvoiceDrafted

    entry = _time_entry(world, api)
    api.post(f"/timesheets/{entry['timesheet_id']}/submit", {})
    api.post(f"/timesheets/{entry['timesheet_id']}/approve", {})
    event_bus().drain()  # the entry follows its approved week
    return InvoiceDrafted(invoice_id="inv-events", customer_id=entry["customer_id"], entry_ids=[entry["id"]]
                          ).event(world.tenant_id)
def _mail_ticket(world: Any, api: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from tests.api.foundation_helpers import unique

    customer = create_customer(api)
    contact = api.post(f"/customers/{customer['id']}/contacts", {"name": "Mail Contact",
                                                                  "email": f"{unique('c')}@events.example"}).json
    ticket = api.post("/tickets", {"subject": "Mail", "description": "d", "customer_id": customer["id"],
                                   "requester_contact_id": contact["id"]}).json
    return ticket, contact


def _mail_received(world: Any, api: Any) -> Event:
    from chalicelib.core.ids import new_id
    from chalicelib.mail.events import MailReceived

    return MailReceived(mail_id=new_id(), message_id="m@x.example", mailbox="support", direction="inbound",
                        customer_id=create_customer(api)["id"], ticket_id=new_id(), new_ticket=True,
                        from_address="a@x.example", subject="Help", snippet="b", body="b",
                        received_at="2026-12-01T00:00:00Z").event(world.tenant_id)


def _mail_bounced(world: Any, api: Any) -> Event:
    from chalicelib.mail.events import MailBounced

    ticket, contact = _mail_ticket(world, api)
    return MailBounced(mail_id="m", original_message_id="o@x.example", recipients=[contact["email"]],
                       status="5.1.1", permanent=True, ticket_id=ticket["id"]).event(world.tenant_id)


def _reply_posted(world: Any, api: Any) -> Event:
    from chalicelib.tickets.events import TicketMessagePosted

    ticket, _ = _mail_ticket(world, api)
    message = api.post(f"/tickets/{ticket['id']}/messages", {"body": "An answer"}).json
    return TicketMessagePosted(ticket_id=ticket["id"], message_id=message["id"], visibility="public",
                               author_type="team").event(world.tenant_id)


def _ticket_resolved(world: Any, api: Any) -> Event:
    from chalicelib.tickets.events import TicketResolved

    ticket, _ = _mail_ticket(world, api)
    opened = api.patch(f"/tickets/{ticket['id']}", {"version": ticket["version"], "status": "open",
                                                     "assignee_id": world.users["owner"]}).json
    resolved = api.patch(f"/tickets/{ticket['id']}", {"version": opened["version"], "status": "resolved"}).json
    return TicketResolved(ticket_id=ticket["id"], resolved_at=resolved["resolved_at"]).event(world.tenant_id)

def _invoice_sent(world: Any, api: Any) -> Event:
    from chalicelib.billing.events import InvoiceSent

    from tests.api.billing_helpers import approved_entries, draft

    customer = create_customer(api)
    api.post(f"/customers/{customer['id']}/contacts", {"name": "Books", "email": "books@events.example",
                                                        "billing": True})
    approved_entries(world, customer["id"], 1)
    invoice = draft(world, customer["id"]).json
    api.post(f"/invoices/{invoice['id']}/finalize")
    sent = api.post(f"/invoices/{invoice['id']}/send").json
    return InvoiceSent(invoice_id=sent["id"], customer_id=customer["id"], number=sent["number"], total=sent["total"],
                       currency=sent["currency"], to=["books@events.example"]).event(world.tenant_id)


def _mail_with_attachment(world: Any, api: Any) -> Event:
    import boto3
    from chalicelib.mail.events import MailReceived

    from bluehill_dev import resources

    key = f"tenants/{world.tenant_id}/mail/m-events/001-sow.pdf"
    boto3.client("s3").put_object(Bucket=resources.FILES_BUCKET, Key=key, Body=b"%PDF-1.4 sow")
    return MailReceived(
        mail_id="m-events", message_id="<m-events@initech.example>", mailbox="support", direction="inbound",
        customer_id=create_customer(api)["id"], from_address="jane@initech.example", subject="SOW", snippet="",
        body="", received_at="2026-12-04T09:30:00Z",
        attachments=[{"filename": "sow.pdf", "content_type": "application/pdf", "size": 12, "key": key}],
    ).event(world.tenant_id)


# Every registered consumer needs a scenario here: a consumer added without one fails below.
SCENARIOS: dict[str, Callable[[Any, Any], Event]] = {
    "templates_seed_library": _tenant_created,
    "templates_follow_contract_start": _contract_start_moved,
    "templates_count_task_completion": _task_completed,
    "templates_count_project_completion": _project_completed,
    "templates_count_project_created": _project_applied,
    "tickets_sla_rollup": lambda world, api: _ticket_created(world, api, queued=False),
    "queues_count_open": lambda world, api: _ticket_created(world, api, queued=True),
    "timeline_feed": _interaction_logged,
    "timeline_customer_touch": _customer_created,
    "followups_from_interactions": _interaction_with_follow_up,
    "forms_seed_defaults": _tenant_created,
    "forms_count_answers": _form_submitted,
    "work_tasks_from_form": _form_submitted,
    "templates_apply_from_form": _form_submitted,
    "customers_fields_from_form": _form_submitted,
    "billing_sla_credit_ledger": _sla_breached,
    "billing_rollups": _billable_entry,
    "time_daily_rollup": _time_entry_created,
    "time_follow_timesheet": _timesheet_approved,
    "time_invoice_links": _invoice_drafted,
    "tickets_mail_received": _mail_received,
    "tickets_mail_bounced": _mail_bounced,
    "customers_mail_bounced": _mail_bounced,
    "mail_send_ticket_reply": _reply_posted,
    "mail_send_resolution": _ticket_resolved,
    "mail_send_invoice": _invoice_sent,
    "files_mail_attachments": _mail_with_attachment,
    "work_record_milestone_decision": _milestone_approved,
}


def _tenant_items(tenant_id: str) -> list[dict[str, Any]]:
    """Every item of the tenant, as moto stores it (a test's view, not an access pattern)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables["bluehill"]
    items = [item.to_json()["Attributes"] for item in table.all_items()]
    return sorted((item for item in items if item.get("tenant_id", {}).get("S") == tenant_id),
                  key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def test_every_registered_consumer_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(CONSUMERS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_five_deliveries_of_one_event_change_nothing_after_the_first(name: str, fresh_tenant: Any) -> None:
    api = fresh_tenant.as_("owner")
    event_bus().drain()
    event = SCENARIOS[name](fresh_tenant, api)
    before = _tenant_items(fresh_tenant.tenant_id)
    assert deliver(CONSUMERS[name], event) == "applied"
    after_first = _tenant_items(fresh_tenant.tenant_id)
    assert after_first != before  # the scenario's event has an effect
    assert [deliver(CONSUMERS[name], event) for _ in range(4)] == ["duplicate"] * 4
    assert _tenant_items(fresh_tenant.tenant_id) == after_first


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_two_copies_delivered_at_once_take_effect_once(name: str, fresh_tenant: Any) -> None:
    from bluehill_dev.eventbus import deliver_with_retries

    api = fresh_tenant.as_("owner")
    event_bus().drain()
    event = SCENARIOS[name](fresh_tenant, api)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def copy() -> None:
        start.wait()
        outcomes.append(deliver_with_retries(CONSUMERS[name], event, event_bus().store, backoff=0.05))

    threads = [threading.Thread(target=copy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "duplicate"]
    once = _tenant_items(fresh_tenant.tenant_id)
    assert deliver(CONSUMERS[name], event) == "duplicate"
    assert _tenant_items(fresh_tenant.tenant_id) == once


# Two re-anchors of one follower within 500 ms: the layer's GSI lag hides a changed item
# entirely, while DynamoDB's index keeps showing its previous version (the link stays a
# follower through every re-anchor), so the lag is off here; the order is what this tests.
@pytest.mark.fidelity(gsi_lag_ms=0)
def test_an_older_contract_start_arriving_late_does_not_undo_the_newer(acme: Any, deliver: Any) -> None:
    from chalicelib.customers.events import CustomerUpdated

    api = acme.as_("owner")
    customer = create_customer(api, contract_start="2026-06-12")
    follower = applied(api, create_template(api)["id"], customer["id"], {"source": "contract_start"},
                       follow_anchor=True)
    first = api.patch(f"/customers/{customer['id']}", {"version": 1, "contract_start": "2026-06-19"}).json
    api.patch(f"/customers/{customer['id']}", {"version": first["version"], "contract_start": "2026-06-26"})
    events = [d.event for d in deliver() if d.event.type == "Customer.Updated"]
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-28"
    older = CustomerUpdated.model_validate({**events[0].data, "version": first["version"]}).event(acme.tenant_id)
    assert deliver_one("templates_follow_contract_start", older) == "applied"  # taken, and changes nothing
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-28"


def deliver_one(name: str, event: Event) -> str:
    return deliver(CONSUMERS[name], event)


# ---------- the outbox ----------


def test_a_write_commits_its_events_in_its_own_transaction(acme: Any, deliver: Any) -> None:
    api = acme.as_("owner")
    created = create_customer(api)
    delivered = deliver()
    (event,) = [d.event for d in delivered if d.event.type == "Customer.Created"]
    assert event.data["customer_id"] == created["id"]
    assert (event.source, event.tenant_id, event.schema_version) == ("bluehill.customers", acme.tenant_id, 1)
    assert event.actor.model_dump() == {"type": "user", "id": acme.users["owner"]}
    assert len(event.id) == 26 and event.occurred_at.endswith("Z")


def test_a_refused_write_commits_no_event(acme: Any, deliver: Any) -> None:
    api = acme.as_("owner")
    customer = create_customer(api)
    deliver()
    stale = api.patch(f"/customers/{customer['id']}", {"version": 99, "tier": "smb"})
    assert stale.status == 409
    assert [d.event.type for d in deliver()] == []


def test_a_transaction_that_fails_commits_no_event(acme: Any, deliver: Any) -> None:
    from chalicelib.core.consumers import ProcessedMarker
    from chalicelib.core.errors import Conflict
    from chalicelib.core.table import Transaction
    from chalicelib.customers.events import CustomerArchived

    with tenant_scope(acme.tenant_id):
        taken = ProcessedMarker(ProcessedMarker.pk(acme.tenant_id, "e1"), ProcessedMarker.sk("c"),
                                type="ProcessedMarker", tenant_id=acme.tenant_id, status="done", claimed_at=0,
                                expires_at=0)
        taken.save()
        tx = Transaction()
        tx.create(taken, lambda: Conflict("taken"))
        tx.publish(CustomerArchived(customer_id="c1", version=2).event(acme.tenant_id))
        with pytest.raises(Conflict):
            tx.commit()
    assert [d.event.type for d in deliver()] == []


def test_an_event_is_published_to_the_bus_once_delivered(acme: Any) -> None:
    with EventLog.on_bus("events-room-log") as log:
        customer = create_customer(acme.as_("owner"))
        (published,) = log.of("Customer.Created", customer_id=customer["id"])
    assert published["source"] == "bluehill.customers"
    assert published["detail"]["type"] == "Customer.Created"


# ---------- the relay's faults ----------


def _stream_records(tenant_id: str) -> list[dict[str, Any]]:
    """The stream's records since the bus last read, without delivering them."""
    bus = event_bus()
    return [record for _, records in bus.reader.read() for record in records]


def test_puts_refused_by_the_bus_are_retried_until_accepted(acme: Any, deliver: Any) -> None:
    from chalicelib.core import relay

    for _ in range(3):
        create_customer(acme.as_("owner"))
    records = _stream_records(acme.tenant_id)
    calls: list[int] = []

    def flaky(entries: list[dict[str, Any]]) -> dict[str, Any]:
        calls.append(len(entries))
        if len(calls) == 1:  # the first call: every other entry refused
            results = [{"ErrorCode": "InternalFailure"} if n % 2 else {"EventId": str(n)} for n in range(len(entries))]
            return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in entries]}

    result = relay.relay(records, "bluehill", flaky, lambda pk, sk: None, sleep=lambda s: None)
    events = [e for r in records if (found := relay._outbox_events(r)) for e in found[2]]
    assert result.failed_sequence is None and len(result.delivered) == len(events) == 3
    assert calls == [3, 1]  # the refused entry, alone, again


def test_puts_that_keep_failing_leave_the_record_to_be_read_again(acme: Any) -> None:
    from chalicelib.core import relay

    create_customer(acme.as_("owner"))
    records = _stream_records(acme.tenant_id)

    def down(entries: list[dict[str, Any]]) -> dict[str, Any]:
        raise ConnectionError("bus unreachable")

    marked: list[str] = []
    result = relay.relay(records, "bluehill", down, lambda pk, sk: marked.append(sk), sleep=lambda s: None)
    first_outbox = next(r for r in records if relay._outbox_events(r))
    assert result.failed_sequence == first_outbox["dynamodb"]["SequenceNumber"]
    assert result.batch_item_failures() == {"batchItemFailures": [{"itemIdentifier": result.failed_sequence}]}
    assert marked == [] and result.delivered == []


def test_a_relay_killed_between_publishing_and_acknowledging_delivers_again_and_effects_happen_once(
        acme: Any, deliver: Any, tmp_path: Any) -> None:
    from bluehill_dev import eventbus, resources

    api = acme.as_("owner")
    customer = create_customer(api, contract_start="2026-06-12")
    follower = applied(api, create_template(api)["id"], customer["id"], {"source": "contract_start"},
                       follow_anchor=True)
    deliver()
    store = eventbus.LocalStore(tmp_path)
    checkpoint = dict(event_bus().reader.checkpoint)
    store.save_checkpoint(checkpoint)
    api.patch(f"/customers/{customer['id']}", {"version": customer["version"], "contract_start": "2026-06-19"})

    class Killed(BaseException):
        pass

    def dies_after_putting(entries: list[dict[str, Any]]) -> dict[str, Any]:
        raise Killed  # the process dies once the events are on their way, before any acknowledgement

    first = eventbus.LocalBus(resources.TABLE, resources.BUS, store, dies_after_putting, persist=True)
    first.reader._iterators = dict(event_bus().reader._iterators)
    with pytest.raises(Killed):
        first.pump()
    assert store.checkpoint() == checkpoint  # nothing acknowledged
    accepted = eventbus.LocalBus(resources.TABLE, resources.BUS, store,
                                 lambda entries: {"FailedEntryCount": 0, "Entries": [{} for _ in entries]})
    accepted.reader._iterators = dict(event_bus().reader._iterators)
    redelivered = accepted.drain()
    assert any(d.event.type == "Customer.Updated" and d.outcomes.get("templates_follow_contract_start") == "applied"
               for d in redelivered)
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-21"
    replayed = accepted.drain() + [accepted.dispatch(d.event) for d in redelivered]  # and once more, by hand
    assert all(outcome == "duplicate" for d in replayed for outcome in d.outcomes.values())
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-21"


# ---------- local dead letters ----------


def test_a_failing_consumer_is_retried_then_parked_and_a_redrive_applies_it_once(
        acme: Any, deliver: Any, monkeypatch: Any) -> None:
    from bluehill_dev import eventbus

    api = acme.as_("owner")
    customer = create_customer(api, contract_start="2026-06-12")
    follower = applied(api, create_template(api)["id"], customer["id"], {"source": "contract_start"},
                       follow_anchor=True)
    deliver()
    registered = CONSUMERS["templates_follow_contract_start"]
    attempts: list[str] = []

    def broken(event: Event) -> None:
        attempts.append(event.id)
        raise RuntimeError("the consumer is broken")

    monkeypatch.setitem(CONSUMERS, registered.name, type(registered)(registered.name, registered.events, broken))
    api.patch(f"/customers/{customer['id']}", {"version": customer["version"], "contract_start": "2026-06-19"})
    outcomes = [d.outcomes[registered.name] for d in deliver() if d.event.type == "Customer.Updated"]
    assert outcomes == ["parked"]  # (the timeline's consumers of Customer.Updated are not broken)
    assert len(attempts) == 3  # the harness bus tries three times
    store = event_bus().store
    (parked,) = [p for p in store.parked() if p.event["tenant_id"] == acme.tenant_id]
    assert (parked.consumer, parked.attempts) == (registered.name, 3) and "broken" in parked.error
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-14"
    monkeypatch.undo()
    assert [outcome for _, outcome in eventbus.redrive(store, parked.id)] == ["applied"]
    tail = [json.loads(line) for line in (store.directory / "deliveries.jsonl").read_text().splitlines()]
    assert tail[-1]["id"] == parked.event["id"] and tail[-1]["outcomes"] == {registered.name: "applied"}
    assert gantt_by_key(api, follower)["kickoff"]["start_date"] == "2026-06-21"
    assert eventbus.redrive(store, parked.id) == []  # it left the store
    assert deliver_one(registered.name, Event.model_validate(parked.event)) == "duplicate"


# ---------- the catalog ----------


def test_the_catalog_lists_every_declared_type_with_its_source_description_and_schema(acme: Any) -> None:
    from chalicelib.core.events import EVENT_TYPES

    answer = acme.as_("admin").get("/events/catalog")
    assert answer.status == 200, answer.body
    by_type = {entry["type"]: entry for entry in answer.json["items"]}
    assert set(by_type) == set(EVENT_TYPES) and len(by_type) >= 40
    updated = by_type["Customer.Updated"]
    assert updated["source"] == "bluehill.customers" and updated["schema_version"] == 1
    assert "contract_start" not in updated["description"] and updated["description"]
    assert set(updated["json_schema"]["required"]) == {"customer_id", "version", "changes"}
    assert "from" in by_type["Task.StatusChanged"]["json_schema"]["properties"]  # the wire name, not from_
    assert all(entry["description"] for entry in answer.json["items"])


def test_only_owners_and_admins_read_the_catalog(acme: Any) -> None:
    assert acme.as_("member").get("/events/catalog").status == 403


# ---------- the deployed relay's entry point ----------


def test_the_relay_lambda_puts_the_sample_outbox_record_on_the_bus_and_reports_no_failure(
        acme: Any, http: Any) -> None:
    import json
    from pathlib import Path

    sample = json.loads((Path(__file__).resolve().parents[2] / "events" / "outbox-stream.json").read_text())
    with EventLog.on_bus("relay-lambda-log") as log:
        assert http.lambda_.invoke("events_relay", sample).payload == {"batchItemFailures": []}
        (published,) = [e for e in log.drain() if e["detail"]["id"] == "01jzevent0customerupdated0"]
    assert (published["source"], published["detail-type"]) == ("bluehill.customers", "Customer.Updated")


def test_the_relay_lambda_marks_a_delivered_outbox_item_with_its_expiry(acme: Any, http: Any) -> None:
    import time

    from chalicelib.core.events import OutboxItem

    create_customer(acme.as_("owner"))
    records = _stream_records(acme.tenant_id)
    outbox = [r for r in records if r["dynamodb"].get("NewImage", {}).get("type", {}).get("S") == "OutboxItem"]
    assert http.lambda_.invoke("events_relay", {"Records": records}).payload == {"batchItemFailures": []}
    keys = outbox[0]["dynamodb"]["Keys"]
    with tenant_scope(acme.tenant_id):
        item = OutboxItem.get(keys["PK"]["S"], keys["SK"]["S"])
    assert item.delivered_at and time.time() < item.expires_at <= time.time() + 24 * 3600 + 5
