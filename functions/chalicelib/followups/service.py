"""Follow-up rules: creating one (by hand, from a logged interaction, as the next step of a
completed one), postponing, completing and cancelling — each change one transaction holding the
follow-up, its history entry, its report counters (stats.py), its audit entry and its event.
Nothing is deleted and nothing expires: a follow-up leaves the lists only when someone
completes or cancels it. Lists and buckets: listing.py; the overdue sweep: sweep.py.

Timezones: a due date becomes a due instant (UTC) in the assignee's timezone when it is set —
at creation and at each postponement — and the follow-up keeps that instant (and the zone, in
`timezone`). If the assignee's timezone (or the tenant's, which they fall back to) changes
later, their open follow-ups stay due at the instants fixed before; the buckets ("today") are
computed in the new zone from the next request on, and the next postponement fixes its due
time in the new zone.

Reach (the permission table decides the role; this who): owners, admins and readonly users
reach every follow-up; a member those assigned to them and those of the customers they reach;
a contractor those assigned to them. A follow-up out of reach is a 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, Forbidden, NotFound, validation_error
from chalicelib.core.events import Event
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Reach, require
from chalicelib.core.reads import ReadPlan
from chalicelib.core.table import Transaction, item_typer, require_version
from chalicelib.customers import service as customers
from chalicelib.team import service as team
from chalicelib.tickets import service as tickets
from chalicelib.work import service as work

from . import dates
from .events import FollowUpCancelled, FollowUpCompleted, FollowUpCreated, FollowUpPostponed
from .models import OPEN_STATES, FollowUp, FollowUpHistory, assignee_pk, customer_pk, due_pk, due_shard
from .stats import Tally, late_bucket

MAX_NEXT = 10
MAX_POSTPONEMENTS = 100  # the history of one follow-up stays one small Query
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AUDITED = ("title", "status", "assignee_id", "due_at", "due_date", "resolution", "cancel_reason")


def now() -> datetime:
    return datetime.now(UTC)


# ---------- reach ----------


def reaches(principal: Principal, reach: Reach, follow_up: FollowUp) -> bool:
    if reach is Reach.ALL or follow_up.assignee_id == principal.user_id:
        return True
    return reach is Reach.OWNED and customers.reaches_customer(principal, follow_up.customer_id)


def _read(principal: Principal, follow_up_id: str) -> tuple[FollowUp, list[FollowUpHistory]]:
    """The follow-up and its history: one strongly consistent Query of its partition (a change
    reads what the last change wrote; the partition holds at most MAX_POSTPONEMENTS + a few)."""
    typed = item_typer([FollowUp, FollowUpHistory])
    connection, found = FollowUp._get_connection(), []
    start: dict[str, Any] | None = None
    while True:
        answer = connection.query(FollowUp.pk(principal.tenant_id, follow_up_id), consistent_read=True,
                                  exclusive_start_key=start)
        found += [typed(raw) for raw in answer.get("Items", [])]
        start = answer.get("LastEvaluatedKey")
        if start is None:
            break
    item = next((each for each in found if isinstance(each, FollowUp)), None)
    if item is None:
        raise NotFound(f"follow-up {follow_up_id} not found")
    return item, [each for each in found if isinstance(each, FollowUpHistory)]


def load(principal: Principal, follow_up_id: str, action: str) -> tuple[FollowUp, list[FollowUpHistory]]:
    reach = require(principal, action)
    item, history = _read(principal, follow_up_id)
    if not reaches(principal, reach, item):
        raise NotFound(f"follow-up {follow_up_id} not found")
    return item, history


def get_follow_up(principal: Principal, follow_up_id: str) -> tuple[FollowUp, list[FollowUpHistory]]:
    return load(principal, follow_up_id, "followups:read")


# ---------- derived keys ----------


def index(follow_up: FollowUp) -> None:
    """The list keys while open or overdue; the sweep's keys while open (not yet marked)."""
    listed = follow_up.status in OPEN_STATES
    sort = f"{follow_up.due_at}#{follow_up.id}"
    follow_up.GSI1PK = assignee_pk(follow_up.tenant_id, follow_up.assignee_id) if listed else None
    follow_up.GSI2PK = customer_pk(follow_up.tenant_id, follow_up.customer_id) if listed else None
    follow_up.GSI1SK = follow_up.GSI2SK = sort if listed else None
    if follow_up.status == "open":
        follow_up.SYSDUEPK = due_pk(due_shard(follow_up.id))
        follow_up.SYSDUESK = f"{follow_up.due_at}#T#{follow_up.tenant_id}#{follow_up.id}"
    else:
        follow_up.SYSDUEPK = follow_up.SYSDUESK = None


