"""What the portal reads of the work room: a customer's shared projects and their shared tasks,
as the customer sees them. The portal room composes its pages from these; it never reads this
room's items itself.

Shared means: the project is `portal_visible`, live and the customer's; a task is
`portal_visible` in such a project. The customer sees `portal_status` / `portal_start_date` /
`portal_due_date` where set instead of the internal values, the blocker the team chose to share
(`portal_blocker`), never descriptions, assignees, weights, tags or any other internal field.

| read | how |
|---|---|
| a customer's shared projects | GSI3 T#t#CUSTOMER#<c>#PROJECTS#active (a few), kept when portal_visible |
| a shared project's tasks | the board: Queries of the project's partition (work.access.read_board) |
| one shared task (a milestone to approve) | BatchGet of the task and its project |
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib.core.errors import NotFound

from . import access
from .models import ACTIVE, Project, Task, customer_projects_pk, project_pk
from .progress import percent

WAITING_ON_CUSTOMER = "waiting_on_customer"
MAX_SHARED_PROJECTS = 200


def _shared(project: Project | None, customer_id: str) -> bool:
    return project is not None and project.live and project.portal_visible and project.customer_id == customer_id


def shared_projects(tenant_id: str, customer_id: str) -> list[Project]:
    """The customer's live, portal-visible projects, by due date."""
    found = Project.by_customer.query(customer_projects_pk(tenant_id, customer_id, ACTIVE),
                                      limit=MAX_SHARED_PROJECTS)
    return [project for project in found if _shared(project, customer_id)]


def shared_board(tenant_id: str, customer_id: str, project_id: str) -> tuple[Project, list[Task]]:
    """A shared project and its shared tasks in board order (a 404 for anything not shared)."""
    project, tasks = access.read_board(tenant_id, project_id)
    if project is None or not _shared(project, customer_id):
        raise NotFound(f"project {project_id} not found")
    visible = [task for task in access.shown(tasks) if task.portal_visible]
    return project, sorted(visible, key=lambda task: task.position)


def shared_task(tenant_id: str, customer_id: str, task_id: str) -> tuple[Project, Task]:
    """A shared task and its project (a 404 for anything not shared with this customer)."""
    project_id = task_id[:26]
    items = access.read_keys([(project_pk(tenant_id, project_id), Project.SORT),
                              (project_pk(tenant_id, project_id), Task.sort_key(task_id))])
    project = next((item for item in items if isinstance(item, Project)), None)
    task = next((item for item in items if isinstance(item, Task)), None)
    if task is None or project is None or not _shared(project, customer_id) or not task.portal_visible:
        raise NotFound(f"task {task_id} not found")
    if task.hidden and not access.shown([task]):
        raise NotFound(f"task {task_id} not found")
    return project, task


def awaits_approval(task: Task) -> bool:
    """An open milestone marked needs_approval that the customer has not approved."""
    return bool(task.is_milestone and task.needs_approval and task.is_open
                and (task.approval or {}).get("state") != "approved")


def portal_task(task: Task) -> dict[str, Any]:
    """A task as the customer sees it."""
    approval = task.approval or {}
    return {
        "id": task.id,
        "project_id": task.project_id,
        "parent_id": task.parent_id,
        "title": task.title,
        "status": task.portal_status or task.status,
        "done": not task.is_open,
        "start_date": task.portal_start_date or task.start_date,
        "due_date": task.portal_due_date or task.due_date,
        "completed_at": task.completed_at,
        "is_milestone": bool(task.is_milestone),
        "needs_approval": bool(task.needs_approval),
        "approval": {"state": approval["state"], "at": approval["at"]} if approval else None,
        "awaiting_approval": awaits_approval(task),
        "waiting_on_customer": task.status == WAITING_ON_CUSTOMER,
        "blocker": task.portal_blocker,
        "updated_at": task.updated_at,
    }


def project_summary(project: Project, tasks: list[Task], today: date) -> dict[str, Any]:
    """A shared project's headline: progress %, shared tasks finished in the last 7 days, in
    progress, and the next shared milestone with its date."""
    week_ago = (today - timedelta(days=7)).isoformat()
    finished = [t for t in tasks if not t.is_open and (t.completed_at or "")[:10] >= week_ago]
    in_progress = [t for t in tasks if t.is_open and t.status_category == "doing"]
    upcoming = sorted((t for t in tasks if t.is_milestone and t.is_open),
                      key=lambda t: (t.portal_due_date or t.due_date or "9999-12-31", t.position))
    milestone = upcoming[0] if upcoming else None
    return {
        "id": project.id,
        "name": project.name,
        "progress": percent(int(project.weight_done), int(project.weight_total)),
        "start_date": project.start_date,
        "due_date": project.due_date,
        "tasks_finished_last_week": len(finished),
        "tasks_in_progress": len(in_progress),
        "next_milestone": ({"id": milestone.id, "title": milestone.title,
                            "due_date": milestone.portal_due_date or milestone.due_date} if milestone else None),
    }
