from __future__ import annotations

from datetime import date as Date
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints, model_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import Accepted, expected_version, header, route
from chalicelib.core.ids import new_id
from chalicelib.core.models import Id, ListOf, ListQuery, LongText, Name, Out, Strict, Tag, Version
from chalicelib.jobs import service as jobs
from chalicelib.jobs.routes import JobOut, accepted

from . import apply, service
from .jobs import APPLY_JOB, REANCHOR_JOB

bp = Blueprint(__name__)

Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
Calendar = Literal["calendar_days", "working_days"]
MAX_TASKS = 200


class TemplateTask(Strict):
    key: Key = Field(description="stable within the template; dependencies and subtasks refer to it")
    title: Name
    description: LongText | None = None
    day: int = Field(ge=-3650, le=3650, description="Day 1 is the anchor date; Day -1 the day before; no Day 0")
    duration_days: int = Field(1, ge=1, le=365)
    weight: int = Field(1, ge=0, le=1000)
    is_milestone: bool = False
    task_type: Tag | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    portal_visible: bool = False
    parent_key: Key | None = None
    depends_on: list[Key] = Field(default_factory=list, max_length=50)
    assignee_role: Slug | None = None


class TaskStatus(Strict):
    name: Slug
    category: Literal["todo", "doing", "done"]


class ProjectDefaults(Strict):
    task_statuses: list[TaskStatus] | None = Field(None, min_length=2, max_length=20)
    status_mode: Literal["auto", "manual"] = "auto"
    portal_visible: bool = False


class TemplateFields(Strict):
    description: LongText | None = None
    calendar: Calendar = Field(None)
    project: ProjectDefaults = Field(None)
    roles: list[Slug] = Field(None, max_length=20)
    tasks: list[TemplateTask] = Field(None, max_length=MAX_TASKS)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True, exclude={"version"})


EXAMPLE_TASKS = [
    {"key": "kickoff", "title": "Kickoff call", "day": 3, "is_milestone": True, "assignee_role": "csm"},
    {"key": "go-live", "title": "Go-live", "day": 14, "depends_on": ["kickoff"], "assignee_role": "csm"},
]


class CreateTemplate(TemplateFields):
    name: Name
    category: Slug = Field(description="onboarding, implementation, kickoff, qbr, renewal, professional_services, "
                                        "or your own")
    tasks: list[TemplateTask] = Field(max_length=MAX_TASKS)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"name": "Pilot onboarding", "category": "onboarding", "roles": ["csm"], "tasks": EXAMPLE_TASKS}]}}


class UpdateTemplate(TemplateFields):
    version: Version = Field(None, description="the version you read; or send If-Match")
    name: Name = Field(None)
    category: Slug = Field(None)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "name": "Renamed"}]}}


class TemplateOut(Out):
    id: str
    name: str
    category: str
    description: str | None
    calendar: Calendar
    project: dict[str, Any]
    roles: list[str]
    tasks: list[dict[str, Any]]
    library_key: str | None
    template_version: int = Field(description="the task definition's version; projects record it")
    archived: bool
    version: int
    created_at: str
    updated_at: str


class TemplateQuery(ListQuery):
    category: Slug | None = None
    include_archived: bool = False


class VersionOut(Out):
    template_id: str
    template_version: int
    calendar: Calendar
    project: dict[str, Any]
    roles: list[str]
    tasks: list[dict[str, Any]]
    created_at: str
    created_by: str


class DiffQuery(Strict):
    from_version: Version | None = Field(None, alias="from")
    to_version: Version | None = Field(None, alias="to")


class DiffOut(Out):
    from_version: int
    to_version: int
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[dict[str, Any]] = Field(description="key and fields: field → {before, after}")


def template_out(template: object) -> TemplateOut:
    return TemplateOut.model_validate(service.template_view(template))  # type: ignore[arg-type]


@route(bp, "/templates", "POST", summary="Create a template", permission="templates:write", body=CreateTemplate,
       response=TemplateOut, status=201)
def create_template(principal: Principal, body: CreateTemplate) -> TemplateOut:
    return template_out(service.create_template(principal, body.changes()))


@route(bp, "/templates", "GET", summary="List templates", permission="templates:read", query=TemplateQuery,
       response=ListOf[TemplateOut])
