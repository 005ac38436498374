"""Submissions: by a portal user of an assigned customer, or by anyone holding a signed link (a
public route, rate-limited per link and per address). Each is checked against the published
version it answers (logic first: hidden answers dropped, visible required ones enforced), stored
with that version's number, and committed with its events in one transaction: Form.Submitted
(the timeline's summary and the actions the owning rooms run once each), Survey.Responded per
NPS/CSAT/CES answer, FormNotification.Requested per notify action."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.audit import service as audit
from chalicelib.canned import render
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, FieldError, NotFound, Throttled, ValidationFailed
from chalicelib.core.events import Actor, acting_as
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import Page, read_page
from chalicelib.core.permissions import require
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import Transaction, now_iso, query_reader
from chalicelib.customers import service as customers

from . import fields as field_rules
from . import links, service, stats
from .events import AnswerLine, FormNotificationRequested, FormSubmitted, SubmitAction, SurveyResponded
from .models import Form, FormAssignment, FormLink, FormVersion, RateCounter, Submission, form_pk

LINK_REQUESTS_PER_MINUTE = 30
IP_REQUESTS_PER_MINUTE = 120
PUBLIC_BODY_BYTES = 64 * 1024
SUMMARY_LINES = 10
TITLE_LIMIT, DESCRIPTION_LIMIT = 200, 10_000


# ---------- rate limits ----------

def _count_request(tenant_id: str, scope: str, value: str, limit: int) -> None:
    """One more request this minute through `scope`/`value`; 429 once `limit` were made."""
    minute = int(time.time() // 60)
    counter = RateCounter(RateCounter.pk(tenant_id, scope, value), str(minute))
    try:
        counter.update([RateCounter.n.add(1), RateCounter.expires_at.set(minute * 60 + 3600),
                        RateCounter.type.set("RateCounter"), RateCounter.tenant_id.set(tenant_id)],
                       condition=RateCounter.n.does_not_exist() | (RateCounter.n < limit))
    except UpdateError as refused:
        if refused.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise Throttled(f"too many requests through this {scope}; try again in a minute") from refused


@contextmanager
def _as_link_holder(token_text: str) -> Iterator[links.LinkToken]:
    """A public request: the token alone says whose tenant it is (404 if forged or expired); the
    work runs in that tenant's scope, acting as the link's holder."""
    token = links.verify(token_text, time.time())
    if token is None:
        raise NotFound("this form link is not valid")
    with tenant_scope(token.tenant_id), acting_as(Actor(type="portal", id=f"link:{token.link_id}")):
        yield token


def _link_and_form(token: links.LinkToken, ip: str) -> tuple[FormLink, Form]:
    _count_request(token.tenant_id, "link", token.link_id, LINK_REQUESTS_PER_MINUTE)
    _count_request(token.tenant_id, "ip", ip or "unknown", IP_REQUESTS_PER_MINUTE)
    try:
        link = FormLink.get(form_pk(token.tenant_id, token.form_id), FormLink.sort(token.link_id))
    except FormLink.DoesNotExist as missing:
        raise NotFound("this form link is not valid") from missing
    return link, service.load_form(token.tenant_id, token.form_id)


# ---------- reading the form to fill it ----------

def form_by_link(token_text: str, ip: str) -> dict[str, Any]:
    """Public: the live version the link opens (counted as opened), with its prefilled values."""
    with _as_link_holder(token_text) as token:
        link, form = _link_and_form(token, ip)
        if link.single_use and link.uses:
            raise Conflict("this single-use link was already used")
        version = service.live_version(form)
        stats.count_opened(form.tenant_id, form.id, int(version.number), "link")
    return {**service.public_version_view(version), "prefill": link.prefill, "single_use": link.single_use,
            "expires_at": link.expires_at_iso}


def form_for_portal(principal: Principal, form_id: str) -> dict[str, Any]:
    """A portal user's assigned form, as its live version (counted as opened)."""
    form, assignment = service.assigned_form(principal, form_id)
    version = service.live_version(form)
    stats.count_opened(form.tenant_id, form.id, int(version.number), "portal")
    return {**service.public_version_view(version), "due_date": assignment.due_date,
            "submitted_at": assignment.submitted_at}


# ---------- submitting ----------

def submit_by_link(token_text: str, answers: dict[str, Any], ip: str) -> dict[str, Any]:
    with _as_link_holder(token_text) as token:
        link, form = _link_and_form(token, ip)
        version = service.live_version(form)
        answers = {**answers, **(link.prefill or {})}  # hidden fields come from the link, not the client
        holder = Principal(tenant_id=form.tenant_id, user_id=link.contact_id or f"link:{link.id}", role="customer",
                           email="")
        return _submit(holder, form, version, answers, "link", link.customer_id, link.contact_id, link, ip, None)


