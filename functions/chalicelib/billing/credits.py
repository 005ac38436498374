"""SLA service credits: a per-customer ledger of breached SLA targets (from Ticket.SLABreached),
and the credit lines a draft gets from the tenant's rules for the customer's tier."""

from __future__ import annotations

from typing import Any

from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.core.table import Transaction
from chalicelib.tickets.events import TicketSLABreached

from . import lines
from .models import SlaBreach


@consumer("billing_sla_credit_ledger", TicketSLABreached)
def record_breach(event: Event) -> bool:
    """A breached SLA target of a customer's ticket goes in that customer's credit ledger."""
    data = event.data_as(TicketSLABreached)
    if not data.customer_id:
        return False  # a ticket without a customer (or published before events named it): nothing to credit
    at = data.at or event.occurred_at
    tx = Transaction()
    tx.put(SlaBreach(SlaBreach.pk(event.tenant_id, data.customer_id), SlaBreach.sort(at, data.ticket_id, data.target),
                     type="SlaBreach", tenant_id=event.tenant_id, ticket_id=data.ticket_id, target=data.target,
                     at=at, customer_id=data.customer_id))
    tx.commit()  # a put of the same key: a replay writes the same item
    return True


def breaches(tenant_id: str, customer_id: str, date_from: str, date_to: str) -> list[SlaBreach]:
    """The customer's breaches whose instant falls on a day of the period (UTC days)."""
    return list(SlaBreach.query(SlaBreach.pk(tenant_id, customer_id),
                                SlaBreach.SK.between(date_from, f"{date_to}T~")))


def credit_lines(tenant_id: str, customer_id: str, tier: str | None, date_from: str, date_to: str,
                 rules: list[dict[str, Any]], drafted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One credit line per rule of the customer's tier that the period's breaches trigger."""
    mine = [rule for rule in rules if tier and rule["tier"] == tier]
    if not mine:
        return []
    found = breaches(tenant_id, customer_id, date_from, date_to)
    base = lines.credit_base(drafted)
    out = []
    for rule in mine:
        hits = [{"ticket_id": b.ticket_id, "target": b.target, "at": b.at} for b in found if b.target == rule["target"]]
        if hits and base > 0:
            out.append(lines.credit_line(rule, hits, base))
    return out
