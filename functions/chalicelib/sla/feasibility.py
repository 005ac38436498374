"""Whether a policy's targets can fall due at all: a calendar with one working minute a week
and a year-long target would put a due time decades out, past what the clock searches, and
every ticket created under it would fail. A policy is saved only if each target it sets is
reachable within HORIZON of working time from now, on its calendar with every holiday."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.errors import validation_error

from . import clock
from .tracker import TARGETS

# Well inside the clock's own search limit (clock.SEARCH_LIMIT_DAYS), so holidays added after
# the policy is saved still leave its due times computable.
HORIZON = timedelta(days=2 * 365)


def _longest(targets: Mapping[str, Mapping[str, Mapping[str, int]]], target: str) -> tuple[str, int]:
    """(the field naming the longest cell of one target, its minutes)."""
    key = f"{target}_minutes"
    cells = ((f"targets.{tier}.{priority}.{key}", cell[key])
             for tier, row in targets.items() for priority, cell in row.items())
    return max(cells, key=lambda named: named[1])


def require_reachable_targets(policy: Mapping[str, Any], now: datetime) -> None:
    """422 naming the calendar (no working time at all within the horizon) or the longest
    target that would not fall due within it."""
    calendar_fields = policy["calendar"]
    if calendar_fields.get("mode") == "24x7":
        return
    calendar = clock.Calendar.from_dict(calendar_fields)
    available = clock.business_seconds(calendar, now, now + HORIZON)
    business_targets = [t for t in TARGETS if policy[t]["business_hours"]]
    if business_targets and available == 0:
        raise validation_error("calendar.hours", f"no working time within {HORIZON.days} days (holidays included)")
    for target in business_targets:
        field, minutes = _longest(policy["targets"], target)
        if minutes * 60 > available:
            raise validation_error(field, f"{minutes} working minutes do not fit in the calendar's "
                                          f"{available // 60} working minutes of the next {HORIZON.days} days")
