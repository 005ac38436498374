"""Invoice lines, as plain functions (no AWS): time lines grouped from entries, manual lines,
SLA-credit lines, and the totals — every amount an integer in minor units."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from chalicelib.core.ids import new_id
from chalicelib.timekeeping.rules import RoundingMode, round_minutes

from . import money

GroupBy = Literal["project", "project_category", "task", "person", "detailed"]
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "project": ("project_id",),
    "project_category": ("project_id", "category"),
    "task": ("task_id",),
    "person": ("user_id",),
    "detailed": ("id",),
}


class EntryLike(Protocol):
    id: str
    user_id: str
    customer_id: str
    project_id: str | None
    task_id: str | None
    date: str
    minutes: int
    rate: int | None
    currency: str | None
    category: str | None


@dataclass(frozen=True)
class Rounding:
    """The tenant's invoice rounding (a time setting; the time room's rule applies it)."""

    increment: int = 1
    mode: RoundingMode = "nearest"


def entry_minutes(entry: EntryLike, rounding: Rounding) -> int:
    return round_minutes(int(entry.minutes), rounding.increment, rounding.mode)


def _describe(group_by: str, key: dict[str, Any], names: dict[str, str], entries: Sequence[EntryLike]) -> str:
    """A line's words as a client reads them: the project's name, the task's title, the person's
    name (`names`, by id, resolved when drafting); an id only where its item no longer exists."""
    def named(value: Any, kind: str) -> str | None:
        return (names.get(str(value)) or f"{kind} {value}") if value else None

    def work(project_id: Any, task_id: Any, fallback: str) -> str:
        parts = [part for part in (named(project_id, "project"), named(task_id, "task")) if part]
        return " — ".join(parts) or fallback

    first = entries[0]
    if group_by == "project":
        return f"Time: {named(key['project_id'], 'project') or 'no project'}"
    if group_by == "project_category":
        return f"Time: {named(key['project_id'], 'project') or 'no project'} — {key['category'] or 'uncategorised'}"
    if group_by == "task":
        return f"Time: {work(first.project_id, key['task_id'], 'no task')}"
    if group_by == "person":
        return f"Time: {named(key['user_id'], 'team member')}"
    notes = getattr(first, "notes", None)
    what = work(first.project_id, first.task_id, first.category or "time")
    return f"{first.date} {named(first.user_id, 'team member')}: {what}{f' — {notes}' if notes else ''}"[:500]


def time_lines(entries: Iterable[EntryLike], group_by: str, rounding: Rounding,
               names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One line per group (and rate: a line has one rate), in the entries' order of first
    appearance: minutes are each entry's rounded minutes summed; amount is minutes x rate,
    rounded once per line."""
    groups: dict[tuple[Any, ...], list[EntryLike]] = {}
    for entry in entries:
        key = (*(getattr(entry, name, None) for name in GROUP_FIELDS[group_by]), int(entry.rate or 0))
        groups.setdefault(key, []).append(entry)
    lines = []
    for key, members in groups.items():
        minutes = sum(entry_minutes(entry, rounding) for entry in members)
        rate = key[-1]
        fields = dict(zip(GROUP_FIELDS[group_by], key[:-1], strict=True))
        lines.append({
            "id": new_id(), "kind": "time", "description": _describe(group_by, fields, names or {}, members),
            "minutes": minutes, "quantity": money.hours(minutes), "rate": rate,
            "amount": money.line_amount(minutes, rate), "entry_ids": [entry.id for entry in members],
            "group": {k: v for k, v in fields.items() if k != "id"},
            "service_date": max(entry.date for entry in members),
        })
    return lines


def entry_amounts(entries: Iterable[EntryLike], rounding: Rounding) -> dict[str, int]:
    """What each entry is billed for alone (rounded minutes at its rate): for the rollups."""
    return {entry.id: money.line_amount(entry_minutes(entry, rounding), int(entry.rate or 0)) for entry in entries}


def manual_line(description: str, quantity: int, rate: int, service_date: str | None) -> dict[str, Any]:
    return {"id": new_id(), "kind": "manual", "description": description, "quantity": str(quantity),
            "rate": rate, "amount": quantity * rate, "entry_ids": [], "service_date": service_date}


def credit_base(lines: Iterable[dict[str, Any]]) -> int:
    """What a service credit is a share of: the period's billed time and fees (credits excluded)."""
    return money.total(line["amount"] for line in lines if line["kind"] != "credit")


def credit_line(rule: dict[str, Any], breaches: Sequence[dict[str, str]], base: int) -> dict[str, Any]:
    """A rule's credit for `breaches` (each `ticket_id`, `target`, `at`): percent per breach in
    basis points, capped, of `base`; negative, naming the tickets."""
    points = min(len(breaches) * int(rule["percent_per_breach_bp"]), int(rule["cap_percent_bp"]))
    tickets = sorted({breach["ticket_id"] for breach in breaches})
    target = rule["target"].replace("_", " ")
    plural = "s" if len(breaches) != 1 else ""
    description = (f"SLA service credit ({rule['tier']}): {len(breaches)} breached {target} target{plural}, "
                   f"{money.percent_text(points)}% — tickets {', '.join(tickets)}")[:1000]
    return {"id": new_id(), "kind": "credit", "description": description, "quantity": "1",
            "rate": -money.share(base, points), "amount": -money.share(base, points), "entry_ids": [],
            "credit": {"tier": rule["tier"], "target": rule["target"], "basis_points": points, "tickets": tickets,
                       "breaches": len(breaches)}}


def with_credits_recomputed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Credit lines follow the lines they are a share of: after any change their amounts are
    recomputed from the current base."""
    base = credit_base(lines)
    out = []
    for line in lines:
        if line["kind"] == "credit":
            amount = -money.share(base, int(line["credit"]["basis_points"]))
            line = {**line, "rate": amount, "amount": amount}
        out.append(line)
    return out


def invoice_total(lines: Iterable[dict[str, Any]]) -> int:
    return money.total(line["amount"] for line in lines)


def entry_ids(lines: Iterable[dict[str, Any]]) -> list[str]:
    return [entry_id for line in lines for entry_id in line.get("entry_ids", [])]
