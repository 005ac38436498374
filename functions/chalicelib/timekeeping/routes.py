"""The time room's HTTP surface: timers, time entries, weekly timesheets, the room's settings
and rate rules, and the time report."""

from __future__ import annotations

import json
from datetime import date as Date
from typing import Annotated, Any, Literal

from chalice import Blueprint, Response
from pydantic import Field, RootModel, StrictBool, StrictInt, StringConstraints, field_validator, model_validator

from chalicelib.core.auth import Principal
from chalicelib.core.errors import validation_error
from chalicelib.core.http import expected_version, route
from chalicelib.core.models import Currency, Id, Instant, ListOf, ListQuery, LongText, Out, Strict, VersionFromZero
from chalicelib.core.permissions import sees_financials
from chalicelib.core.spreadsheet import csv_response

from . import entries, reports, rules, settings, timers, timesheets
from .events import EntryFields

bp = Blueprint(__name__)

Category = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
Week = Annotated[str, StringConstraints(pattern=r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")]
Minutes = Annotated[StrictInt, Field(ge=1, le=entries.MAX_MINUTES)]
Status = Literal["open", "submitted", "approved", "invoiced"]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
MAX_MAP = 500


class _Target(Strict):
    task_id: Id | None = None
    ticket_id: Id | None = None
    interaction_id: Id | None = None
    customer_id: Id | None = None
    notes: LongText | None = None


class StartTimer(_Target):
    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"customer_id": "01hxcustomer", "notes": "Kickoff call"}]}}


class StopTimer(Strict):
    minutes: Minutes | None = Field(None, description="required for a stale timer (past 12 hours)")
    billable: StrictBool | None = None
    category: Category | None = None
    notes: LongText | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"notes": "Done"}]}}


class CreateEntry(_Target):
    user_id: Id | None = Field(None, description="owners and admins may record time for someone else")
    date: Date | None = None
    minutes: Minutes | None = None
    started_at: Instant | None = None
    ended_at: Instant | None = None
    billable: StrictBool | None = Field(None, description="a manual choice (billable_source manual)")
    category: Category | None = None
    interaction_type: Category | None = Field(None, description="suggests the category of an interaction's time")

    @model_validator(mode="after")
    def _one_way(self) -> CreateEntry:
        if (self.started_at is None) != (self.ended_at is None):
            raise ValueError("send started_at and ended_at together")
        if self.started_at is None and (self.date is None or self.minutes is None):
            raise ValueError("send date and minutes, or started_at and ended_at")
        return self

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"customer_id": "01hxcustomer", "date": "2026-06-01", "minutes": 90, "notes": "QBR prep"}]}}


class UpdateEntry(Strict):
    version: VersionFromZero = Field(None, description="the version you read; or send If-Match")
    date: Date = Field(None)
    minutes: Minutes = Field(None)
    started_at: Instant = Field(None)
    ended_at: Instant = Field(None)
    billable: StrictBool = Field(None)
    category: Category = Field(None)
    notes: LongText | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"version": 1, "minutes": 45}]}}


class EntryOut(Out, EntryFields):
    """A time entry as contractors see it: no rate, no amount (FinancialEntryOut adds them)."""

    status: Status
    ended_at: str | None = None
    notes: str | None = None
    created_at: str
    updated_at: str


class FinancialEntryOut(EntryOut):
    rate: int = Field(description="minor units per hour; absent for contractors")
    rate_source: str
    amount: int = Field(description="minor units; absent for contractors")
    currency: str


def _entry_model(principal: Principal) -> type[EntryOut]:
    return FinancialEntryOut if sees_financials(principal) else EntryOut