def copy(follow_up: FollowUp) -> FollowUp:
    values = {k: v for k, v in follow_up.attribute_values.items() if k not in {"PK", "SK"}}
    return FollowUp(follow_up.PK, follow_up.SK, **values)


def history_entry(follow_up: FollowUp, action: str, at: str, by: str | None, **fields: Any) -> FollowUpHistory:
    entry_id = new_id()
    return FollowUpHistory(follow_up.PK, f"{FollowUpHistory.PREFIX}{entry_id}", type="FollowUpHistory",
                           tenant_id=follow_up.tenant_id, follow_up_id=follow_up.id, action=action, at=at, by=by,
                           **fields)


def event_fields(follow_up: FollowUp) -> dict[str, Any]:
    return {"follow_up_id": follow_up.id, "customer_id": follow_up.customer_id,
            "assignee_id": follow_up.assignee_id, "title": follow_up.title, "due_at": follow_up.due_at,
            "due_date": follow_up.due_date}


def audited(follow_up: FollowUp | None) -> dict[str, Any]:
    return {name: getattr(follow_up, name) for name in AUDITED} if follow_up is not None else {}


# ---------- create ----------


@dataclass
class Draft:
    """A follow-up to create: what was asked, before the assignee's timezone fixes its due time."""

    customer_id: str
    title: str
    assignee_id: str
    due_date: date | None = None
    due_at: datetime | None = None
    interaction_id: str | None = None
    ticket_id: str | None = None
    project_id: str | None = None
    previous_id: str | None = None
    source_event_id: str | None = None
    follow_up_id: str = field(default_factory=new_id)


@dataclass
class Change:
    """What one change writes besides the follow-ups themselves."""

    tenant_id: str
    at: datetime
    by: str | None
    tally: Tally = field(init=False)
    events: list[Event] = field(default_factory=list)
    history: list[FollowUpHistory] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tally = Tally(self.tenant_id)

    @property
    def iso(self) -> str:
        return dates.format_instant(self.at)


def build(change: Change, draft: Draft, timezone: str, field_prefix: str = "") -> FollowUp:
    """The new follow-up (due time fixed in `timezone`, the assignee's), with its history entry,
    counts and event added to `change`."""
    if draft.due_at is not None:
        due = dates.due_at(draft.due_at, timezone)
    else:
        assert draft.due_date is not None
        due = dates.due_on(draft.due_date, timezone)
    tenant, iso = change.tenant_id, change.iso
    follow_up = FollowUp(
        FollowUp.pk(tenant, draft.follow_up_id), FollowUp.SORT, type="FollowUp", tenant_id=tenant,
        id=draft.follow_up_id, version=1, created_at=iso, updated_at=iso, customer_id=draft.customer_id,
        interaction_id=draft.interaction_id, ticket_id=draft.ticket_id, project_id=draft.project_id,
        title=draft.title, status="open", assignee_id=draft.assignee_id, created_by=change.by, due_at=due.iso,
        due_date=due.day.isoformat(), all_day=due.all_day, timezone=timezone, original_due_at=due.iso,
        cohort_day=dates.local_date(change.at, timezone).isoformat(), due_weekday=WEEKDAYS[due.day.weekday()],
        postponements=0, previous_id=draft.previous_id, source_event_id=draft.source_event_id,
    )
    index(follow_up)
    change.history.append(history_entry(follow_up, "created", iso, change.by, to_due_at=due.iso,
                                        to_due_date=follow_up.due_date))
    change.tally.add(follow_up, "created")
    change.events.append(FollowUpCreated(
        **event_fields(follow_up), interaction_id=draft.interaction_id, ticket_id=draft.ticket_id,
        project_id=draft.project_id, previous_id=draft.previous_id).event(tenant))
    return follow_up


def assignee_timezones(tx: Transaction, tenant_id: str, assignees: dict[str, str]) -> dict[str, str]:
    """Each assignee's timezone (theirs, else the tenant's), with the check in `tx` that each is
    an active member of the team; `assignees` maps each to the field that named it (a 422)."""
    plan = ReadPlan()
    zones = team.timezones_for(plan, tenant_id, list(assignees))
    plan.run()
    found = zones()
    for user_id, name in assignees.items():
        if user_id not in found:
            raise validation_error(name, f"user {user_id} is not an active member of the team")
        team.require_active_users(tx, tenant_id, [user_id], name)
    return found


