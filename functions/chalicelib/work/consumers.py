"""What the work room does on other rooms' events (see core/consumers.py): a submitted form
whose actions create tasks gets them on the board they name, once per submission; a customer's
decision on a milestone in the portal is recorded on the task (below).

Each task's id derives from the event id and the action's place (a child id of its project whose
last characters hash both: two submissions in one millisecond do not collide), so a
replay — or a re-run after a crash between the write and the processed marker — finds the task
already there and creates nothing."""

from __future__ import annotations

import hashlib

from chalicelib.core.auth import Principal
from chalicelib.core.consumers import commit_once, consumer
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.events import Event
from chalicelib.core.ids import CHILD_SUFFIX, new_id
from chalicelib.core.observability import logger
from chalicelib.core.table import Transaction
from chalicelib.forms.events import FormSubmitted
from chalicelib.portal.events import MilestoneApproved, MilestoneChangesRequested

from . import tasks
from .models import ActivityEntry, Task, project_pk

AUTOMATION_USER = "automation"


CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def task_id_for(project_id: str, event_id: str, index: int) -> str:
    """The id of the task the event's `index`-th create_task action makes: the project's id, the
    event's time, then 4 characters of a hash of the event id and the index."""
    digest = hashlib.sha256(f"{event_id}#{index}".encode()).digest()
    return project_id + event_id[:10] + "".join(CROCKFORD[b % 32] for b in digest[:CHILD_SUFFIX - 10])


@consumer("work_tasks_from_form", FormSubmitted)
def tasks_from_form(event: Event) -> int:
    """A submitted form's create_task actions put their tasks (title from the answers) on their boards."""
    submitted = event.data_as(FormSubmitted)
    automation = Principal(tenant_id=event.tenant_id, user_id=AUTOMATION_USER, role="owner", email="")
    made = 0
    wanted = [action for action in submitted.actions if action.type == "create_task"]
    for index, action in enumerate(wanted):
        project_id = str(action.project_id)
        task_id = task_id_for(project_id, event.id, index)
        try:
            tasks.get_task(automation, task_id)
            continue  # made by an earlier run of this event
        except NotFound:
            pass
        fields = {"title": action.title, "description": action.description, "due_date": action.due_date,
                  "assignee_ids": [action.assignee_id] if action.assignee_id else None}
        try:
            tasks.create_task(automation, project_id, {k: v for k, v in fields.items() if v is not None}, task_id)
            made += 1
        except (NotFound, ValidationFailed, Conflict) as refused:  # the board was archived or removed since
            logger().warning("form task not created", extra={"tenant_id": event.tenant_id, "project_id": project_id,
                                                             "reason": type(refused).__name__})
    return made


# ---------- a customer's decision on a milestone (the portal room's events) ----------
# Recorded on the task: its `approval` (shown to the team on the task) and an entry in its
# activity. Once per event id (commit_once); tolerant of order: a decision older than the one
# the task already shows is still logged in the activity but does not replace the newer one.

STATES = {MilestoneApproved.TYPE: "approved", MilestoneChangesRequested.TYPE: "changes_requested"}


@consumer("work_record_milestone_decision", MilestoneApproved, MilestoneChangesRequested)
def record_milestone_decision(event: Event) -> bool:
    decision = event.data_as(MilestoneApproved if event.type == MilestoneApproved.TYPE else MilestoneChangesRequested)
    tenant, pk = event.tenant_id, project_pk(event.tenant_id, decision.project_id)
    try:
        task = Task.get(pk, Task.sort_key(decision.task_id), consistent_read=True)
    except Task.DoesNotExist:
        return False  # deleted since: nothing to record it on
    state = STATES[event.type]
    approval = {"state": state, "comment": decision.comment, "by": decision.decided_by,
                "at": decision.decided_at, "event_id": event.id}
    before = task.approval or None
    newer = before is None or (before.get("at") or "") <= decision.decided_at
    tx = Transaction()
    if newer:
        tx.update(Task(pk, task.SK), [Task.approval.set(approval), Task.revision.add(1)],
                  Task.revision == task.revision)
    entry_id = new_id()
    tx.put(ActivityEntry(
        pk, f"{ActivityEntry.PREFIX}{entry_id}", type="ActivityEntry", tenant_id=tenant, id=entry_id,
        project_id=decision.project_id, task_id=decision.task_id, actor_id=decision.decided_by,
        kinds=[state], changes={"approval": {"from": before, "to": approval}}, occurred_at=decision.decided_at,
        GSI1PK=ActivityEntry.task_pk(tenant, decision.task_id), GSI1SK=entry_id))
    return commit_once(tx, event)