class EntryQuery(ListQuery):
    user_id: Id | None = None
    customer_id: Id | None = None
    project_id: Id | None = None
    task_id: Id | None = None
    from_: Date | None = Field(None, alias="from")
    to: Date | None = None
    billable: bool | None = None
    status: Status | None = None
    format: Literal["json", "csv"] = "json"

    model_config = ListQuery.model_config | {"populate_by_name": True}

    @field_validator("to")
    @classmethod
    def _range(cls, value: Date | None, info: Any) -> Date | None:
        start = info.data.get("from_")
        if value is not None and start is not None and value < start:
            raise ValueError("to must not be before from")
        return value

    def filters(self) -> dict[str, Any]:
        values = self.model_dump(mode="json", exclude={"limit", "cursor", "format"}, by_alias=True)
        return {k: v for k, v in values.items() if v is not None}


class TimerOut(Out):
    id: str
    user_id: str
    started_at: str
    customer_id: str
    project_id: str | None = None
    task_id: str | None = None
    ticket_id: str | None = None
    interaction_id: str | None = None
    notes: str | None = None
    elapsed_minutes: int
    stale: bool


class CurrentTimerOut(RootModel[TimerOut | None]):
    """Your running timer, or null."""


class StoppedOut(Out):
    timer: TimerOut
    entry: dict[str, Any] = Field(description="the time entry (as GET /time-entries/{entry_id} shows it)")


class StartedOut(Out):
    timer: TimerOut
    stopped: StoppedOut | None = Field(None, description="the timer that was running, stopped into its entry")


class Rerate(Strict):
    dry_run: StrictBool = True
    user_id: Id | None = None
    customer_id: Id | None = None
    project_id: Id | None = None
    from_: Date | None = Field(None, alias="from")
    to: Date | None = None

    model_config = Strict.model_config | {"populate_by_name": True, "json_schema_extra": {"examples": [
        {"dry_run": True, "customer_id": "01hxcustomer"}]}}


class RerateOut(Out):
    dry_run: bool
    count: int
    changes: list[dict[str, Any]]


class TimesheetQuery(ListQuery):
    user_id: Id | None = None
    week: Week | None = None
    status: Literal["open", "submitted", "approved", "rejected"] | None = None


class TimesheetOut(Out):
    id: str
    user_id: str
    week: str
    starts_on: str
    ends_on: str
    status: str
    version: int
    submitted_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    reason: str | None = None
    entry_count: int
    entry_statuses: dict[str, int]
    totals: dict[str, Any]
    history: list[dict[str, Any]]


class WithReason(Strict):
    reason: Reason
    version: VersionFromZero | None = None

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"reason": "Missing Friday"}]}}


class WithVersion(Strict):
    version: VersionFromZero | None = Field(None, description="the version you read (optional)")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{}]}}


class TaskTypeSetting(Strict):
    billable: StrictBool | None = None
    category: Category | None = None


class Rounding(Strict):
    increment: Literal[1, 6, 10, 15, 30] = 1
    mode: Literal["up", "nearest", "down"] = "up"


class TimeSettingsBody(Strict):
    version: VersionFromZero = Field(description="the version you read (0 before the first PUT)")
    default_billable: StrictBool = True
    task_types: dict[Category, TaskTypeSetting] = Field(default_factory=dict, max_length=MAX_MAP)
    projects: dict[Id, StrictBool] = Field(default_factory=dict, max_length=MAX_MAP)
    customers: dict[Id, StrictBool] = Field(default_factory=dict, max_length=MAX_MAP)
    interaction_types: dict[Category, Category] = Field(default_factory=dict, max_length=100)
    categories: list[Category] = Field(default_factory=list, max_length=50)
    self_approval: StrictBool = False
    rounding: Rounding = Field(default_factory=Rounding)

    @model_validator(mode="after")
    def _known_categories(self) -> TimeSettingsBody:
        known = {*rules.BUILT_IN_CATEGORIES, *self.categories}
        for name, spec in self.task_types.items():
            if spec.category is not None and spec.category not in known:
                raise ValueError(f"task_types.{name}.category {spec.category!r} is not a category")
        for name, category in self.interaction_types.items():
            if category not in known:
                raise ValueError(f"interaction_types.{name} {category!r} is not a category")
        return self

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"version": 0, "default_billable": True, "task_types": {"kickoff": {"billable": True,
                                                                             "category": "onboarding"}},
         "customers": {"01hxcustomer": False}, "self_approval": True,
         "rounding": {"increment": 15, "mode": "up"}}]}}


