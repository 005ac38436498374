from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field, StringConstraints, model_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import if_match_version, route
from chalicelib.core.models import Id, Instant, ListOf, ListQuery, Name, Out, Strict, TextBlock, Version

from . import dates, listing, service, stats

bp = Blueprint(__name__)

Bucket = Literal["overdue", "due_today", "upcoming"]
Preset = Literal["tomorrow", "3_days", "1_week", "2_weeks"]
Note = Annotated[TextBlock, StringConstraints(min_length=1, max_length=2000)]
AssigneeFilter = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
DateOrInstant = Annotated[str, StringConstraints(
    pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$")]


def _when(text: str, name: str) -> date | datetime:
    try:
        return dates.parse_instant(text) if "T" in text else date.fromisoformat(text)
    except ValueError as bad:
        raise ValueError(f"{name} is not a valid date or instant") from bad


class CreateFollowUp(Strict):
    customer_id: Id
    title: Name
    due_date: date | None = Field(None, description="due by the end of this day, in the assignee's timezone")
    due_at: Instant | None = Field(None, description="due at this instant (UTC)")
    assignee_id: Id | None = Field(None, description="default: the caller")
    interaction_id: Id | None = None
    ticket_id: Id | None = None
    project_id: Id | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"customer_id": "01hxcustomer", "title": "Send the renewal quote", "due_date": "2026-12-10"}]}}

    @model_validator(mode="after")
    def _one_due(self) -> CreateFollowUp:
        if (self.due_date is None) == (self.due_at is None):
            raise ValueError("send either due_date or due_at")
        if self.due_at is not None:
            _when(self.due_at, "due_at")
        return self


class NextFollowUp(Strict):
    title: Name
    due_date: date
    assignee_id: Id | None = Field(None, description="default: the caller")


class Postpone(Strict):
    preset: Preset | None = None
    until: DateOrInstant | None = Field(None, description="a date (due by its end) or an instant")
    reason: Note
    version: Version | None = Field(None, description="the version you read (or If-Match); checked when sent")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"preset": "1_week", "reason": "Customer is on holiday"}]}}

    @model_validator(mode="after")
    def _one_target(self) -> Postpone:
        if (self.preset is None) == (self.until is None):
            raise ValueError("send either preset or until")
        if self.until is not None:
            _when(self.until, "until")
        return self


class Complete(Strict):
    resolution: Note
    next: list[NextFollowUp] = Field(default_factory=list, max_length=service.MAX_NEXT)
    version: Version | None = Field(None, description="the version you read (or If-Match); checked when sent")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"resolution": "Quote sent", "next": [{"title": "Chase the signature", "due_date": "2026-12-20"}]}]}}


class Cancel(Strict):
    reason: Note
    version: Version | None = Field(None, description="the version you read (or If-Match); checked when sent")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"reason": "Deal lost"}]}}


class HistoryOut(Out):
    action: Literal["created", "postponed", "overdue", "completed", "cancelled"]
    at: str
    by: str | None = None
    from_: str | None = Field(None, alias="from", description="postponed: the due instant before")
    to: str | None = Field(None, description="the due instant after")
    from_due_date: str | None = None
    to_due_date: str | None = None
    reason: str | None = None
    resolution: str | None = None
    next_ids: list[str] = Field(default_factory=list)

    model_config = Out.model_config | {"populate_by_name": True, "serialize_by_alias": True}


class FollowUpOut(Out):
    id: str
    customer_id: str
    interaction_id: str | None = None
    ticket_id: str | None = None
    project_id: str | None = None
    previous_id: str | None = None
    title: str
    status: Literal["open", "overdue", "completed", "cancelled"]
    assignee_id: str
    created_by: str | None = None
    due_at: str
    due_date: str
    all_day: bool
    timezone: str = Field(description="the assignee's timezone when the due time was set")
    postponements: int
    overdue_at: str | None = None
    completed_at: str | None = None
    completed_by: str | None = None
    resolution: str | None = None
    cancelled_at: str | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    version: int
    created_at: str
    updated_at: str
    history: list[HistoryOut] | None = Field(None, description="on a single follow-up: everything that happened")


class CompletedOut(FollowUpOut):
    next: list[FollowUpOut] = Field(default_factory=list, description="the follow-ups created with the completion")


class FollowUpPage(ListOf[FollowUpOut]):
    timezone: str = Field(description="the timezone the buckets were computed in (the assignee's)")


class FollowUpQuery(ListQuery):
    assignee_id: AssigneeFilter | None = Field(None, description="a user id or `me` (default, unless customer_id)")
    customer_id: Id | None = None
    bucket: Bucket | None = None
    upcoming_days: int = Field(14, ge=1, le=366)


