"""The time room's pure rules: which rule makes an entry billable, which rate it gets, its
category, its amount, its ISO week in the tenant's timezone, and the invoice rounding billing
applies (entries keep raw minutes). No I/O: unit and hypothesis tests in tests/unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

BillableSource = Literal["task_type", "project", "customer", "tenant", "manual"]
RoundingMode = Literal["up", "nearest", "down"]
INCREMENTS = (1, 6, 10, 15, 30)
BUILT_IN_CATEGORIES = ("onboarding", "qbr", "firefighting", "renewal", "support", "expansion", "internal")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ---------- billable ----------

def decide_billable(
    *,
    task_type: bool | None,
    project: bool | None,
    customer: bool | None,
    tenant: bool,
    manual: bool | None = None,
) -> tuple[bool, BillableSource]:
    """Most specific rule wins: the task type's flag, then the project's, then the customer's,
    then the tenant default; a person's choice on the entry (`manual`) beats all of them. A
    customer marked non-billable makes every entry on it non-billable, a manual choice too."""
    if customer is False:
        return False, "customer"
    if manual is not None:
        return manual, "manual"
    for value, source in ((task_type, "task_type"), (project, "project"), (customer, "customer")):
        if value is not None:
            return value, source  # type: ignore[return-value]
    return tenant, "tenant"


# ---------- rates ----------

RATE_SOURCES = ("user_project", "project", "user_customer", "customer", "user", "tenant")


@dataclass(frozen=True)
class Rate:
    amount: int  # minor units per hour
    currency: str
    source: str


def rule_scope(rule: dict[str, Any]) -> str:
    """The scope a rate rule names, by the fields it sets."""
    user, project, customer = rule.get("user_id"), rule.get("project_id"), rule.get("customer_id")
    if project and customer:
        raise ValueError("a rate rule names a project or a customer, not both")
    if project:
        return "user_project" if user else "project"
    if customer:
        return "user_customer" if user else "customer"
    return "user" if user else "tenant"


def resolve_rate(rules: list[dict[str, Any]], *, user_id: str, customer_id: str, project_id: str | None,
                 default_currency: str) -> Rate:
    """Most specific wins: user on project, project, user on customer, customer, user, tenant
    default. No rule at all: rate 0 in the tenant's currency (source `tenant`)."""
    wanted = {
        "user_project": {"user_id": user_id, "project_id": project_id},
        "project": {"project_id": project_id},
        "user_customer": {"user_id": user_id, "customer_id": customer_id},
        "customer": {"customer_id": customer_id},
        "user": {"user_id": user_id},
        "tenant": {},
    }
    for scope in RATE_SOURCES:
        if scope.endswith("project") and project_id is None:
            continue
        for rule in rules:
            if rule_scope(rule) == scope and all(rule.get(k) == v for k, v in wanted[scope].items()):
                return Rate(int(rule["amount"]), rule["currency"], scope)
    return Rate(0, default_currency, "tenant")


def amount_of(minutes: int, hourly_rate: int) -> int:
    """minutes * rate / 60 in minor units, half up: integers only."""
    return (minutes * hourly_rate * 2 + 60) // 120


# ---------- categories ----------

def suggest_category(*, task_type: str | None, ticket: bool, interaction_type: str | None,
                     task_types: dict[str, str], interaction_types: dict[str, str]) -> str:
    """The tenant's mapping of the task's type, a ticket's `support`, the interaction type's
    mapping (or the type itself when it names a category), else `internal`."""
    if task_type and task_type in task_types:
        return task_types[task_type]
    if ticket:
        return "support"
    if interaction_type:
        mapped = interaction_types.get(interaction_type, interaction_type)
        if mapped in BUILT_IN_CATEGORIES or interaction_type in interaction_types:
            return mapped
    return "internal"


# ---------- weeks ----------

def local_date(instant: str, timezone: str) -> date:
    """The calendar date of an ISO-8601 UTC instant in `timezone`."""
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(timezone)).date()


def week_start(day: date, first_weekday: str = "monday") -> date:
    offset = (day.weekday() - WEEKDAYS.index(first_weekday)) % 7
    return day - timedelta(days=offset)


def week_of(day: date, first_weekday: str = "monday") -> str:
    """The week label of a date: `YYYY-Www`, the ISO number of the week's Thursday-containing
    span — with a week starting on `first_weekday`, the label is the ISO week of its first day
    + 3 days (the week's middle), so every day of one tenant week has one label."""
    middle = week_start(day, first_weekday) + timedelta(days=3)
    year, number, _ = middle.isocalendar()
    return f"{year}-W{number:02d}"


def week_bounds(week: str, first_weekday: str = "monday") -> tuple[date, date]:
    """The first and last date of a labelled week (inverse of week_of)."""
    year, number = int(week[:4]), int(week[6:])
    middle = date.fromisocalendar(year, number, 4)  # Thursday of the ISO week
    start = week_start(middle - timedelta(days=3), first_weekday)
    if week_of(start, first_weekday) != week:
        start += timedelta(days=7)
    return start, start + timedelta(days=6)


# ---------- invoice rounding (billing applies it; entries keep raw minutes) ----------

def round_minutes(minutes: int, increment: int = 1, mode: RoundingMode = "up") -> int:
    """Minutes rounded to a multiple of `increment` (1, 6, 10, 15 or 30): `up`, `down`, or
    `nearest` (a half increment rounds up)."""
    if increment not in INCREMENTS:
        raise ValueError(f"increment must be one of {INCREMENTS}")
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    whole, rest = divmod(minutes, increment)
    if rest == 0 or mode == "down":
        return whole * increment
    if mode == "up" or rest * 2 >= increment:
        return (whole + 1) * increment
    return whole * increment