def _require_links(principal: Principal, draft: Draft) -> None:
    """The customer must be one the caller reaches; a ticket or project named must be the
    customer's and readable by the caller (asked of their rooms). Each a 422 naming the field."""
    try:
        customers.validate_reference(principal, draft.customer_id, "customer_id")
    except Forbidden as refused:
        raise validation_error("customer_id", f"customer {draft.customer_id} does not exist") from refused
    if draft.ticket_id:
        _require_link("ticket", draft.ticket_id, draft.customer_id,
                      lambda: tickets.get_ticket(principal, draft.ticket_id))
    if draft.project_id:
        _require_link("project", draft.project_id, draft.customer_id,
                      lambda: work.get_project(principal, draft.project_id))


def _require_link(kind: str, item_id: str, customer_id: str, read: Callable[[], Any]) -> None:
    try:
        linked = read()
    except (NotFound, Forbidden) as missing:
        raise validation_error(f"{kind}_id", f"{kind} {item_id} does not exist") from missing
    if linked.customer_id != customer_id:
        raise validation_error(f"{kind}_id", f"the {kind} belongs to another customer")


def commit(tx: Transaction, principal: Principal | None, change: Change,
           audits: list[tuple[str, str, str, dict[str, Any]]]) -> None:
    for entry in change.history:
        tx.create(entry, lambda: Conflict("history entry already exists"))
    change.tally.write(tx)
    if principal is not None:
        for action, kind, item_id, changed in audits:
            audit.record(tx, principal, action, kind, item_id, changed)
    tx.publish(*change.events)
    tx.commit()


def create_follow_up(principal: Principal, draft: Draft) -> FollowUp:
    require(principal, "followups:write")
    _require_links(principal, draft)
    tx = Transaction()
    zones = assignee_timezones(tx, principal.tenant_id, {draft.assignee_id: "assignee_id"})
    change = Change(principal.tenant_id, now(), principal.user_id)
    follow_up = build(change, draft, zones[draft.assignee_id])
    tx.create(follow_up, lambda: Conflict(f"follow-up {follow_up.id} already exists"))
    commit(tx, principal, change, [("create", "follow_up", follow_up.id, audit.diff({}, audited(follow_up)))])
    return follow_up


class AlreadyCreated(Conflict):
    """A follow-up with this id exists: the change that asked for it was applied before."""


def create_from_event(tenant_id: str, draft: Draft, by: str | None, tx: Transaction) -> FollowUp | None:
    """For this room's consumers: a follow-up that another room's change asked for (the caller
    was authorized there). Its writes join `tx`, which the consumer commits once; None when
    the assignee is not an active member of the team (nothing to create)."""
    plan = ReadPlan()
    zones = team.timezones_for(plan, tenant_id, [draft.assignee_id])
    plan.run()
    timezone = zones().get(draft.assignee_id)
    if timezone is None:
        return None
    change = Change(tenant_id, now(), by)
    follow_up = build(change, draft, timezone)
    tx.create(follow_up, lambda: AlreadyCreated(f"follow-up {follow_up.id} already exists"))
    for entry in change.history:
        tx.create(entry, lambda: Conflict("history entry already exists"))
    change.tally.write(tx)
    tx.publish(*change.events)
    return follow_up


# ---------- changes ----------


def _stale(follow_up_id: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"follow-up {follow_up_id} was changed by someone else; reload and retry")


def _require_open(follow_up: FollowUp, verb: str) -> None:
    if follow_up.status not in OPEN_STATES:
        raise Conflict(f"a {follow_up.status} follow-up cannot be {verb}")


def _save(tx: Transaction, before: FollowUp, after: FollowUp, at: str) -> None:
    after.version, after.updated_at = before.version + 1, at
    index(after)
    tx.put(after, FollowUp.version == before.version, _stale(after.id))


def postpone(principal: Principal, follow_up_id: str, preset: str | None, until: date | datetime | None,
             reason: str, expected: int | None) -> tuple[FollowUp, list[FollowUpHistory]]:
    current, history = load(principal, follow_up_id, "followups:update")
    if expected is not None:
        require_version(current, expected, "follow-up")
    _require_open(current, "postponed")
    if current.postponements >= MAX_POSTPONEMENTS:
        raise Conflict(f"a follow-up may be postponed at most {MAX_POSTPONEMENTS} times; complete or cancel it")
    change = Change(principal.tenant_id, now(), principal.user_id)
    plan = ReadPlan()
    zones = team.timezones_for(plan, principal.tenant_id, [current.assignee_id])
    plan.run()
    timezone = zones().get(current.assignee_id, current.timezone)  # the assignee's now: the date is set again
    if preset is not None:
        due = dates.postponed_to(preset, change.at, timezone)
    elif isinstance(until, datetime):
        due = dates.due_at(until, timezone)
    else:
        assert until is not None
        due = dates.due_on(until, timezone)
    if due.at <= change.at:
        raise validation_error("until", "must be later than now")
    after = copy(current)
    after.due_at, after.due_date, after.all_day, after.timezone = due.iso, due.day.isoformat(), due.all_day, timezone
    after.status, after.overdue_at = "open", None
    after.postponements = int(current.postponements or 0) + 1
    tx = Transaction()
    _save(tx, current, after, change.iso)
    change.history.append(history_entry(after, "postponed", change.iso, principal.user_id,
                                        from_due_at=current.due_at, from_due_date=current.due_date,
                                        to_due_at=after.due_at, to_due_date=after.due_date, reason=reason))
    change.tally.add(after, "postponements")
    change.events.append(FollowUpPostponed(**event_fields(after), from_due_at=current.due_at,
                                           from_due_date=current.due_date, reason=reason,
                                           postponements=after.postponements).event(principal.tenant_id))
    commit(tx, principal, change, [("postpone", "follow_up", after.id, audit.diff(audited(current), audited(after)))])
    return after, history + change.history


