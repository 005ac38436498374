from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.auth import Principal
from chalicelib.core.http import Accepted, expected_version, route
from chalicelib.core.models import ListOf, ListQuery
from chalicelib.jobs import service as jobs
from chalicelib.jobs.routes import JobOut, accepted

from . import listing, service, tasks
from .jobs import ARCHIVE_JOB
from .shapes import (
    ActivityOut,
    BoardOut,
    BoardQuery,
    BulkUpdate,
    CreateProject,
    CreateTask,
    DeletedTaskOut,
    GanttOut,
    GanttQuery,
    MoveTask,
    PortfolioQuery,
    ProjectListQuery,
    ProjectOut,
    StatusHistoryOut,
    TaskOut,
    TaskQuery,
    TasksOut,
    UpdateProject,
    UpdateTask,
)

bp = Blueprint(__name__)


def _project(project: Any) -> ProjectOut:
    return ProjectOut.model_validate(service.project_view(project))


def _task(task: Any) -> TaskOut:
    return TaskOut.model_validate(tasks.task_view(task))


def _projects(page: Any) -> ListOf[ProjectOut]:
    return ListOf[ProjectOut](items=[_project(p) for p in page.items], next_cursor=page.next_cursor)


def _entries(model: Any, page: Any) -> Any:
    return ListOf[model](items=[model.model_validate(e.attribute_values) for e in page.items],
                         next_cursor=page.next_cursor)


# ---------- projects ----------


@route(bp, "/customers/{customer_id}/projects", "POST", summary="Create a project (board) for a customer",
       permission="projects:write", body=CreateProject, response=ProjectOut, status=201)
def create_project(principal: Principal, customer_id: str, body: CreateProject) -> ProjectOut:
    project, _ = service.create_project_with_tasks(principal, customer_id, {"name": body.name, **body.changes()})
    return _project(project)


@route(bp, "/customers/{customer_id}/projects", "GET", summary="List a customer's projects",
       permission="projects:read", query=ProjectListQuery, response=ListOf[ProjectOut])
def list_customer_projects(principal: Principal, customer_id: str, query: ProjectListQuery) -> ListOf[ProjectOut]:
    filters = query.model_dump(mode="json", exclude={"limit", "cursor"})
    return _projects(service.list_customer_projects(principal, customer_id, filters, query.limit, query.cursor))


@route(bp, "/projects", "GET", summary="The portfolio: projects across customers", permission="projects:read",
       query=PortfolioQuery, response=ListOf[ProjectOut])
def list_projects(principal: Principal, query: PortfolioQuery) -> ListOf[ProjectOut]:
    filters = query.model_dump(mode="json", exclude={"limit", "cursor"})
    return _projects(service.list_projects(principal, filters, query.limit, query.cursor))


@route(bp, "/projects/{project_id}", "GET", summary="Read a project", permission="projects:read",
       response=ProjectOut)
def get_project(principal: Principal, project_id: str) -> ProjectOut:
    return _project(service.get_project(principal, project_id))


@route(bp, "/projects/{project_id}", "PATCH", summary="Change a project", permission="projects:write",
       body=UpdateProject, response=ProjectOut)
def update_project(principal: Principal, project_id: str, body: UpdateProject) -> ProjectOut:
    return _project(service.update_project(principal, project_id, body.changes(), expected_version(body)))


@route(bp, "/projects/{project_id}", "DELETE",
       summary=f"Archive a project (more than {service.ARCHIVE_IN_REQUEST_TASKS} listed tasks: they leave the "
               "lists in a job, 202)",
       permission="projects:write", response=ProjectOut, accepted=JobOut)
def archive_project(principal: Principal, project_id: str) -> ProjectOut | Accepted:
    try:
        return _project(service.archive_project(principal, project_id, in_request=True))
    except jobs.RunAsJob as signal:
        big = signal
    return accepted(jobs.start(principal, ARCHIVE_JOB, {"project_id": project_id}, big.steps, big.reason))


@route(bp, "/projects/{project_id}/status-history", "GET", summary="Every change of a project's board status",
       permission="projects:read", query=ListQuery, response=ListOf[StatusHistoryOut])
def status_history(principal: Principal, project_id: str, query: ListQuery) -> ListOf[StatusHistoryOut]:
    return _entries(StatusHistoryOut, service.status_history(principal, project_id, query.limit, query.cursor))


