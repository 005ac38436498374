"""One SLA target on one ticket (first response, resolution): its terms, its pauses, its due
and warning instants, and the marks it has earned — as a JSON-ready dict, changed only by the
pure functions here.

A target's clock runs in *segments*: when the policy that applies to a running target changes
(a new policy, a new priority), the business time already elapsed is banked under the old
terms and a new segment starts under the new ones, so a change never rewrites history. A met
or breached target keeps its outcome."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import clock

FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)
TERM_FIELDS = ("target_minutes", "business_hours", "pause_on", "warn_before_minutes", "calendar")

State = dict[str, Any]


def _instant(value: str | None) -> datetime | None:
    return clock.parse_instant(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return clock.format_instant(value) if value else None


def _calendar(state: Mapping[str, Any]) -> clock.Calendar:
    if not state["business_hours"]:
        return clock.Calendar.twenty_four_seven()
    return clock.Calendar.from_dict(state["calendar"])


def _pauses(state: Mapping[str, Any]) -> list[clock.Pause]:
    return [(clock.parse_instant(a), _instant(b)) for a, b in state["pauses"]]


def is_paused(state: Mapping[str, Any]) -> bool:
    return bool(state["pauses"]) and state["pauses"][-1][1] is None


def is_running(state: Mapping[str, Any]) -> bool:
    return state["stopped_at"] is None


def paused_since(state: Mapping[str, Any]) -> str | None:
    """When this target's open pause began (None while it runs or is stopped)."""
    return state["pauses"][-1][0] if is_paused(state) else None


def _due(calendar: clock.Calendar, start: datetime, seconds: int, pauses: list[clock.Pause]) -> str | None:
    """The due instant; None also when the calendar has no working time within the clock's
    search horizon (a policy saved before the feasibility check, holidays added since): the
    target then runs without a due time rather than failing every change to the ticket."""
    try:
        return _iso(clock.due_at(calendar, start, seconds, pauses))
    except clock.CalendarNeverOpen:
        return None


def _with_deadlines(state: State) -> State:
    calendar, start, pauses = _calendar(state), clock.parse_instant(state["segment_start"]), _pauses(state)
    target = state["target_minutes"] * 60 - state["banked_seconds"]
    state["due_at"] = _due(calendar, start, target, pauses)
    warn_before = state["warn_before_minutes"]
    if 0 < warn_before < state["target_minutes"]:
        state["warn_at"] = _due(calendar, start, target - warn_before * 60, pauses)
    else:
        state["warn_at"] = None
    return state


def start(terms: Mapping[str, Any], status: str, at: datetime, cycle: int = 1) -> State:
    """A fresh target whose clock starts at `at` (creation, or a reopen for resolution)."""
    iso = clock.format_instant(at)
    state: State = {
        **{name: terms[name] for name in TERM_FIELDS},
        "policy_version": terms.get("policy_version", 0),
        "cycle": cycle,
        "started_at": iso,
        "segment_start": iso,
        "banked_seconds": 0,
        "pauses": [[iso, None]] if status in terms["pause_on"] else [],
        "warned": False,
        "breached": False,
        "stopped_at": None,
        "outcome": None,
    }
    return _with_deadlines(state)


def elapsed_seconds(state: Mapping[str, Any], at: datetime) -> int:
    until = min(at, _instant(state["stopped_at"]) or at)
    segment = clock.parse_instant(state["segment_start"])
    return state["banked_seconds"] + clock.elapsed_seconds(_calendar(state), segment, until, _pauses(state))


def on_status(state: State, status: str, at: datetime) -> State:
    """Open or close this target's pause as the ticket enters or leaves a pausing status."""
    if not is_running(state):
        return state
    should_pause, iso = status in state["pause_on"], clock.format_instant(at)
    pauses = [list(p) for p in state["pauses"]]
    if should_pause and not is_paused(state):
        pauses.append([iso, None])
    elif not should_pause and is_paused(state):
        pauses[-1][1] = iso
    else:
        return state
    return _with_deadlines({**state, "pauses": pauses})


def refresh(state: State, terms: Mapping[str, Any], status: str, at: datetime) -> State:
    """Apply the policy's current terms to a running target from `at` on (never backwards)."""
    if not is_running(state):
        return state
    if all(state[name] == terms[name] for name in TERM_FIELDS):
        version = terms.get("policy_version", state["policy_version"])
        return state if version == state["policy_version"] else {**state, "policy_version": version}
    iso = clock.format_instant(at)
    banked = elapsed_seconds(state, at)
    renewed = {
        **state,
        **{name: terms[name] for name in TERM_FIELDS},
        "policy_version": terms.get("policy_version", 0),
        "segment_start": iso,
        "banked_seconds": banked,
        "pauses": [[iso, None]] if status in terms["pause_on"] else [],
    }
    return _with_deadlines(renewed)


