"""What the work room does on other rooms' events (see core/consumers.py): a submitted form
whose actions create tasks gets them on the board they name, once per submission.

Each task's id derives from the event id and the action's place (a child id of its project whose
last characters hash both: two submissions in one millisecond do not collide), so a
replay — or a re-run after a crash between the write and the processed marker — finds the task
already there and creates nothing."""

from __future__ import annotations

import hashlib

from chalicelib.core.auth import Principal
from chalicelib.core.consumers import consumer
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.events import Event
from chalicelib.core.ids import CHILD_SUFFIX
from chalicelib.core.observability import logger
from chalicelib.forms.events import FormSubmitted

from . import tasks

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