@route(bp, "/projects/{project_id}/activity", "GET", summary="A project's task activity, newest first",
       permission="projects:read", query=ListQuery, response=ListOf[ActivityOut])
def project_activity(principal: Principal, project_id: str, query: ListQuery) -> ListOf[ActivityOut]:
    return _entries(ActivityOut, service.project_activity(principal, project_id, query.limit, query.cursor))


@route(bp, "/projects/{project_id}/board", "GET", summary="Kanban: columns in order, tasks by position",
       permission="projects:read", query=BoardQuery, response=BoardOut)
def board(principal: Principal, project_id: str, query: BoardQuery) -> BoardOut:
    return BoardOut.model_validate(service.board(principal, project_id, query.include == "description", query.cursor))


@route(bp, "/projects/{project_id}/gantt", "GET", summary="Gantt: dates, dependencies, conflicts, critical path",
       permission="projects:read", query=GanttQuery, response=GanttOut)
def gantt(principal: Principal, project_id: str, query: GanttQuery) -> GanttOut:
    page = service.gantt_page(principal, project_id, query.include == "description", query.cursor)
    if query.overlay == "activity":
        page["activity"] = service.activity_overlay(principal, page["project"], query.bucket)
    return GanttOut.model_validate(page)


# ---------- tasks ----------


@route(bp, "/projects/{project_id}/tasks", "POST", summary="Add a task to a project", permission="tasks:write",
       body=CreateTask, response=TaskOut, status=201)
def create_task(principal: Principal, project_id: str, body: CreateTask) -> TaskOut:
    return _task(tasks.create_task(principal, project_id, {"title": body.title, **body.changes()}))


@route(bp, "/projects/{project_id}/tasks/bulk", "POST", summary="Change up to 40 tasks at once, all or none",
       permission="tasks:write", body=BulkUpdate, response=TasksOut)
def bulk_update(principal: Principal, project_id: str, body: BulkUpdate) -> TasksOut:
    updates = [update.model_dump(mode="json", exclude_unset=True) for update in body.updates]
    return TasksOut(items=[_task(t) for t in tasks.bulk_update(principal, project_id, updates, body.force)])


@route(bp, "/tasks", "GET", summary="The table view: tasks across the projects you can see",
       permission="tasks:read", query=TaskQuery, response=ListOf[TaskOut])
def list_tasks(principal: Principal, query: TaskQuery) -> ListOf[TaskOut]:
    filters = query.model_dump(mode="json", exclude={"limit", "cursor"})
    page = listing.list_tasks(principal, filters, query.limit, query.cursor)
    return ListOf[TaskOut](items=[_task(t) for t in page.items], next_cursor=page.next_cursor)


@route(bp, "/tasks/{task_id}", "GET", summary="Read a task", permission="tasks:read", response=TaskOut)
def get_task(principal: Principal, task_id: str) -> TaskOut:
    return _task(tasks.get_task(principal, task_id))


@route(bp, "/tasks/{task_id}", "PATCH", summary="Change a task", permission="tasks:update", body=UpdateTask,
       response=TaskOut)
def update_task(principal: Principal, task_id: str, body: UpdateTask) -> TaskOut:
    return _task(tasks.update_task(principal, task_id, body.changes(), expected_version(body), body.force))


@route(bp, "/tasks/{task_id}", "DELETE", summary="Delete a task (and the links others had on it)",
       permission="tasks:write", response=DeletedTaskOut)
def delete_task(principal: Principal, task_id: str) -> DeletedTaskOut:
    return DeletedTaskOut.model_validate({"id": task_id, "removed_dependencies": tasks.delete_task(principal, task_id)})


@route(bp, "/tasks/{task_id}/move", "POST", summary="Move a task to a column and/or between two neighbours",
       permission="tasks:update", body=MoveTask, response=TaskOut)
def move_task(principal: Principal, task_id: str, body: MoveTask) -> TaskOut:
    moved = tasks.move_task(principal, task_id, body.status, body.after_id, body.before_id, body.version, body.force)
    return _task(moved)


@route(bp, "/tasks/{task_id}/activity", "GET", summary="A task's activity, newest first", permission="tasks:read",
       query=ListQuery, response=ListOf[ActivityOut])
def task_activity(principal: Principal, task_id: str, query: ListQuery) -> ListOf[ActivityOut]:
    return _entries(ActivityOut, tasks.task_activity(principal, task_id, query.limit, query.cursor))
