"""What the work room does on other rooms' events (see core/consumers.py): a customer's decision
on a milestone in the portal (Milestone.Approved / Milestone.ChangesRequested) is recorded on
the task — its `approval` (shown on the task to the team) and an entry in its activity.

Once per event id (commit_once); tolerant of order: a decision older than the one the task
already shows is still logged in the activity but does not replace the newer one."""

from __future__ import annotations

from chalicelib.core.consumers import commit_once, consumer
from chalicelib.core.events import Event
from chalicelib.core.ids import new_id
from chalicelib.core.table import Transaction
from chalicelib.portal.events import MilestoneApproved, MilestoneChangesRequested

from .models import ActivityEntry, Task, project_pk

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
