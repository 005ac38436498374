"""Reading projects and tasks the caller may see, and nothing else.

Who sees what (the permission table says which reach each role has):
- owner, admin, readonly (`ALL`): every project and task of the tenant;
- member (`OWNED`): projects of customers they own or are on the team of (asked of the
  customers room), and any task assigned to them;
- contractor (`ASSIGNED`): projects that name them as owner or member, and tasks assigned to them;
- portal: none of these routes.
A project being provisioned is invisible to everyone; anything out of reach is a 404."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.core.auth import Principal
from chalicelib.core.errors import NotFound
from chalicelib.core.ids import parent_of
from chalicelib.core.permissions import Reach, require
from chalicelib.core.table import item_typer, read_items
from chalicelib.customers import service as customers

from .models import BOARD_END, Project, Task, project_pk

BOARD_PAGE = 300  # items per Query page when a whole board is read: 500 tasks are 2 pages
_typed = item_typer([Project, Task])


def _hidden(kind: str, item_id: str) -> NotFound:
    return NotFound(f"{kind} {item_id} not found")


def reaches_customer(principal: Principal, customer_id: str) -> bool:
    return customers.reaches_customer(principal, customer_id)


def reaches_project(principal: Principal, reach: Reach, project: Project) -> bool:
    if project.provisioning:
        return False
    if reach is Reach.ALL:
        return True
    if reach is Reach.ASSIGNED:
        return principal.user_id == project.owner_id or principal.user_id in project.member_ids
    return reach is Reach.OWNED and reaches_customer(principal, project.customer_id)


def reaches_task(principal: Principal, reach: Reach, task: Task) -> bool:
    """Whether the caller may see the task (its project being shown: see `shown`)."""
    if reach is Reach.ALL or principal.user_id in task.assignee_ids:
        return True
    return reach is Reach.OWNED and reaches_customer(principal, task.customer_id)


# Projects seen shown, by (tenant, project): a project never goes back to provisioning, so a
# warm container reads each one at most once for its flagged tasks.
_seen_shown: set[tuple[str, str]] = set()
SEEN_SHOWN_LIMIT = 10_000


def shown(tasks: list[Task]) -> list[Task]:
    """The tasks less those whose project is still being provisioned. Only tasks written
    during a provisioning build are flagged `hidden`; the projects of those not yet seen shown
    are read in one BatchGet."""
    unknown = {(task.tenant_id, task.project_id) for task in tasks if task.hidden} - _seen_shown
    if unknown:
        projects = read_keys((project_pk(tenant_id, project_id), Project.SORT) for tenant_id, project_id in unknown)
        if len(_seen_shown) > SEEN_SHOWN_LIMIT:
            _seen_shown.clear()
        _seen_shown.update((project.tenant_id, project.id) for project in projects
                           if isinstance(project, Project) and not project.provisioning)
    return [task for task in tasks if not task.hidden or (task.tenant_id, task.project_id) in _seen_shown]


def read_keys(keys: Iterable[tuple[str, str]]) -> list[Project | Task]:
    """One consistent BatchGetItem (more past 100 keys) of projects and tasks, typed."""
    return read_items(keys, [Project, Task])


def read_board(tenant_id: str, project_id: str) -> tuple[Project | None, list[Task]]:
    """The project item and all its tasks: ⌈tasks / BOARD_PAGE⌉ consistent Queries of one partition."""
    connection = Task._get_connection()
    condition = Task.SK.between(Project.SORT, BOARD_END)
    project, tasks, start = None, [], None
    while True:
        answer = connection.query(project_pk(tenant_id, project_id), range_key_condition=condition,
                                  consistent_read=True, limit=BOARD_PAGE, exclusive_start_key=start)
        for item in map(_typed, answer.get("Items", [])):
            if isinstance(item, Project):
                project = item
            else:
                tasks.append(item)
        start = answer.get("LastEvaluatedKey")
        if not start:
            return project, tasks


def load_project(principal: Principal, project_id: str, action: str) -> tuple[Project, Reach]:
    reach = require(principal, action)
    try:
        project = Project.get(project_pk(principal.tenant_id, project_id), Project.SORT, consistent_read=True)
    except Project.DoesNotExist as missing:
        raise _hidden("project", project_id) from missing
    if not reaches_project(principal, reach, project):
        raise _hidden("project", project_id)
    return project, reach


def check_project(principal: Principal, reach: Reach, project: Project | None, project_id: str) -> Project:
    if project is None or not reaches_project(principal, reach, project):
        raise _hidden("project", project_id)
    return project


def _project_of(task_id: str) -> str:
    """The project a task lives in: its id starts with the project's."""
    project_id = parent_of(task_id)
    if project_id is None:
        raise _hidden("task", task_id)
    return project_id


def load_task(principal: Principal, task_id: str, action: str) -> tuple[Task, Reach]:
    task, _, _, reach = load_task_with_project(principal, task_id, action)
    return task, reach


def load_task_with_project(
    principal: Principal, task_id: str, action: str, also: Iterable[str] = ()
) -> tuple[Task, Project, dict[str, Task], Reach]:
    """The task, its project and the other tasks named in `also` (same project), in one read."""
    reach = require(principal, action)
    project_id = _project_of(task_id)
    pk = project_pk(principal.tenant_id, project_id)
    items = read_keys([(pk, Project.SORT), (pk, Task.sort_key(task_id)), *((pk, Task.sort_key(t)) for t in also)])
    project = next((item for item in items if isinstance(item, Project)), None)
    tasks = {item.id: item for item in items if isinstance(item, Task)}
    task = tasks.get(task_id)
    if task is None or project is None or project.provisioning or not reaches_task(principal, reach, task):
        raise _hidden("task", task_id)
    return task, project, tasks, reach


def reachable_customer_ids(principal: Principal) -> list[str]:
    """For a member's lists: the customers they own or are on the team of."""
    return customers.reachable_customer_ids(principal)
