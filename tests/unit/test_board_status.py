"""The auto board status: one documented rule over the project's counters. Each outcome by a
hand-checked example, then the properties that make it trustworthy: worse facts never give a
better status, and `complete` means every task is done."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

from chalicelib.work.board_status import SEVERITY, BoardFacts, auto_status, elapsed
from hypothesis import given
from hypothesis import strategies as st

START, DUE = date(2026, 3, 1), date(2026, 3, 31)  # 30 days
MIDWAY = date(2026, 3, 16)


def facts(**changes) -> BoardFacts:
    base = BoardFacts(today=MIDWAY, start_date=START, due_date=DUE, task_count=10, done_count=5,
                      overdue_count=0, blocked_count=0, progress=Fraction(1, 2))
    return replace(base, **changes)


def test_every_task_done_is_complete():
    assert auto_status(facts(done_count=10, progress=Fraction(1)))[0] == "complete"


def test_past_the_due_date_with_open_tasks_is_delayed():
    status, reason = auto_status(facts(today=date(2026, 4, 2)))
    assert status == "delayed" and "2026-03-31" in reason


def test_a_quarter_of_open_tasks_overdue_is_delayed():
    assert auto_status(facts(overdue_count=2, done_count=2, progress=Fraction(1, 2)))[0] == "delayed"


def test_progress_trailing_time_by_a_quarter_is_delayed():
    assert auto_status(facts(progress=Fraction(1, 4)))[0] == "delayed"


def test_one_overdue_task_is_at_risk():
    status, reason = auto_status(facts(overdue_count=1))
    assert status == "at_risk" and "overdue" in reason


def test_a_blocked_task_is_at_risk():
    assert auto_status(facts(blocked_count=1))[0] == "at_risk"


def test_progress_trailing_time_by_a_tenth_is_at_risk():
    assert auto_status(facts(progress=Fraction(2, 5)))[0] == "at_risk"


def test_progress_leading_time_by_a_tenth_is_ahead():
    assert auto_status(facts(progress=Fraction(7, 10)))[0] == "ahead"


def test_keeping_pace_is_on_track():
    assert auto_status(facts())[0] == "on_track"


def test_without_dates_only_overdue_and_blocked_tasks_count():
    undated = facts(start_date=None, due_date=None, progress=Fraction(0))
    assert auto_status(undated)[0] == "on_track"
    assert auto_status(replace(undated, blocked_count=1))[0] == "at_risk"


def test_elapsed_time_is_clamped_to_the_schedule():
    assert elapsed(date(2026, 2, 1), START, DUE) == 0
    assert elapsed(date(2026, 5, 1), START, DUE) == 1
    assert elapsed(MIDWAY, START, DUE) == Fraction(1, 2)
    assert elapsed(MIDWAY, DUE, START) is None


# ---------- properties ----------

@st.composite
def board_facts(draw):
    total = draw(st.integers(0, 50))
    done = draw(st.integers(0, total))
    start = draw(st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 31))))
    length = draw(st.integers(1, 120))
    due = start + timedelta(days=length) if start and draw(st.booleans()) else None
    return BoardFacts(
        today=draw(st.dates(date(2025, 12, 1), date(2027, 3, 31))),
        start_date=start,
        due_date=due,
        task_count=total,
        done_count=done,
        overdue_count=draw(st.integers(0, total - done)),
        blocked_count=draw(st.integers(0, total - done)),
        progress=Fraction(draw(st.integers(0, 100)), 100),
    )


@given(board_facts())
def test_complete_exactly_when_every_task_is_done(board):
    status, _ = auto_status(board)
    assert (status == "complete") == (board.task_count > 0 and board.done_count == board.task_count)


@given(board_facts(), st.integers(1, 10))
def test_more_overdue_tasks_never_improve_the_status(board, extra):
    worse = replace(board, overdue_count=min(board.overdue_count + extra, board.task_count - board.done_count))
    assert SEVERITY[auto_status(worse)[0]] >= SEVERITY[auto_status(board)[0]]


@given(board_facts(), st.integers(1, 10))
def test_more_blocked_tasks_never_improve_the_status(board, extra):
    worse = replace(board, blocked_count=board.blocked_count + extra)
    assert SEVERITY[auto_status(worse)[0]] >= SEVERITY[auto_status(board)[0]]


@given(board_facts(), st.integers(1, 50))
def test_more_progress_never_worsens_the_status(board, gain):
    better = replace(board, progress=min(board.progress + Fraction(gain, 100), Fraction(1)))
    if board.task_count == board.done_count:
        return
    assert SEVERITY[auto_status(better)[0]] <= SEVERITY[auto_status(board)[0]]


@given(board_facts())
def test_on_hold_is_never_computed(board):
    assert auto_status(board)[0] != "on_hold"
