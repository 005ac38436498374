from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalice import Blueprint
from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib.core.auth import Principal
from chalicelib.core.http import if_match_version, route
from chalicelib.core.models import Out, ShortText, Strict, VersionFromZero

from . import service
from .clock import WEEKDAYS, parse_clock

bp = Blueprint(__name__)

Priority = Literal["low", "normal", "high", "urgent"]
TierKey = Literal["default", "enterprise", "mid_market", "smb"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PausingStatus = Literal["new", "open", "in_progress", "pending", "waiting_on_customer"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Term = Annotated[str, StringConstraints(min_length=2, max_length=50, to_lower=True)]
Minutes = Annotated[int, Field(ge=1, le=366 * 24 * 60)]


class WorkingWindow(Strict):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ends_after_start(self) -> WorkingWindow:
        if parse_clock(self.end) <= parse_clock(self.start):
            raise ValueError("end must be after start")
        return self


class Holiday(Strict):
    date: date
    name: ShortText | None = None


class BusinessCalendar(Strict):
    mode: Literal["business_hours", "24x7"] = "business_hours"
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    hours: dict[Weekday, list[WorkingWindow]] = Field(default_factory=dict)
    holidays: list[Holiday] = Field(default_factory=list, max_length=400)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as unknown:
            raise ValueError(f"unknown timezone {value}") from unknown
        return value

    @field_validator("hours")
    @classmethod
    def _windows_do_not_overlap(cls, value: dict[str, list[WorkingWindow]]) -> dict[str, list[WorkingWindow]]:
        for day, windows in value.items():
            spans = sorted((parse_clock(w.start), parse_clock(w.end)) for w in windows)
            if any(a[1] > b[0] for a, b in pairwise(spans)):
                raise ValueError(f"{day}: working windows overlap")
        return dict(sorted(value.items(), key=lambda item: WEEKDAYS.index(item[0])))

    @model_validator(mode="after")
    def _open_some_time(self) -> BusinessCalendar:
        if self.mode == "business_hours" and not any(self.hours.values()):
            raise ValueError("a business-hours calendar needs at least one working window")
        return self


class TargetCell(Strict):
    first_response_minutes: Minutes
    resolution_minutes: Minutes


class TargetSettings(Strict):
    business_hours: bool = True
    pause_on: list[PausingStatus] = Field(default_factory=lambda: ["waiting_on_customer"], max_length=5)
    warn_before_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 0


class SlaPolicyBody(Strict):
    version: VersionFromZero | None = Field(None, description="the version you read; or send If-Match")
    calendar: BusinessCalendar
    targets: dict[TierKey, dict[Priority, TargetCell]]
    first_response: TargetSettings
    resolution: TargetSettings
    escalation_terms: list[Term] = Field(default_factory=list, max_length=50)

    @field_validator("targets")
    @classmethod
    def _complete_rows(cls, value: dict[str, dict[str, TargetCell]]) -> dict[str, dict[str, TargetCell]]:
        if "default" not in value:
            raise ValueError("a default row is required")
        for tier, row in value.items():
            missing = [p for p in service.PRIORITIES if p not in row]
            if missing:
                raise ValueError(f"{tier} lacks targets for {', '.join(missing)}")
        return value

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{
        "calendar": {"mode": "business_hours", "timezone": "Europe/Berlin",
                     "hours": {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]},
                     "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}]},
        "targets": {"default": {p: {"first_response_minutes": 60, "resolution_minutes": 480}
                                for p in ("low", "normal", "high", "urgent")}},
        "first_response": {"business_hours": True, "pause_on": ["waiting_on_customer"], "warn_before_minutes": 15},
        "resolution": {"business_hours": True, "pause_on": ["waiting_on_customer"], "warn_before_minutes": 60},
        "escalation_terms": ["furious", "cancel", "lawyer"],
    }]}}


class SlaPolicyOut(Out):
    version: int
    calendar: dict[str, Any]
    targets: dict[str, Any]
    first_response: dict[str, Any]
    resolution: dict[str, Any]
    escalation_terms: list[str]
    updated_at: str | None


@route(bp, "/sla/policy", "GET", summary="Read the SLA policy", permission="sla:read", response=SlaPolicyOut)
def get_policy(principal: Principal) -> SlaPolicyOut:
    return SlaPolicyOut.model_validate(service.get_policy(principal))


@route(bp, "/sla/policy", "PUT", summary="Replace the SLA policy", permission="sla:write", body=SlaPolicyBody,
       response=SlaPolicyOut)
def put_policy(principal: Principal, body: SlaPolicyBody) -> SlaPolicyOut:
    fields = body.model_dump(mode="json", exclude={"version"})
    fields["escalation_terms"] = list(dict.fromkeys(fields["escalation_terms"]))
    expected = body.version if body.version is not None else if_match_version()
    return SlaPolicyOut.model_validate(service.put_policy(principal, fields, expected))
