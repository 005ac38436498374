"""Conditional logic, as plain functions: `show_if` / `require_if` are condition trees —
`{"all": [...]}`, `{"any": [...]}` or a leaf `{"field": key, "op": op, "value": ...}` — over
other fields' answers. The server evaluates the same trees on submit that the page does.

Fields are visited in form order; a condition may name only fields before it, so a form's logic
has no cycles by construction. A field inside a hidden section is hidden; a hidden field's answer
is dropped, and later conditions see it as empty."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OPERATORS = ("equals", "not_equals", "in", "contains", "gt", "lt", "is_answered", "is_empty")
UNARY = ("is_answered", "is_empty")
MAX_DEPTH = 5
MAX_LEAVES = 50


def is_answered(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping) and isinstance(value.get("amount"), int):  # currency
        return float(value["amount"])
    return None


def _ordered(answer: Any, operand: Any) -> tuple[Any, Any] | None:
    """Comparable forms of answer and operand: both numbers, or both ISO dates/times (text)."""
    left, right = _number(answer), _number(operand)
    if left is not None and right is not None:
        return left, right
    if isinstance(answer, str) and isinstance(operand, str) and answer and operand:
        return answer, operand
    return None


def _leaf(op: str, answer: Any, operand: Any) -> bool:
    if op == "is_answered":
        return is_answered(answer)
    if op == "is_empty":
        return not is_answered(answer)
    if not is_answered(answer):
        return op == "not_equals"
    if op == "equals":
        return bool(answer == operand)
    if op == "not_equals":
        return bool(answer != operand)
    if op == "in":
        return isinstance(operand, list) and answer in operand
    if op == "contains":
        if isinstance(answer, list):
            return operand in answer
        return isinstance(answer, str) and isinstance(operand, str) and operand.casefold() in answer.casefold()
    pair = _ordered(answer, operand)
    if pair is None:
        return False
    return pair[0] > pair[1] if op == "gt" else pair[0] < pair[1]


def evaluate(condition: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """Whether `condition` holds for these answers (absent answers are empty)."""
    if "all" in condition:
        return all(evaluate(part, answers) for part in condition["all"])
    if "any" in condition:
        return any(evaluate(part, answers) for part in condition["any"])
    return _leaf(condition["op"], answers.get(condition["field"]), condition.get("value"))


def referenced(condition: Mapping[str, Any]) -> list[str]:
    if "all" in condition or "any" in condition:
        return [name for part in condition.get("all", condition.get("any", [])) for name in referenced(part)]
    return [condition["field"]]


def check_condition(condition: Any, earlier: Sequence[str], depth: int = 1) -> str | None:
    """Why `condition` is not a valid tree over the fields `earlier` (None when it is)."""
    if not isinstance(condition, Mapping):
        return "a condition is an object"
    if depth > MAX_DEPTH:
        return f"conditions nest at most {MAX_DEPTH} deep"
    group = [key for key in ("all", "any") if key in condition]
    if group:
        parts = condition[group[0]]
        if len(condition) != 1 or not isinstance(parts, list) or not parts:
            return f"a group is {{\"{group[0]}\": [one or more conditions]}} and nothing else"
        for part in parts:
            problem = check_condition(part, earlier, depth + 1)
            if problem:
                return problem
        if depth == 1 and len(referenced(condition)) > MAX_LEAVES:
            return f"a condition has at most {MAX_LEAVES} comparisons"
        return None
    if set(condition) - {"field", "op", "value"} or "field" not in condition or "op" not in condition:
        return "a comparison is {\"field\", \"op\", \"value\"}"
    if condition["field"] not in earlier:
        return f"condition field {condition['field']!r} must be a field before this one"
    op, operand = condition["op"], condition.get("value")
    if op not in OPERATORS:
        return f"op must be one of {', '.join(OPERATORS)}"
    if op in UNARY:
        return None if operand is None else f"{op} takes no value"
    if op == "in" and not isinstance(operand, list):
        return "in takes a list of values"
    if op in ("gt", "lt") and _number(operand) is None and not isinstance(operand, str):
        return f"{op} compares with a number or an ISO date/time"
    if operand is None:
        return f"{op} needs a value"
    return None


def visible_and_required(fields: Sequence[Mapping[str, Any]],
                         answers: Mapping[str, Any]) -> tuple[dict[str, Any], set[str], set[str]]:
    """In form order: the answers kept (those of visible fields), the keys of visible fields, and
    the keys of visible fields that are required (by `required` or by a `require_if` that holds)."""
    kept: dict[str, Any] = {}
    visible: set[str] = set()
    required: set[str] = set()
    section_shown = True
    for field in fields:
        shown = field.get("show_if") is None or evaluate(field["show_if"], kept)
        if field["type"] == "section":
            section_shown = shown
            if shown:
                visible.add(field["key"])
            continue
        if not (shown and section_shown):
            continue
        visible.add(field["key"])
        if field.get("required") or (field.get("require_if") is not None and evaluate(field["require_if"], kept)):
            required.add(field["key"])
        if field["key"] in answers:
            kept[field["key"]] = answers[field["key"]]
    return kept, visible, required
