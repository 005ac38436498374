"""CSAT: a resolved ticket's survey link (a signed token bound to its resolution cycle) and
the customer's one answer per cycle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.scope import tenant_scope
from chalicelib.core.table import Transaction
from chalicelib.sla import clock
from chalicelib.sla import service as sla

from . import access, csat, ledger, machine
from .machine import DONE
from .models import CsatResponse, Ticket


def csat_link(principal: Principal, ticket_id: str) -> dict[str, Any]:
    ticket = access.load(principal, ticket_id, "tickets:csat")
    survey = ticket.csat
    if not survey:
        raise Conflict("a ticket has a CSAT survey once it is resolved")
    if survey.get("submitted_at"):
        raise Conflict("the customer already answered this ticket's survey")
    expires = clock.parse_instant(survey["expires_at"])
    token = csat.sign(csat.SurveyToken(ticket.tenant_id, ticket.id, survey["cycle"], int(expires.timestamp())))
    return {"token": token, "path": f"/csat/{token}", "expires_at": survey["expires_at"]}


def _survey_gone() -> NotFound:
    return NotFound("this survey link is not valid")


def _survey_superseded() -> Conflict:
    return Conflict("the ticket was reopened after this survey was sent; this link no longer takes answers")


def submit_csat(token_text: str, score: int, comment: str | None) -> dict[str, Any]:
    """Public: the token alone identifies tenant, ticket and resolution (404 if forged or
    expired). A survey belongs to one resolution cycle: once the ticket is reopened its link
    is a 409, and a second answer is a 409 — one score per cycle."""
    now = sla.now()
    token = csat.verify(token_text, now)
    if token is None:
        raise _survey_gone()
    with tenant_scope(token.tenant_id):
        try:
            ticket = Ticket.get(Ticket.pk(token.tenant_id, token.ticket_id), Ticket.SORT)
        except Ticket.DoesNotExist as missing:
            raise _survey_gone() from missing
        if ticket.status not in DONE or not ticket.csat or ticket.csat["cycle"] != token.cycle:
            raise _survey_superseded()
        return _record_csat(ticket, token, score, comment, now)


def _record_csat(ticket: Ticket, token: csat.SurveyToken, score: int, comment: str | None,
                 now: datetime) -> dict[str, Any]:
    iso = clock.format_instant(now)
    answered = lambda: Conflict("this survey was already answered")  # noqa: E731
    survey = {**ticket.csat, "score": score, "comment": comment, "submitted_at": iso}
    tx = Transaction()
    tx.create(CsatResponse(ticket.PK, CsatResponse.sort(token.cycle), type="CsatResponse",
                           tenant_id=ticket.tenant_id, ticket_id=ticket.id, score=score, comment=comment,
                           submitted_at=iso), answered)
    still_resolved = Ticket.status.is_in(*DONE) & (Ticket.reopen_count == ticket.reopen_count)
    tx.update(ticket, [Ticket.csat.set(survey), Ticket.version.add(1)], still_resolved, _survey_superseded)
    customer = Principal(tenant_id=ticket.tenant_id, user_id=ticket.requester_contact_id or "customer",
                         role="customer", email="")
    audit.record(tx, customer, "csat", "ticket", ticket.id, {"csat": {"before": None, "after": score}})
    ledger.publish(tx, ticket, [("Ticket.CsatSubmitted", {"score": score, "cycle": token.cycle,
                                                           **machine.measured(ticket, now)})])
    tx.commit()
    return {"ticket_id": ticket.id, "score": score, "comment": comment, "submitted_at": iso}


