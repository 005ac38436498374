"""The status machine and the SLA clocks each change moves: which moves are legal and what a
move means (resolving stops the clocks and opens the CSAT survey, reopening starts a new
resolution clock), escalation on a customer's words, and the policy a change is measured by."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chalicelib.core.errors import Conflict
from chalicelib.sla import clock, tracker
from chalicelib.sla import service as sla

from .models import Ticket

STATUSES = ("new", "open", "in_progress", "pending", "waiting_on_customer", "resolved", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open"}),
    "open": frozenset({"in_progress", "pending", "waiting_on_customer", "resolved"}),
    "in_progress": frozenset({"open", "pending", "waiting_on_customer", "resolved"}),
    "pending": frozenset({"open", "in_progress", "waiting_on_customer", "resolved"}),
    "waiting_on_customer": frozenset({"open", "in_progress", "pending", "resolved"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
DONE = frozenset({"resolved", "closed"})
REOPEN_WINDOW = timedelta(days=7)
CSAT_LIFETIME = timedelta(days=30)
ESCALATION_TAG = "escalated"
T = TypeVar("T")


# ---------- SLA clocks ----------


def refresh_clocks(ticket: Ticket, status_before: str, at: datetime, change: Change) -> None:
    """Apply the policy from `at` on — when this change read it; otherwise the clocks' own terms
    stand and the commit checks they are still the policy's — then the current status's pauses."""
    for target, state in ticket.sla.items():
        if change.policy is not None:
            terms = sla.terms(change.policy, ticket.customer_tier, ticket.priority, target)
            state = tracker.refresh(state, terms, status_before, at)
        ticket.sla[target] = tracker.on_status(state, ticket.status, at)


def assumed_policy_version(ticket: Ticket) -> int | None:
    running = [s["policy_version"] for s in ticket.sla.values() if tracker.is_running(s)]
    return max(running) if running else None


def stop_clock(ticket: Ticket, target: str, at: datetime) -> None:
    ticket.sla[target] = tracker.stop(ticket.sla[target], at)


# ---------- the status machine ----------


@dataclass
class Change:
    """What one change did besides the fields (its events), and the SLA policy if it had to
    read it (a new priority, a reopen, a customer's words, a policy that moved)."""

    tenant_id: str
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    policy: dict[str, Any] | None = None

    def load_policy(self) -> dict[str, Any]:
        if self.policy is None:
            self.policy = sla.policy_in_force(self.tenant_id)
        return self.policy


def with_current_policy(run: Callable[[bool], T]) -> T:
    """Run a change on its clocks' own terms; if the policy moved meanwhile, run it again on
    the policy in force (so the common change costs no policy read)."""
    try:
        return run(False)
    except sla.PolicyChanged:
        return run(True)


def require_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise Conflict(f"a ticket cannot move from {current} to {target}")


def enter_status(ticket: Ticket, status: str, at: datetime, change: Change) -> None:
    """Move to `status` (already checked legal) and do what the move means."""
    previous, iso = ticket.status, clock.format_instant(at)
    ticket.status = status
    if status == "resolved":
        for target in tracker.TARGETS:
            stop_clock(ticket, target, at)
        ticket.resolved_at = iso
        cycle = ticket.sla[tracker.RESOLUTION]["cycle"]
        expires = clock.format_instant(at + CSAT_LIFETIME)
        ticket.csat = {"cycle": cycle, "expires_at": expires, "score": None, "comment": None, "submitted_at": None}
        change.events.append(("Ticket.Resolved", {"resolved_at": iso}))
    elif status == "closed":
        ticket.closed_at = iso
        change.events.append(("Ticket.Closed", {"closed_at": iso}))
    elif previous == "resolved":
        _reopen(ticket, at, change)
    change.events.append(("Ticket.StatusChanged", {"from": previous, "to": status}))


def _reopen(ticket: Ticket, at: datetime, change: Change) -> None:
    """A reopen starts a new resolution clock (the first resolution's outcome stands)."""
    old = ticket.sla[tracker.RESOLUTION]
    terms = sla.terms(change.load_policy(), ticket.customer_tier, ticket.priority, tracker.RESOLUTION)
    ticket.sla[tracker.RESOLUTION] = tracker.start(terms, ticket.status, at, cycle=old["cycle"] + 1)
    ticket.reopen_count = int(ticket.reopen_count or 0) + 1
    ticket.resolved_at = None
    if ticket.csat and not ticket.csat.get("submitted_at"):
        ticket.csat = None  # the survey of the closed cycle dies with it; the next resolution sends its own
    change.events.append(("Ticket.Reopened", {"reopen_count": ticket.reopen_count, **measured(ticket, at)}))


_WORD = re.compile(r"[\w']+")


def escalate_on_keywords(ticket: Ticket, text: str, change: Change) -> None:
    terms = set(change.load_policy()["escalation_terms"])
    found = sorted(terms & {word.casefold() for word in _WORD.findall(text)})
    if not found:
        return
    ticket.escalation_level = int(ticket.escalation_level or 0) + 1
    if ESCALATION_TAG not in ticket.tags:
        ticket.tags = [*ticket.tags, ESCALATION_TAG]
    change.events.append(("Ticket.Escalated", {"reason": "keyword", "terms": found,
                                               "escalation_level": ticket.escalation_level}))


def measured(ticket: Ticket, at: datetime) -> dict[str, Any]:
    """What the rollup consumer counts an event under: the change's instant, priority, tier."""
    return {"at": clock.format_instant(at), "priority": ticket.priority, "customer_tier": ticket.customer_tier}