def submit_by_portal(principal: Principal, form_id: str, answers: dict[str, Any], ip: str) -> dict[str, Any]:
    require(principal, "forms:submit")
    form, assignment = service.assigned_form(principal, form_id)
    version = service.live_version(form)
    return _submit(principal, form, version, answers, "portal", principal.customer_id, None, None, ip, assignment)


def _submit(actor: Principal, form: Form, version: FormVersion, answers: dict[str, Any], channel: str,
            customer_id: str | None, contact_id: str | None, link: FormLink | None, ip: str,
            assignment: FormAssignment | None) -> dict[str, Any]:
    stored, problems = field_rules.check_answers(version.fields, answers)
    if problems:
        errors = [FieldError(f"answers.{key}", message) for key, message in problems]
        raise ValidationFailed(f"{errors[0].field}: {errors[0].message}", errors)
    now = now_iso()
    for field in version.fields:
        if field["type"] == "signature" and field["key"] in stored:
            stored[field["key"]] = {**stored[field["key"]], "signed_at": now, "ip": ip or "unknown"}
    submission_id = new_id()
    actions, notices, refused = resolve_actions(version, stored, customer_id, submission_id)
    submission = Submission(Submission.pk(form.tenant_id, form.id), submission_id, type="Submission",
                            tenant_id=form.tenant_id, id=submission_id, form_id=form.id,
                            form_version=int(version.number), channel=channel, link_id=link.id if link else None,
                            customer_id=customer_id, contact_id=contact_id,
                            submitted_by=actor.user_id if channel == "portal" else None, answers=stored,
                            refused_mappings=refused, submitted_at=now)
    tx = Transaction()
    tx.create(submission, lambda: Conflict("submission already exists"))
    if link is not None:
        used_once = FormLink.uses == 0 if link.single_use else None
        tx.update(link, [FormLink.uses.add(1)], used_once,
                  lambda: Conflict("this single-use link was already used"))
    if assignment is not None and not assignment.submitted_at:
        tx.update(assignment, [FormAssignment.submitted_at.set(now), FormAssignment.submission_id.set(submission_id)])
        tx.delete(assignment.waiting_entry())
    stats.count_submitted(tx, form.tenant_id, form.id, int(version.number), channel)
    tenant = form.tenant_id
    tx.publish(FormSubmitted(form_id=form.id, form_name=version.name, form_version=int(version.number),
                             submission_id=submission_id, customer_id=customer_id, contact_id=contact_id,
                             channel=channel, summary=summary(version.fields, stored), actions=actions,
                             refused_mappings=refused).event(tenant))
    for field in version.fields:
        if field["type"] in field_rules.SURVEY_TYPES and field["key"] in stored:
            tx.publish(SurveyResponded(form_id=form.id, submission_id=submission_id, field_key=field["key"],
                                       kind=field["type"], score=stored[field["key"]], customer_id=customer_id,
                                       contact_id=contact_id).event(tenant))
    for notice in notices:
        tx.publish(FormNotificationRequested(form_id=form.id, submission_id=submission_id,
                                             customer_id=customer_id, **notice).event(tenant))
    audit.record(tx, actor, "submit", "form", form.id, {"submission_id": {"before": None, "after": submission_id}})
    tx.commit()
    return submission_view(submission)


def summary(form_fields: list[dict[str, Any]], stored: dict[str, Any]) -> list[AnswerLine]:
    lines = [AnswerLine(key=f["key"], label=f["label"][:200], answer=field_rules.display(f, stored[f["key"]])[:500])
             for f in form_fields if f["key"] in stored and f["type"] not in ("hidden", "signature", "file_upload")]
    return lines[:SUMMARY_LINES]


def _values(form_fields: list[dict[str, Any]], stored: dict[str, Any]) -> dict[str, str]:
    return {f"{service.PLACEHOLDER_ROOT}{f['key']}": field_rules.display(f, stored.get(f["key"])) for f in form_fields}


def _typed(field: dict[str, Any], value: Any, target: str) -> Any:
    """The customer field's value for this answer, or raises ValueError saying why not."""
    if target.startswith("custom_fields."):
        kind = service.CUSTOM_KINDS.get(field["type"]) or "text"
        shown = value if kind != "text" else field_rules.display(field, value)[:1000]
        return {target.removeprefix("custom_fields."): {"type": kind, "value": shown}}
    wanted, allowed = customers.FORM_MAPPABLE_FIELDS[target]
    text = field_rules.display(field, value)
    if wanted == "choice" and text not in allowed:
        raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
    if wanted == "text" and len(text) > 200:
        raise ValueError("longer than 200 characters")
    return {target: text}