def stop(state: State, at: datetime) -> State:
    """The target is reached (first reply, resolution): met if within the target, else missed."""
    if not is_running(state):
        return state
    missed = state["breached"] or elapsed_seconds(state, at) > state["target_minutes"] * 60
    iso = clock.format_instant(at)
    pauses = [list(p) for p in state["pauses"]]
    if pauses and pauses[-1][1] is None:
        pauses[-1][1] = iso
    return {**state, "pauses": pauses, "stopped_at": iso, "outcome": "missed" if missed else "met",
            "breached": missed}


def marks_due(state: Mapping[str, Any], now: datetime) -> list[str]:
    """What the sweep must mark at `now`: `breached`, else `warning`, else nothing. A breach
    found late also counts as warned, without a warning of its own."""
    if not is_running(state):
        return []
    due, warn = _instant(state["due_at"]), _instant(state["warn_at"])
    if not state["breached"] and due is not None and due <= now:
        return ["breached"]
    if not state["warned"] and warn is not None and warn <= now:
        return ["warning"]
    return []


def mark(state: State, kind: str) -> State:
    if kind == "breached":
        return {**state, "breached": True, "warned": True}
    return {**state, "warned": True}


def next_instant(state: Mapping[str, Any]) -> datetime | None:
    """The next moment the sweep has work for this target, if any."""
    if not is_running(state):
        return None
    pending = []
    if not state["warned"] and state["warn_at"]:
        pending.append(clock.parse_instant(state["warn_at"]))
    if not state["breached"] and state["due_at"]:
        pending.append(clock.parse_instant(state["due_at"]))
    return min(pending, default=None)


def target_state(state: Mapping[str, Any]) -> str:
    if state["outcome"] == "met":
        return "met"
    if state["breached"]:
        return "breached"
    if is_paused(state):
        return "paused"
    return "warning" if state["warned"] else "ok"


def overall_state(states: Mapping[str, Mapping[str, Any]]) -> str:
    """The ticket's `sla_state`: breached > warning > paused (nothing running) > ok."""
    kinds = [target_state(s) for s in states.values()]
    if "breached" in kinds:
        return "breached"
    if "warning" in kinds:
        return "warning"
    running = [s for s in states.values() if is_running(s)]
    if running and all(is_paused(s) for s in running):
        return "paused"
    return "ok"


def view(state: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    remaining = state["target_minutes"] * 60 - elapsed_seconds(state, now)
    return {
        "target_minutes": state["target_minutes"],
        "business_hours": state["business_hours"],
        "started_at": state["started_at"],
        "due_at": state["due_at"],
        "warn_at": state["warn_at"],
        "remaining_minutes": remaining // 60 if is_running(state) else None,
        "paused": is_paused(state),
        "state": target_state(state),
        "stopped_at": state["stopped_at"],
        "cycle": state["cycle"],
    }


def _minutes(seconds: int) -> float:
    return round(seconds / 60, 2)


def explanation(state: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Each running, paused and closed interval of the current segment with its minutes, and
    how the due time follows from them."""
    segment, due = clock.parse_instant(state["segment_start"]), _instant(state["due_at"])
    until = _instant(state["stopped_at"]) or (max(due, now) if due else now)
    pieces = clock.explain(_calendar(state), segment, until, _pauses(state))
    totals = {kind: sum(p.seconds for p in pieces if p.kind == kind) for kind in ("running", "paused", "closed")}
    target = state["target_minutes"]
    calendar = "24x7" if not state["business_hours"] else f"business hours ({state['calendar'].get('timezone')})"
    derivation = (
        f"{target} minutes on a {calendar} clock from {state['segment_start']}"
        + (f", {_minutes(state['banked_seconds'])} minutes already elapsed under earlier terms"
           if state["banked_seconds"] else "")
        + f"; {_minutes(totals['paused'])} paused and {_minutes(totals['closed'])} closed minutes do not count"
        + (f": due {state['due_at']}" if due else ": no due time while the clock is paused" if is_paused(state)
           else ": no due time, the calendar has no working time within the clock's horizon")
    )
    return {
        **view(state, now),
        "pause_on": state["pause_on"],
        "warn_before_minutes": state["warn_before_minutes"],
        "policy_version": state["policy_version"],
        "calendar": state["calendar"] if state["business_hours"] else {"mode": "24x7"},
        "segment_start": state["segment_start"],
        "banked_minutes": _minutes(state["banked_seconds"]),
        "elapsed_minutes": _minutes(elapsed_seconds(state, now)),
        "running_minutes": _minutes(totals["running"]),
        "paused_minutes": _minutes(totals["paused"]),
        "closed_minutes": _minutes(totals["closed"]),
        "intervals": [
            {"kind": p.kind, "start": clock.format_instant(p.start), "end": clock.format_instant(p.end),
             "minutes": _minutes(p.seconds), "projected": p.start >= now}
            for p in pieces
        ],
        "derivation": derivation,
    }