class ReportQuery(Strict):
    group_by: Literal["assignee", "weekday", "customer"]
    from_: date = Field(alias="from", description="first cohort day (follow-ups created on it, assignee's time)")
    to: date

    @model_validator(mode="after")
    def _range(self) -> ReportQuery:
        if self.to < self.from_:
            raise ValueError("to must not be before from")
        if (self.to - self.from_).days >= stats.MAX_RANGE_DAYS:
            raise ValueError(f"a report covers at most {stats.MAX_RANGE_DAYS} days")
        return self


class ReportRow(Out):
    key: str
    created: int
    completed: int
    completed_on_time: int
    completed_late: int
    cancelled: int
    overdue: int
    postponements: int
    completion_rate: float | None
    on_time_rate: float | None
    median_days_late: float | None = Field(description="of the late completions; more than 90 days count as 91")
    postponements_per_follow_up: float | None


class ReportOut(Out):
    group_by: str
    from_: str = Field(alias="from")
    to: str
    groups: list[ReportRow]
    totals: ReportRow

    model_config = Out.model_config | {"populate_by_name": True, "serialize_by_alias": True}


def _out(follow_up: Any, history: list[Any] | None = None, model: type[FollowUpOut] = FollowUpOut,
         **extra: Any) -> Any:
    values = dict(follow_up.attribute_values)
    if history is not None:
        values["history"] = [service.history_view(entry) for entry in sorted(history, key=lambda e: e.SK)]
    return model.model_validate({**values, **extra})


def _version(body: Any) -> int | None:
    return body.version if body.version is not None else if_match_version()


@route(bp, "/follow-ups", "POST", summary="Create a follow-up", permission="followups:write", body=CreateFollowUp,
       response=FollowUpOut, status=201)
def create_follow_up(principal: Principal, body: CreateFollowUp) -> FollowUpOut:
    draft = service.Draft(customer_id=body.customer_id, title=body.title,
                          assignee_id=body.assignee_id or principal.user_id, due_date=body.due_date,
                          due_at=dates.parse_instant(body.due_at) if body.due_at else None,
                          interaction_id=body.interaction_id, ticket_id=body.ticket_id, project_id=body.project_id)
    follow_up = service.create_follow_up(principal, draft)
    return _out(follow_up)


@route(bp, "/follow-ups", "GET", summary="Open follow-ups by due time; buckets in the assignee's timezone",
       permission="followups:read", query=FollowUpQuery, response=FollowUpPage)
def list_follow_ups(principal: Principal, query: FollowUpQuery) -> FollowUpPage:
    page, timezone = listing.list_follow_ups(principal, query.assignee_id, query.customer_id, query.bucket,
                                             query.upcoming_days, query.limit, query.cursor)
    return FollowUpPage(items=[_out(f) for f in page.items], next_cursor=page.next_cursor, timezone=timezone)


@route(bp, "/follow-ups/{follow_up_id}", "GET", summary="A follow-up with its full history",
       permission="followups:read", response=FollowUpOut)
def get_follow_up(principal: Principal, follow_up_id: str) -> FollowUpOut:
    return _out(*service.get_follow_up(principal, follow_up_id))


@route(bp, "/follow-ups/{follow_up_id}/postpone", "POST", summary="Postpone a follow-up (a reason is kept)",
       permission="followups:update", body=Postpone, response=FollowUpOut)
def postpone(principal: Principal, follow_up_id: str, body: Postpone) -> FollowUpOut:
    until = _when(body.until, "until") if body.until else None
    return _out(*service.postpone(principal, follow_up_id, body.preset, until, body.reason, _version(body)))


@route(bp, "/follow-ups/{follow_up_id}/complete", "POST",
       summary="Complete a follow-up, creating the next ones in the same change",
       permission="followups:update", body=Complete, response=CompletedOut)
def complete(principal: Principal, follow_up_id: str, body: Complete) -> CompletedOut:
    steps = [step.model_dump() for step in body.next]
    done, history, created = service.complete(principal, follow_up_id, body.resolution, steps, _version(body))
    return _out(done, history, CompletedOut, next=[_out(f).model_dump() for f in created])


@route(bp, "/follow-ups/{follow_up_id}/cancel", "POST", summary="Cancel a follow-up (a reason is kept)",
       permission="followups:update", body=Cancel, response=FollowUpOut)
def cancel(principal: Principal, follow_up_id: str, body: Cancel) -> FollowUpOut:
    return _out(*service.cancel(principal, follow_up_id, body.reason, _version(body)))


@route(bp, "/reports/follow-ups", "GET", summary="Follow-up figures by assignee, weekday or customer",
       permission="followups:report", query=ReportQuery, response=ReportOut)
def follow_up_report(principal: Principal, query: ReportQuery) -> ReportOut:
    return ReportOut.model_validate(stats.report(principal.tenant_id, query.group_by, query.from_, query.to))