def complete(principal: Principal, follow_up_id: str, resolution: str, following: list[dict[str, Any]],
             expected: int | None) -> tuple[FollowUp, list[FollowUpHistory], list[FollowUp]]:
    current, history = load(principal, follow_up_id, "followups:update")
    if expected is not None:
        require_version(current, expected, "follow-up")
    _require_open(current, "completed")
    if following:
        require(principal, "followups:write")
    change = Change(principal.tenant_id, now(), principal.user_id)
    tx = Transaction()
    assignees: dict[str, str] = {}
    for n, step in enumerate(following):
        assignees.setdefault(step.get("assignee_id") or principal.user_id, f"next.{n}.assignee_id")
    zones = assignee_timezones(tx, principal.tenant_id, assignees) if assignees else {}
    after = copy(current)
    after.status, after.completed_at, after.completed_by, after.resolution = (
        "completed", change.iso, principal.user_id, resolution)
    late = dates.days_late(dates.parse_instant(current.due_at), change.at)
    created = []
    for step in following:
        assignee = step.get("assignee_id") or principal.user_id
        draft = Draft(customer_id=current.customer_id, title=step["title"], assignee_id=assignee,
                      due_date=step["due_date"], interaction_id=current.interaction_id,
                      ticket_id=current.ticket_id, project_id=current.project_id, previous_id=current.id)
        created.append(build(change, draft, zones[assignee]))
    _save(tx, current, after, change.iso)
    for follow_up in created:
        tx.create(follow_up, lambda: Conflict("follow-up already exists"))
    change.history.append(history_entry(after, "completed", change.iso, principal.user_id, resolution=resolution,
                                        next_ids=",".join(f.id for f in created) or None))
    outcome = ["completed_on_time"] if late == 0 else ["completed_late", late_bucket(late)]
    change.tally.add(after, "completed", *outcome)
    change.events.append(FollowUpCompleted(**event_fields(after), completed_at=change.iso, on_time=late == 0,
                                           days_late=late, next_ids=[f.id for f in created]).event(principal.tenant_id))
    audits = [("complete", "follow_up", after.id, audit.diff(audited(current), audited(after)))]
    audits += [("create", "follow_up", f.id, audit.diff({}, audited(f))) for f in created]
    commit(tx, principal, change, audits)
    return after, history + [entry for entry in change.history if entry.PK == after.PK], created


def cancel(principal: Principal, follow_up_id: str, reason: str,
           expected: int | None) -> tuple[FollowUp, list[FollowUpHistory]]:
    current, history = load(principal, follow_up_id, "followups:update")
    if expected is not None:
        require_version(current, expected, "follow-up")
    _require_open(current, "cancelled")
    change = Change(principal.tenant_id, now(), principal.user_id)
    after = copy(current)
    after.status, after.cancelled_at, after.cancelled_by, after.cancel_reason = (
        "cancelled", change.iso, principal.user_id, reason)
    tx = Transaction()
    _save(tx, current, after, change.iso)
    change.history.append(history_entry(after, "cancelled", change.iso, principal.user_id, reason=reason))
    change.tally.add(after, "cancelled")
    change.events.append(FollowUpCancelled(**event_fields(after), reason=reason).event(principal.tenant_id))
    commit(tx, principal, change, [("cancel", "follow_up", after.id, audit.diff(audited(current), audited(after)))])
    return after, history + change.history


def history_view(entry: FollowUpHistory) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in (
        "action", "at", "by", "from_due_at", "to_due_at", "from_due_date", "to_due_date", "reason", "resolution")}
    values["next_ids"] = entry.next_ids.split(",") if entry.next_ids else []
    return {"from": values.pop("from_due_at"), "to": values.pop("to_due_at"), **values}