class TimeSettingsOut(Out):
    version: int
    default_billable: bool
    task_types: dict[str, Any]
    projects: dict[str, bool]
    customers: dict[str, bool]
    interaction_types: dict[str, str]
    categories: list[str]
    all_categories: list[str]
    self_approval: bool
    rounding: dict[str, Any]
    timezone: str
    week_start: str


class RateRule(Strict):
    user_id: Id | None = None
    project_id: Id | None = None
    customer_id: Id | None = None
    amount: StrictInt = Field(ge=0, le=10**9, description="minor units per hour")
    currency: Currency

    @model_validator(mode="after")
    def _one_scope(self) -> RateRule:
        if self.project_id and self.customer_id:
            raise ValueError("a rate rule names a project or a customer, not both")
        return self


class RatesBody(Strict):
    version: VersionFromZero = Field(description="the version you read (0 before the first PUT)")
    rules: list[RateRule] = Field(max_length=1000)

    @field_validator("rules")
    @classmethod
    def _distinct(cls, value: list[RateRule]) -> list[RateRule]:
        seen = set()
        for rule in value:
            key = (rule.user_id, rule.project_id, rule.customer_id)
            if key in seen:
                raise ValueError(f"two rules for the same scope {key}")
            seen.add(key)
        return value

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [
        {"version": 0, "rules": [{"amount": 15000, "currency": "USD"},
                                 {"customer_id": "01hxcustomer", "amount": 18000, "currency": "USD"}]}]}}


class RatesOut(Out):
    version: int
    rules: list[dict[str, Any]]


class TimeReportQuery(Strict):
    group_by: Literal["customer", "project", "member", "category", "task_type", "week"] = "customer"
    from_: Date = Field(alias="from")
    to: Date
    billable: bool | None = None
    format: Literal["json", "csv"] = "json"

    model_config = Strict.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _range(self) -> TimeReportQuery:
        if self.to < self.from_:
            raise ValueError("to must not be before from")
        if (self.to - self.from_).days > 400:
            raise ValueError("a report covers at most 400 days")
        return self


class TimeReportOut(Out):
    group_by: str
    period: dict[str, str] = Field(description="the report's `from` and `to` dates")
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


# ---------- timers ----------

def _entry(principal: Principal, view: dict[str, Any]) -> EntryOut:
    return _entry_model(principal).model_validate(view)


@route(bp, "/timers", "POST", summary="Start a timer (a running one is stopped into its entry)",
       permission="time:write", body=StartTimer, response=StartedOut, status=201)
def start_timer(principal: Principal, body: StartTimer) -> StartedOut:
    return StartedOut.model_validate(timers.start(principal, body.model_dump(exclude_none=True)))


@route(bp, "/timers/current", "GET", summary="Your running timer, or null", permission="time:read",
       response=CurrentTimerOut)
def current_timer(principal: Principal) -> Any:
    timer = timers.current(principal)
    body = None if timer is None else TimerOut.model_validate(timers.timer_view(timer)).model_dump(mode="json")
    return Response(body=json.dumps(body), status_code=200, headers={"Content-Type": "application/json"})


@route(bp, "/timers/{timer_id}/stop", "POST", summary="Stop your timer into a time entry", permission="time:write",
       body=StopTimer, response=FinancialEntryOut)
def stop_timer(principal: Principal, timer_id: str, body: StopTimer) -> EntryOut:
    return _entry(principal, timers.stop(principal, timer_id, body.model_dump(exclude_none=True)))


@route(bp, "/timers/{timer_id}", "DELETE", summary="Discard your timer (no entry)", permission="time:write",
       status=204)
