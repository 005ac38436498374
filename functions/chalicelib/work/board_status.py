"""The board status a project shows in `auto` mode, computed by one documented rule.

Inputs are counters the project item already holds, so the rule runs on every task change
without reading tasks. First match wins:

1. **complete** — the project has tasks and every one is done.
2. **delayed** — the due date has passed; or at least a quarter of the open tasks are overdue;
   or weighted progress trails elapsed time by 25 points or more.
3. **at_risk** — any open task is overdue; or any task is blocked; or progress trails elapsed
   time by 10 points or more.
4. **ahead** — progress leads elapsed time by 10 points or more.
5. **on_track** — otherwise.

Elapsed time is the share of the days from start date to due date that have passed (clamped
to 0..1); without both dates, only the overdue and blocked tests apply. `on_hold` is never
computed: a person sets it in `manual` mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

STATUSES = ("on_track", "at_risk", "delayed", "ahead", "on_hold", "complete")
AT_RISK_GAP = Fraction(1, 10)
DELAYED_GAP = Fraction(1, 4)
AHEAD_LEAD = Fraction(1, 10)
DELAYED_OVERDUE_SHARE = Fraction(1, 4)

# How bad each computed status is, for "never better with worse facts" and for risk sorting.
SEVERITY = {"complete": 0, "ahead": 1, "on_track": 2, "on_hold": 3, "at_risk": 4, "delayed": 5}


@dataclass(frozen=True)
class BoardFacts:
    today: date
    start_date: date | None
    due_date: date | None
    task_count: int
    done_count: int
    overdue_count: int
    blocked_count: int
    progress: Fraction  # weighted, 0..1


def elapsed(today: date, start: date | None, due: date | None) -> Fraction | None:
    """The share of the schedule that has passed, or None without a schedule."""
    if start is None or due is None or due <= start:
        return None
    share = Fraction((today - start).days, (due - start).days)
    return min(max(share, Fraction(0)), Fraction(1))


def auto_status(facts: BoardFacts) -> tuple[str, str]:
    """(status, reason) by the rule in this module's docstring."""
    open_count = facts.task_count - facts.done_count
    if facts.task_count and open_count == 0:
        return "complete", f"all {facts.task_count} tasks are done"
    expected = elapsed(facts.today, facts.start_date, facts.due_date)
    gap = expected - facts.progress if expected is not None else Fraction(0)
    done_pct = f"{float(facts.progress) * 100:.0f}% done"
    pace = f"{done_pct} with {float(expected or 0) * 100:.0f}% of the time gone"
    if facts.due_date is not None and facts.today > facts.due_date:
        return "delayed", f"past the due date {facts.due_date.isoformat()} with {done_pct}"
    if open_count and Fraction(facts.overdue_count, open_count) >= DELAYED_OVERDUE_SHARE:
        return "delayed", f"{facts.overdue_count} of {open_count} open tasks are overdue"
    if gap >= DELAYED_GAP:
        return "delayed", pace
    if facts.overdue_count:
        return "at_risk", f"{facts.overdue_count} open tasks are overdue"
    if facts.blocked_count:
        return "at_risk", f"{facts.blocked_count} tasks are blocked"
    if gap >= AT_RISK_GAP:
        return "at_risk", pace
    if expected is not None and -gap >= AHEAD_LEAD:
        return "ahead", pace
    return "on_track", "no overdue or blocked tasks and progress keeps pace"
