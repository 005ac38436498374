"""Interactions: logging them on a customer (or from a task or a ticket, which link themselves),
reading, changing (version-checked) and deleting them (gone from the feed, kept in the audit
trail). Each write publishes its Interaction.* event in its own transaction; the feed, the
counters and the follow-ups follow from those events."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict, NotFound, validation_error
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Reach, require
from chalicelib.core.table import Transaction, now_iso, require_version
from chalicelib.customers import service as customers
from chalicelib.team import service as team
from chalicelib.tickets import service as tickets
from chalicelib.work import service as work
from chalicelib.work import tasks as work_tasks

from . import kinds
from .events import InteractionCreated, InteractionDeleted, InteractionMentioned, InteractionUpdated
from .models import Interaction

FIELDS = ("type", "occurred_at", "summary", "body", "direction", "visibility", "contact_ids", "project_id",
          "task_id", "ticket_id", "duration_minutes", "sentiment", "tags")
LINKS = ("project_id", "task_id", "ticket_id", "contact_ids")
# `@[name](user_id)`: a mention of a team member by user id.
MENTION = re.compile(r"@\[[^\]\n]{1,200}\]\(([A-Za-z0-9_\-]{1,64})\)")


def mentions(body: str | None) -> list[str]:
    """The user ids @mentioned in a body, in order, each once."""
    return list(dict.fromkeys(MENTION.findall(body or "")))


def interaction_fields(item: Interaction) -> dict[str, Any]:
    values = {name: getattr(item, "kind" if name == "type" else name) for name in FIELDS}
    values["contact_ids"], values["tags"] = list(item.contact_ids or []), list(item.tags or [])
    if values["duration_minutes"] is not None:
        values["duration_minutes"] = int(values["duration_minutes"])
    return values


def interaction_view(principal: Principal, item: Interaction) -> dict[str, Any]:
    view = {"id": item.id, "customer_id": item.customer_id, **interaction_fields(item), "author_id": item.author_id,
            "mention_ids": list(item.mention_ids or []), "version": int(item.version),
            "created_at": item.created_at, "updated_at": item.updated_at}
    if principal.role == "portal":
        view.pop("mention_ids")
    return view


def _state(item: Interaction) -> dict[str, Any]:
    """What the events carry: the interaction as the feed shows it (no body)."""
    fields = interaction_fields(item)
    fields.pop("body")
    return {"interaction_id": item.id, "customer_id": item.customer_id, "version": int(item.version),
            "author_id": item.author_id, **fields}


# ---------- links ----------


def _linked(field: str, read: Callable[[], Any], customer_id: str) -> Any:
    """A record an interaction links to: it must exist, be reachable and be the customer's (422)."""
    try:
        record = read()
    except NotFound as missing:
        raise validation_error(field, "does not exist") from missing
    if getattr(record, "customer_id", None) != customer_id:
        raise validation_error(field, f"is not the customer {customer_id}'s")
    return record


def _check_links(principal: Principal, customer_id: str, fields: dict[str, Any]) -> None:
    if fields.get("project_id"):
        _linked("project_id", lambda: work.get_project(principal, fields["project_id"]), customer_id)
    if fields.get("task_id"):
        task = _linked("task_id", lambda: work_tasks.get_task(principal, fields["task_id"]), customer_id)
        if fields.get("project_id") not in (None, task.project_id):
            raise validation_error("task_id", "is not a task of project_id")
        fields["project_id"] = task.project_id
    if fields.get("ticket_id"):
        _linked("ticket_id", lambda: tickets.get_ticket(principal, fields["ticket_id"]), customer_id)
    for position, contact_id in enumerate(fields.get("contact_ids") or []):
        _linked(f"contact_ids.{position}", lambda c=contact_id: customers.get_contact(principal, c), customer_id)


def _check_mentions(tx: Transaction, principal: Principal, body: str | None) -> list[str]:
    mentioned = mentions(body)
    team.require_active_users(tx, principal.tenant_id, mentioned, "body")
    return mentioned


# ---------- writes ----------


def create_interaction(principal: Principal, customer_id: str, fields: dict[str, Any],
                       follow_up: dict[str, Any] | None = None) -> Interaction:
    require(principal, "interactions:write")
    customers.get_customer(principal, customer_id)  # 404 unless the caller reaches it
    fields = {name: value for name, value in fields.items() if value is not None}
    kinds.require_known(principal.tenant_id, fields["type"])
    _check_links(principal, customer_id, fields)
    now = now_iso()
    interaction_id = new_id()
    item = Interaction(Interaction.pk(principal.tenant_id, interaction_id), Interaction.SORT, type="Interaction",
                       tenant_id=principal.tenant_id, id=interaction_id, customer_id=customer_id, version=1,
                       created_at=now, updated_at=now, author_id=principal.user_id,
                       kind=fields.pop("type"), occurred_at=fields.pop("occurred_at", None) or now,
                       visibility=fields.pop("visibility", None) or "internal", **fields)
    tx = Transaction()
    tx.create(item, lambda: Conflict("interaction already exists"))
    item.mention_ids = _check_mentions(tx, principal, item.body)
    if follow_up:
        follow_up = {**follow_up, "assignee_id": follow_up.get("assignee_id") or principal.user_id}
        team.require_active_users(tx, principal.tenant_id, [follow_up["assignee_id"]], "follow_up.assignee_id")
    audit.record(tx, principal, "create", "interaction", interaction_id,
                 audit.diff({}, interaction_fields(item)))
    tx.publish(InteractionCreated(**_state(item), follow_up=follow_up).event(principal.tenant_id))
    if item.mention_ids:
        tx.publish(_mentioned(principal, item, item.mention_ids))
    tx.commit()
    return item