def discard_timer(principal: Principal, timer_id: str) -> None:
    timers.discard(principal, timer_id)


# ---------- entries ----------

@route(bp, "/time-entries", "POST", summary="Record time", permission="time:write", body=CreateEntry,
       response=FinancialEntryOut, status=201)
def create_entry(principal: Principal, body: CreateEntry) -> EntryOut:
    fields = body.model_dump(mode="json", exclude_none=True)
    entry = entries.create_entry(principal, fields)
    return _entry(principal, entries.entry_views(principal, [entry])[0])


@route(bp, "/time-entries", "GET", summary="List time entries (or ?format=csv)", permission="time:read",
       query=EntryQuery, response=ListOf[FinancialEntryOut])
def list_entries(principal: Principal, query: EntryQuery) -> Any:
    if query.format == "csv":
        columns, rows = entries.entries_csv(principal, query.filters())
        return csv_response("time-entries.csv", columns, rows)
    page = entries.list_entries(principal, query.filters(), query.limit, query.cursor)
    model = _entry_model(principal)
    return ListOf[model](items=[model.model_validate(v) for v in page.items],  # type: ignore[valid-type]
                         next_cursor=page.next_cursor)


@route(bp, "/time-entries/rerate", "POST", summary="Re-rate unapproved entries with today's rules (dry run default)",
       permission="time:rerate", body=Rerate, response=RerateOut)
def rerate(principal: Principal, body: Rerate) -> RerateOut:
    filters = {k: v for k, v in body.model_dump(mode="json", by_alias=True, exclude={"dry_run"}).items() if v}
    return RerateOut.model_validate(entries.rerate(principal, filters, body.dry_run))


@route(bp, "/time-entries/{entry_id}", "GET", summary="Read a time entry", permission="time:read",
       response=FinancialEntryOut)
def get_entry(principal: Principal, entry_id: str) -> EntryOut:
    return _entry(principal, entries.get_entry(principal, entry_id))


@route(bp, "/time-entries/{entry_id}", "PATCH", summary="Change a time entry (version-checked)",
       permission="time:write", body=UpdateEntry, response=FinancialEntryOut)
def update_entry(principal: Principal, entry_id: str, body: UpdateEntry) -> EntryOut:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    for name in ("date", "minutes", "started_at", "ended_at", "billable", "category"):
        if name in changes and changes[name] is None:
            raise validation_error(name, "must not be null")
    return _entry(principal, entries.update_entry(principal, entry_id, changes, expected_version(body)))


@route(bp, "/time-entries/{entry_id}", "DELETE", summary="Delete a time entry", permission="time:write", status=204)
def delete_entry(principal: Principal, entry_id: str) -> None:
    entries.delete_entry(principal, entry_id)


# ---------- timesheets ----------

@route(bp, "/timesheets", "GET", summary="A user's week (?user_id=&week=) or the approver's queue (?status=)",
       permission="time:read", query=TimesheetQuery, response=ListOf[TimesheetOut])
def list_timesheets(principal: Principal, query: TimesheetQuery) -> ListOf[TimesheetOut]:
    if query.week is not None:
        sheet = timesheets.get_week(principal, query.user_id, query.week)
        return ListOf[TimesheetOut](items=[TimesheetOut.model_validate(sheet)], next_cursor=None)
    if query.status is None:
        raise validation_error("week", "send week (with user_id, default yourself) or status")
    page = timesheets.list_by_status(principal, query.status, query.limit, query.cursor)
    return ListOf[TimesheetOut](items=[TimesheetOut.model_validate(s) for s in page.items],
                                next_cursor=page.next_cursor)


@route(bp, "/timesheets/{timesheet_id}", "GET", summary="Read a timesheet", permission="time:read",
       response=TimesheetOut)
def get_timesheet(principal: Principal, timesheet_id: str) -> TimesheetOut:
    return TimesheetOut.model_validate(timesheets.get_timesheet(principal, timesheet_id))


