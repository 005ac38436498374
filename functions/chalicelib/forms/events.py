"""Events the forms room publishes (source `bluehill.forms`), each declared once."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.events import EventData


class _Published(EventData):
    """Every event this room publishes: its source (each type then names only its TYPE)."""

    SOURCE: ClassVar[str] = "bluehill.forms"


class FormPublished(_Published):
    """A form's draft was published as an immutable version."""

    TYPE: ClassVar[str] = "Form.Published"
    form_id: str
    form_version: int


class FormAssigned(_Published):
    """A form was put on a customer's portal (with an optional due date)."""

    TYPE: ClassVar[str] = "Form.Assigned"
    form_id: str
    customer_id: str
    due_date: str | None = None


class AnswerLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    answer: str


class SubmitAction(BaseModel):
    """One action the form asks for on this submission, resolved from the answers: a task to
    create (`project_id`, `title`, `description`), a template to apply (`template_id`,
    `anchor_date`), customer fields to set (`changes`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["create_task", "apply_template", "update_customer"]
    project_id: str | None = None
    title: str | None = None
    description: str | None = None
    due_date: str | None = None
    assignee_id: str | None = None
    template_id: str | None = None
    anchor_date: str | None = None
    on_behalf_of: str | None = Field(None, description="the user who published the form: owns what it builds")
    changes: dict[str, Any] | None = None


class FormSubmitted(_Published):
    """A form was submitted (by a portal user or through a link): the customer's timeline shows
    its summary (visibility `shared`: the portal sees it too); its actions run once each, in the
    rooms that own them."""

    TYPE: ClassVar[str] = "Form.Submitted"
    form_id: str
    form_name: str
    form_version: int
    submission_id: str
    customer_id: str | None = None
    contact_id: str | None = None
    channel: Literal["portal", "link"]
    visibility: Literal["shared"] = "shared"
    summary: list[AnswerLine]
    actions: list[SubmitAction] = []
    refused_mappings: list[dict[str, str]] = []


class SurveyResponded(_Published):
    """An NPS, CSAT or CES question was answered in a form: the score, for reports and health."""

    TYPE: ClassVar[str] = "Survey.Responded"
    form_id: str
    submission_id: str
    field_key: str
    kind: Literal["nps", "csat", "ces"]
    score: int
    customer_id: str | None = None
    contact_id: str | None = None


class FormNotificationRequested(_Published):
    """A submission asks that a team member be told (notifications deliver it, later)."""

    TYPE: ClassVar[str] = "FormNotification.Requested"
    form_id: str
    submission_id: str
    assignee_id: str
    message: str
    customer_id: str | None = None
