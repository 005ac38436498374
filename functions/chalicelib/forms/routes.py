from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from chalice import Blueprint, Response
from pydantic import Field, StringConstraints

from chalicelib.core.auth import Principal
from chalicelib.core.errors import NotFound
from chalicelib.core.http import client_ip, expected_version, json_response, route
from chalicelib.core.models import Id, ListOf, ListQuery, Name, Out, Strict, TextBlock, Version

from . import service, stats, submit
from .fields import FieldDef

bp = Blueprint(__name__)

Template = Annotated[TextBlock, StringConstraints(min_length=1, max_length=2000)]
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
CustomerTarget = Annotated[str, StringConstraints(pattern=r"^([a-z_]{1,40}|custom_fields\.[a-z][a-z0-9_]{0,39})$")]

EXAMPLE_FIELDS = [
    {"key": "company", "type": "short_text", "label": "Company", "required": True, "max_length": 200},
    {"key": "plan", "type": "dropdown", "label": "Plan", "options": ["Basic", "Pro"]},
    {"key": "seats", "type": "number", "label": "Seats", "min_value": 1,
     "show_if": {"field": "plan", "op": "equals", "value": "Pro"}},
]


class CreateTaskAction(Strict):
    type: Literal["create_task"]
    project_id: Id
    title: Template = Field(description="placeholders {{answers.<field key>}}")
    description: Template | None = None
    due_in_days: int | None = Field(None, ge=0, le=3650)
    assignee_id: Id | None = None


class ApplyTemplateAction(Strict):
    type: Literal["apply_template"]
    template_id: Id
    anchor_field: FieldKey = Field(description="a date field: the template's Day 1")


class Mapping(Strict):
    field: FieldKey
    target: CustomerTarget


class UpdateCustomerAction(Strict):
    type: Literal["update_customer"]
    mappings: list[Mapping] = Field(min_length=1, max_length=30)


class NotifyAction(Strict):
    type: Literal["notify"]
    assignee_id: Id
    message: Template | None = None


Action = Annotated[CreateTaskAction | ApplyTemplateAction | UpdateCustomerAction | NotifyAction,
                   Field(discriminator="type")]


class FormBody(Strict):
    description: Annotated[TextBlock, StringConstraints(max_length=2000)] | None = None
    fields: list[FieldDef] = Field(None, max_length=service.MAX_FIELDS)
    actions: list[Action] = Field(None, max_length=20)


class CreateForm(FormBody):
    name: Name
    fields: list[FieldDef] = Field(default_factory=list, max_length=service.MAX_FIELDS)
    actions: list[Action] = Field(default_factory=list, max_length=20)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"name": "Kick-off questionnaire", "fields": EXAMPLE_FIELDS}]}}


class UpdateForm(FormBody):
    name: Name | None = None
    version: Version | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"name": "Renamed form", "version": 1}]}}


class FormOut(Out):
    id: str
    name: str
    description: str | None
    fields: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    published_version: int | None
    status: str
    version: int
    created_at: str
    updated_at: str


class VersionOut(Out):
    form_id: str
    version: int
    name: str
    description: str | None
    fields: list[dict[str, Any]]
    actions: list[dict[str, Any]] | None = None
    published_at: str
    published_by: str | None = None
    prefill: dict[str, Any] | None = None
    due_date: str | None = None


class FormsQuery(ListQuery):
    status: Literal["active", "archived"] = "active"


class AssignForm(Strict):
    customer_id: Id
    due_date: date | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"customer_id": "01hzzzzzzzzzzzzzzzzzzzzzzz", "due_date": "2026-12-15"}]}}


class AssignmentOut(Out):
    form_id: str
    form_name: str
    customer_id: str
    due_date: str | None
    assigned_at: str
    submitted_at: str | None
    submission_id: str | None


class CreateLink(Strict):
    customer_id: Id | None = None
    contact_id: Id | None = None
    expires_at: datetime | None = Field(None, description="default: 30 days from now")
    single_use: bool = False
    prefill: dict[FieldKey, Annotated[str, StringConstraints(max_length=500)]] | None = Field(None, max_length=20)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"single_use": True}]}}


class LinkOut(Out):
    id: str
    form_id: str
    token: str
    path: str
    customer_id: str | None
    contact_id: str | None
    single_use: bool
    expires_at: str
    prefill: dict[str, Any]


class SubmitForm(Strict):
    answers: dict[str, Any] = Field(max_length=service.MAX_FIELDS)

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"answers": {"company": "Acme"}}]}}


class SubmissionOut(Out):
    id: str
    form_id: str
    form_version: int
    channel: str
    customer_id: str | None
    contact_id: str | None
    answers: dict[str, Any]
    refused_mappings: list[dict[str, Any]]
    submitted_at: str


class SubmissionsQuery(ListQuery):
    format: Literal["json", "csv"] = "json"


class AnalyticsQuery(Strict):
    version: int | None = Field(None, ge=1, le=1_000_000)


class AnalyticsOut(Out):
    form_id: str
    version: int
    opened: int
    submitted: int
    completion_rate: float | None
    channels: dict[str, Any]
    fields: list[dict[str, Any]]
    versions: list[dict[str, Any]]


def _form(form: Any) -> FormOut:
    return FormOut.model_validate(service.form_view(form))


def _changes(body: FormBody) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_unset=True, exclude={"version"}, exclude_none=False)


@route(bp, "/forms", "POST", summary="Create a form (a draft)", permission="forms:write", body=CreateForm,
       response=FormOut, status=201)