def list_templates(principal: Principal, query: TemplateQuery) -> ListOf[TemplateOut]:
    page = service.list_templates(principal, query.category, query.include_archived, query.limit, query.cursor)
    return ListOf[TemplateOut](items=[template_out(t) for t in page.items], next_cursor=page.next_cursor)


@route(bp, "/templates/{template_id}", "GET", summary="Get a template", permission="templates:read",
       response=TemplateOut)
def get_template(principal: Principal, template_id: Id) -> TemplateOut:
    return template_out(service.load_template(principal, template_id))


@route(bp, "/templates/{template_id}", "PATCH", summary="Edit a template (task changes make a new version)",
       permission="templates:write", body=UpdateTemplate, response=TemplateOut)
def update_template(principal: Principal, template_id: Id, body: UpdateTemplate) -> TemplateOut:
    return template_out(service.update_template(principal, template_id, body.changes(), expected_version(body)))


@route(bp, "/templates/{template_id}", "DELETE", summary="Archive a template", permission="templates:write",
       response=TemplateOut)
def archive_template(principal: Principal, template_id: Id) -> TemplateOut:
    return template_out(service.archive_template(principal, template_id))


@route(bp, "/templates/{template_id}/versions", "GET", summary="A template's versions, oldest first",
       permission="templates:read", query=ListQuery, response=ListOf[VersionOut])
def list_versions(principal: Principal, template_id: Id, query: ListQuery) -> ListOf[VersionOut]:
    page = service.list_versions(principal, template_id, query.limit, query.cursor)
    items = [VersionOut.model_validate(service.version_view(v)) for v in page.items]
    return ListOf[VersionOut](items=items, next_cursor=page.next_cursor)


@route(bp, "/templates/{template_id}/diff", "GET", summary="What changed between two versions",
       permission="templates:read", query=DiffQuery, response=DiffOut)
def diff_versions(principal: Principal, template_id: Id, query: DiffQuery) -> DiffOut:
    return DiffOut.model_validate(service.diff_versions(principal, template_id, query.from_version, query.to_version))


class TaskInsight(Out):
    key: str
    title: str
    planned_day: int
    completed: int = Field(description="projects in which this task has been completed")
    median_actual_day: float | None
    median_slip_days: float | None
    late_share: float | None = Field(description="share of completions after the task's due date")
    suggestion: str | None = Field(description="set when at least 5 projects show a median slip of 2 days or more")


class VersionCount(Out):
    template_version: int
    count: int


class AnalyticsOut(Out):
    template_id: str
    projects_created: int
    projects_by_version: list[VersionCount]
    projects_completed: int
    median_days_to_completion: float | None = Field(description="days from the anchor to the project's completion")
    on_time_rate: float | None
    tasks: list[TaskInsight]


@route(bp, "/templates/{template_id}/analytics", "GET", summary="How projects made from a template actually went",
       permission="templates:read", response=AnalyticsOut)
def template_analytics(principal: Principal, template_id: Id) -> AnalyticsOut:
    return AnalyticsOut.model_validate(service.analytics(principal, template_id))


class AnchorIn(Strict):
    source: Literal["contract_start", "first_portal_login", "date"] = Field(
        None, description="contract_start: the customer's; first_portal_login: the day the customer first signed in "
                          "to the portal; date: `date`")
    date: Date | None = None

    @model_validator(mode="after")
    def _one_anchor(self) -> AnchorIn:
        if self.source is None:
            self.source = "date" if self.date is not None else "contract_start"
        if (self.source == "date") != (self.date is not None):
            raise ValueError('send {"source": "contract_start" or "first_portal_login"} or {"date": "YYYY-MM-DD"}')
        return self


class ApplyTemplate(Strict):
    customer_id: Id
    anchor: AnchorIn
    project_name: Name | None = None
    role_assignments: dict[Slug, Id] = Field(default_factory=dict, max_length=20,
                                             description="template role → user id; unmapped roles get the "
                                                         "customer's owner")
    skip_task_keys: list[Key] = Field(default_factory=list, max_length=MAX_TASKS)
    follow_anchor: bool = Field(False, description="re-anchor when the customer's contract_start changes")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"customer_id": "01jz8customer", "anchor": {"source": "contract_start"}, "follow_anchor": True,
         "role_assignments": {"csm": "01jz8user"}}]}}