def resolve_actions(version: FormVersion, stored: dict[str, Any], customer_id: str | None, submission_id: str,
                    ) -> tuple[list[SubmitAction], list[dict[str, str]], list[dict[str, str]]]:
    """The version's actions for these answers: those the owning rooms run (from Form.Submitted),
    the notifications to request, and the mappings refused (reported on the submission)."""
    by_key = {field["key"]: field for field in version.fields}
    values = _values(version.fields, stored)
    actions: list[SubmitAction] = []
    notices: list[dict[str, str]] = []
    refused: list[dict[str, str]] = []
    for action in version.actions:
        kind = action["type"]
        if kind == "create_task":
            due = (date.today() + timedelta(days=action["due_in_days"])).isoformat() \
                if action.get("due_in_days") is not None else None
            title = render.fill(action["title"], values).strip()[:TITLE_LIMIT] or version.name[:TITLE_LIMIT]
            description = render.fill(action.get("description") or "", values)[:DESCRIPTION_LIMIT] or None
            actions.append(SubmitAction(type=kind, project_id=action["project_id"], title=title,
                                        description=description, due_date=due, assignee_id=action.get("assignee_id")))
        elif kind == "apply_template":
            anchor = stored.get(action["anchor_field"])
            if not customer_id or not anchor:
                reason = "no customer" if not customer_id else f"{action['anchor_field']} was not answered"
                refused.append({"action": kind, "template_id": action["template_id"], "reason": reason})
                continue
            actions.append(SubmitAction(type=kind, template_id=action["template_id"], anchor_date=anchor,
                                        on_behalf_of=version.published_by))
        elif kind == "update_customer":
            changes: dict[str, Any] = {}
            for mapping in action["mappings"]:
                key, target = mapping["field"], mapping["target"]
                if key not in stored:
                    continue
                if not customer_id:
                    refused.append({"field": key, "target": target, "reason": "the submission has no customer"})
                    continue
                try:
                    typed = _typed(by_key[key], stored[key], target)
                except ValueError as bad:
                    refused.append({"field": key, "target": target, "reason": str(bad)})
                    continue
                if "custom_fields" in target:
                    changes.setdefault("custom_fields", {}).update(typed)
                else:
                    changes.update(typed)
            if changes:
                actions.append(SubmitAction(type=kind, changes=changes))
        elif kind == "notify":
            notices.append({"assignee_id": action["assignee_id"],
                            "message": render.fill(action.get("message") or version.name, values)[:DESCRIPTION_LIMIT]})
    return actions, notices, refused


# ---------- reading submissions ----------

def submission_view(submission: Submission) -> dict[str, Any]:
    return {"id": submission.id, "form_id": submission.form_id, "form_version": int(submission.form_version),
            "channel": submission.channel, "customer_id": submission.customer_id,
            "contact_id": submission.contact_id, "answers": submission.answers,
            "refused_mappings": submission.refused_mappings, "submitted_at": submission.submitted_at}


def list_submissions(principal: Principal, form_id: str, limit: int, cursor: str | None) -> Page[Submission]:
    require(principal, "forms:results")
    service.load_form(principal.tenant_id, form_id)
    source = query_reader(Submission, Submission.pk(principal.tenant_id, form_id), newest_first=True)
    return read_page([source], limit, cursor)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def submissions_csv(principal: Principal, form_id: str, submissions: list[Submission]) -> str:
    """One page of submissions as CSV that opens in Excel as it is: UTF-8 with BOM, CRLF, a
    header row of the latest version's labels, formula-looking cells escaped."""
    form = service.load_form(principal.tenant_id, form_id)
    columns = [f for f in form.fields if f["type"] != "section"]
    if form.published_version:
        columns = [f for f in service.load_version(form.tenant_id, form_id, int(form.published_version)).fields
                   if f["type"] != "section"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in ["submission_id", "submitted_at", "form_version", "channel", "customer_id",
                                        *(f["label"] for f in columns)]])
    for s in submissions:
        writer.writerow([_cell(str(v or "")) for v in (s.id, s.submitted_at, int(s.form_version), s.channel,
                                                       s.customer_id)]
                        + [_cell(field_rules.display(f, s.answers.get(f["key"]))) for f in columns])
    return "\ufeff" + out.getvalue()