def create_form(principal: Principal, body: CreateForm) -> FormOut:
    return _form(service.create_form(principal, body.model_dump(mode="json", exclude_none=True)))


@route(bp, "/forms", "GET", summary="List forms", permission="forms:read", query=FormsQuery, response=ListOf[FormOut])
def list_forms(principal: Principal, query: FormsQuery) -> ListOf[FormOut]:
    page = service.list_forms(principal, query.status, query.limit, query.cursor)
    return ListOf[FormOut](items=[_form(form) for form in page.items], next_cursor=page.next_cursor)


@route(bp, "/forms/{form_id}", "GET", summary="A form: the draft (team) or the live version (portal)",
       permission="forms:read", response=FormOut)
def get_form(principal: Principal, form_id: str) -> FormOut | VersionOut:
    if principal.role == "portal":
        return VersionOut.model_validate(submit.form_for_portal(principal, form_id))
    return _form(service.get_form(principal, form_id))


@route(bp, "/forms/{form_id}", "PATCH", summary="Edit a form's draft", permission="forms:write", body=UpdateForm,
       response=FormOut)
def update_form(principal: Principal, form_id: str, body: UpdateForm) -> FormOut:
    return _form(service.update_form(principal, form_id, _changes(body), expected_version(body)))


@route(bp, "/forms/{form_id}", "DELETE", summary="Archive a form", permission="forms:write", response=FormOut)
def archive_form(principal: Principal, form_id: str) -> FormOut:
    return _form(service.archive_form(principal, form_id))


@route(bp, "/forms/{form_id}/publish", "POST", summary="Publish the draft as the next version",
       permission="forms:write", response=VersionOut, status=201)
def publish_form(principal: Principal, form_id: str) -> VersionOut:
    return VersionOut.model_validate(service.version_view(service.publish_form(principal, form_id)))


@route(bp, "/forms/{form_id}/versions/{n}", "GET", summary="A published version", permission="forms:read",
       response=VersionOut)
def get_version(principal: Principal, form_id: str, n: str) -> VersionOut:
    if not n.isdigit() or not 1 <= int(n) <= 1_000_000:
        raise NotFound(f"form {form_id} has no version {n}")
    version = service.get_version(principal, form_id, int(n))
    view = service.public_version_view(version) if principal.role == "portal" else service.version_view(version)
    return VersionOut.model_validate(view)


@route(bp, "/forms/{form_id}/assignments", "POST", summary="Put the form on a customer's portal",
       permission="forms:share", body=AssignForm, response=AssignmentOut, status=201)
def assign_form(principal: Principal, form_id: str, body: AssignForm) -> AssignmentOut:
    due = body.due_date.isoformat() if body.due_date else None
    return AssignmentOut.model_validate(service.assignment_view(
        service.assign_form(principal, form_id, body.customer_id, due)))


@route(bp, "/forms/{form_id}/links", "POST", summary="Create a signed link to the form", permission="forms:share",
       body=CreateLink, response=LinkOut, status=201)
def create_link(principal: Principal, form_id: str, body: CreateLink) -> LinkOut:
    return LinkOut.model_validate(service.create_link(principal, form_id, body.model_dump()))


@route(bp, "/forms/{form_id}/submissions", "POST", summary="Submit the form (portal)", permission="forms:submit",
       body=SubmitForm, response=SubmissionOut, status=201)
def submit_form(principal: Principal, form_id: str, body: SubmitForm) -> SubmissionOut:
    return SubmissionOut.model_validate(submit.submit_by_portal(principal, form_id, body.answers, client_ip()))


@route(bp, "/forms/{form_id}/submissions", "GET", summary="A form's submissions (JSON, or ?format=csv)",
       permission="forms:results", query=SubmissionsQuery, response=ListOf[SubmissionOut], media_type="text/csv")
def list_submissions(principal: Principal, form_id: str, query: SubmissionsQuery) -> Response:
    page = submit.list_submissions(principal, form_id, query.limit, query.cursor)
    if query.format == "csv":
        headers = {"Content-Type": "text/csv; charset=utf-8",
                   "Content-Disposition": f'attachment; filename="form-{form_id}-submissions.csv"'}
        if page.next_cursor:
            headers["X-Next-Cursor"] = page.next_cursor
        return Response(body=submit.submissions_csv(principal, form_id, page.items), status_code=200,
                        headers=headers)
    return json_response({"items": [submit.submission_view(s) for s in page.items], "next_cursor": page.next_cursor})


@route(bp, "/forms/{form_id}/analytics", "GET", summary="Answers, blank and completion rates per version",
       permission="forms:results", query=AnalyticsQuery, response=AnalyticsOut)
def form_analytics(principal: Principal, form_id: str, query: AnalyticsQuery) -> AnalyticsOut:
    return AnalyticsOut.model_validate(stats.analytics(principal, form_id, query.version))


# ---------- public: the signed link is the credential ----------

@route(bp, "/public/forms/{token}", "GET", summary="Open a form through its signed link (no login)", public=True,
       response=VersionOut)
def open_by_link(token: str) -> VersionOut:
    return VersionOut.model_validate(submit.form_by_link(token, client_ip()))


@route(bp, "/public/forms/{token}/submissions", "POST", summary="Submit a form through its signed link (no login)",
       public=True, body=SubmitForm, response=SubmissionOut, status=201, max_body_bytes=submit.PUBLIC_BODY_BYTES)
def submit_by_link(token: str, body: SubmitForm) -> SubmissionOut:
    return SubmissionOut.model_validate(submit.submit_by_link(token, body.answers, client_ip()))