class LinkOut(Out):
    template_id: str
    template_version: int
    calendar: Calendar
    anchor: dict[str, str]
    follow_anchor: bool
    task_keys: dict[str, str] = Field(description="task id → its template key")


class AppliedOut(LinkOut):
    project: dict[str, Any]
    tasks: list[dict[str, Any]]


class Reanchor(Strict):
    anchor_date: Date
    include_edited: bool = Field(False, description="move tasks whose dates a person edited too")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"anchor_date": "2026-06-19"}]}}


class MovedOut(Out):
    project_id: str
    anchor: dict[str, str]
    moved: list[dict[str, Any]] = Field(description="task_id, key, from and to {start_date, due_date}")
    kept: list[dict[str, Any]] = Field(description="template tasks left where a person put them")
    project_dates: dict[str, Any] = Field(description="followed: true and the project's new start_date and "
                                          "due_date (its tasks' span), or followed: false and the reason "
                                          "(a person set them)")


class UpgradeTemplate(Strict):
    dry_run: bool = Field(True, description="true: only show what upgrading would do")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"dry_run": True}]}}


class UpgradeOut(Out):
    project_id: str
    from_version: int
    to_version: int
    dry_run: bool
    added: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    kept: list[dict[str, Any]]


class SaveAsTemplate(Strict):
    name: Name
    category: Slug
    description: LongText | None = None
    calendar: Calendar | None = Field(None, description="default: the project's template's, else calendar_days")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"name": "Enterprise onboarding", "category": "onboarding"}]}}


@route(bp, "/templates/{template_id}/apply", "POST",
       summary=f"Create a customer's project from a template (more than {apply.JOB_THRESHOLD_TASKS} tasks: a job, 202)",
       permission="templates:apply", body=ApplyTemplate, response=AppliedOut, status=201, accepted=JobOut)
def apply_template(principal: Principal, template_id: Id, body: ApplyTemplate) -> AppliedOut | Accepted:
    key = header("idempotency-key")
    try:
        return AppliedOut.model_validate(apply.apply_template(principal, template_id, body.model_dump(), key,
                                                              in_request=True))
    except jobs.RunAsJob as signal:
        big = signal
    # Keyed even without an Idempotency-Key, so a retried attempt finishes the project it began.
    return accepted(jobs.start(principal, APPLY_JOB, {
        "template_id": template_id, "request": body.model_dump(mode="json"), "request_key": key or new_id(),
    }, big.steps, big.reason))


@route(bp, "/projects/{project_id}/reanchor", "POST",
       summary=f"Move a template-made project to a new anchor date (more than {apply.JOB_THRESHOLD_TASKS} tasks: "
               "a job, 202)",
       permission="templates:apply", body=Reanchor, response=MovedOut, accepted=JobOut)
def reanchor(principal: Principal, project_id: Id, body: Reanchor) -> MovedOut | Accepted:
    try:
        return MovedOut.model_validate(apply.reanchor(principal, project_id, body.anchor_date, body.include_edited,
                                                      in_request=True))
    except jobs.RunAsJob as signal:
        big = signal
    return accepted(jobs.start(principal, REANCHOR_JOB, {
        "project_id": project_id, "anchor_date": body.anchor_date.isoformat(),
        "include_edited": body.include_edited}, big.steps, big.reason))


@route(bp, "/projects/{project_id}/upgrade-template", "POST",
       summary="Preview (dry_run) or apply the template's latest version to a project",
       permission="templates:apply", body=UpgradeTemplate, response=UpgradeOut)
def upgrade_template(principal: Principal, project_id: Id, body: UpgradeTemplate) -> UpgradeOut:
    return UpgradeOut.model_validate(apply.upgrade_template(principal, project_id, body.dry_run))


@route(bp, "/projects/{project_id}/save-as-template", "POST", summary="Turn a project's tasks into a template",
       permission="templates:write", body=SaveAsTemplate, response=TemplateOut, status=201)
def save_as_template(principal: Principal, project_id: Id, body: SaveAsTemplate) -> TemplateOut:
    return template_out(apply.save_as_template(principal, project_id, body.model_dump(exclude_none=True)))