@route(bp, "/timesheets/{timesheet_id}/submit", "POST", summary="Submit a week for approval",
       permission="time:write", body=WithVersion, response=TimesheetOut)
def submit_timesheet(principal: Principal, timesheet_id: str, body: WithVersion) -> TimesheetOut:
    return TimesheetOut.model_validate(timesheets.transition(principal, timesheet_id, "submit", None, body.version))


@route(bp, "/timesheets/{timesheet_id}/approve", "POST", summary="Approve a week (locks its entries)",
       permission="timesheets:approve", body=WithVersion, response=TimesheetOut)
def approve_timesheet(principal: Principal, timesheet_id: str, body: WithVersion) -> TimesheetOut:
    return TimesheetOut.model_validate(timesheets.transition(principal, timesheet_id, "approve", None, body.version))


@route(bp, "/timesheets/{timesheet_id}/reject", "POST", summary="Send a submitted week back, with a reason",
       permission="timesheets:approve", body=WithReason, response=TimesheetOut)
def reject_timesheet(principal: Principal, timesheet_id: str, body: WithReason) -> TimesheetOut:
    return TimesheetOut.model_validate(
        timesheets.transition(principal, timesheet_id, "reject", body.reason, body.version))


@route(bp, "/timesheets/{timesheet_id}/reopen", "POST", summary="Reopen an approved week, with a reason",
       permission="timesheets:reopen", body=WithReason, response=TimesheetOut)
def reopen_timesheet(principal: Principal, timesheet_id: str, body: WithReason) -> TimesheetOut:
    return TimesheetOut.model_validate(
        timesheets.transition(principal, timesheet_id, "reopen", body.reason, body.version))


# ---------- settings and rates ----------

def _settings_out(ctx: settings.Context) -> TimeSettingsOut:
    return TimeSettingsOut.model_validate({**ctx.settings, "version": ctx.settings_version,
                                           "all_categories": ctx.categories(), "timezone": ctx.timezone,
                                           "week_start": ctx.week_start})


@route(bp, "/time/settings", "GET", summary="The time settings (billable flags, categories, approval, rounding)",
       permission="time:read", response=TimeSettingsOut)
def get_time_settings(principal: Principal) -> TimeSettingsOut:
    return _settings_out(settings.get_settings(principal))


@route(bp, "/time/settings", "PUT", summary="Replace the time settings", permission="time:settings",
       body=TimeSettingsBody, response=TimeSettingsOut)
def put_time_settings(principal: Principal, body: TimeSettingsBody) -> TimeSettingsOut:
    values = body.model_dump(mode="json", exclude={"version"})
    return _settings_out(settings.put_settings(principal, values, body.version))


@route(bp, "/rates", "GET", summary="The rate rules", permission="rates:read", response=RatesOut)
def get_rates(principal: Principal) -> RatesOut:
    ctx = settings.get_rates(principal)
    return RatesOut(version=ctx.rules_version, rules=ctx.rules)


@route(bp, "/rates", "PUT", summary="Replace the rate rules (most specific wins)", permission="rates:write",
       body=RatesBody, response=RatesOut)
def put_rates(principal: Principal, body: RatesBody) -> RatesOut:
    ctx = settings.put_rates(principal, [r.model_dump(exclude_none=True) for r in body.rules], body.version)
    return RatesOut(version=ctx.rules_version, rules=ctx.rules)


# ---------- report ----------

@route(bp, "/reports/time", "GET", summary="Time by customer, project, member, category, task type or week",
       permission="reports:time", query=TimeReportQuery, response=TimeReportOut)
def time_report(principal: Principal, query: TimeReportQuery) -> Any:
    report = reports.time_report(principal, query.group_by, query.from_.isoformat(), query.to.isoformat(),
                                 query.billable)
    if query.format == "csv":
        columns, rows = reports.csv_rows(report, sees_financials(principal))
        return csv_response("time-report.csv", columns, rows)
    return TimeReportOut.model_validate(report)