def _mentioned(principal: Principal, item: Interaction, mention_ids: list[str]) -> Any:
    return InteractionMentioned(interaction_id=item.id, customer_id=item.customer_id, mention_ids=mention_ids,
                                author_id=principal.user_id).event(principal.tenant_id)


def log_on_task(principal: Principal, task_id: str, fields: dict[str, Any]) -> Interaction:
    """An interaction logged from a task: its customer, project and task linked."""
    task = work_tasks.get_task(principal, task_id)
    return create_interaction(principal, task.customer_id, {
        **_quick(fields), "project_id": task.project_id, "task_id": task.id})


def log_on_ticket(principal: Principal, ticket_id: str, fields: dict[str, Any]) -> Interaction:
    """An interaction logged from a ticket: its customer and ticket linked."""
    ticket = tickets.get_ticket(principal, ticket_id)
    if not ticket.customer_id:
        raise Conflict(f"ticket {ticket_id} has no customer to log an interaction on")
    return create_interaction(principal, ticket.customer_id, {
        **_quick(fields), "ticket_id": ticket.id, "project_id": ticket.related_project_id})


def _quick(fields: dict[str, Any]) -> dict[str, Any]:
    label = kinds.BUILT_IN.get(fields["type"], (fields["type"].replace("_", " ").capitalize(), False))[0]
    return {**fields, "summary": fields.get("summary") or f"{label} logged"}


def _load(principal: Principal, interaction_id: str, action: str) -> Interaction:
    reach = require(principal, action)
    try:
        item = Interaction.get(Interaction.pk(principal.tenant_id, interaction_id), Interaction.SORT,
                               consistent_read=True)
    except Interaction.DoesNotExist as missing:
        raise NotFound(f"interaction {interaction_id} not found") from missing
    if item.deleted_at or not _reaches(principal, reach, item):
        raise NotFound(f"interaction {interaction_id} not found")
    return item


def _reaches(principal: Principal, reach: Reach, item: Interaction) -> bool:
    if reach is Reach.ALL:
        return True
    if reach is Reach.OWN_COMPANY:
        return item.customer_id == principal.customer_id and item.visibility == "shared"
    if reach is Reach.ASSIGNED:
        return item.author_id == principal.user_id or (
            bool(item.task_id) and _assigned_task(principal, item.task_id))
    return customers.reaches_customer(principal, item.customer_id)


def _assigned_task(principal: Principal, task_id: str) -> bool:
    try:
        return principal.user_id in (work_tasks.get_task(principal, task_id).assignee_ids or [])
    except NotFound:
        return False


def get_interaction(principal: Principal, interaction_id: str) -> Interaction:
    return _load(principal, interaction_id, "interactions:read")


def update_interaction(principal: Principal, interaction_id: str, changes: dict[str, Any],
                       expected_version: int) -> Interaction:
    current = _load(principal, interaction_id, "interactions:write")
    require_version(current, expected_version, "interaction")
    before = interaction_fields(current)
    for name in ("type", "summary", "visibility", "occurred_at"):
        if name in changes and changes[name] is None:
            raise validation_error(name, "may not be null")
    if "type" in changes:
        kinds.require_known(principal.tenant_id, changes["type"])
    after = {**before, **changes}
    if any(name in changes for name in LINKS):
        _check_links(principal, current.customer_id, after)
    changed = audit.diff(before, after)
    if not changed:
        return current
    values = {**current.attribute_values, **{("kind" if k == "type" else k): v for k, v in after.items()}}
    updated = Interaction(current.PK, current.SK, **values)
    updated.version, updated.updated_at = current.version + 1, now_iso()
    tx = Transaction()
    tx.put(updated, Interaction.version == current.version, _stale(interaction_id))
    updated.mention_ids = _check_mentions(tx, principal, updated.body)
    audit.record(tx, principal, "update", "interaction", interaction_id, changed)
    tx.publish(InteractionUpdated(**_state(updated), changes=sorted(changed)).event(principal.tenant_id))
    new_mentions = [user for user in updated.mention_ids if user not in (current.mention_ids or [])]
    if new_mentions:
        tx.publish(_mentioned(principal, updated, new_mentions))
    tx.commit()
    return updated


def delete_interaction(principal: Principal, interaction_id: str) -> None:
    """Gone from the feed and from reads; the item stays (marked deleted) with its audit trail."""
    current = _load(principal, interaction_id, "interactions:write")
    deleted = Interaction(current.PK, current.SK, **{**current.attribute_values, "deleted_at": now_iso(),
                                                      "version": current.version + 1})
    tx = Transaction()
    tx.put(deleted, Interaction.version == current.version, _stale(interaction_id))
    audit.record(tx, principal, "delete", "interaction", interaction_id, audit.diff(interaction_fields(current), {}))
    tx.publish(InteractionDeleted(interaction_id=interaction_id, customer_id=current.customer_id,
                                  version=int(deleted.version)).event(principal.tenant_id))
    tx.commit()


def _stale(interaction_id: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"interaction {interaction_id} was changed by someone else; reload and retry")
