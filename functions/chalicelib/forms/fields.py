"""Form field types, as plain functions: what a field definition may say (checked when the form is
saved) and whether an answer fits it (checked on submit). Each answer check returns the value to
store (normalized) or raises AnswerError with the message the submitter sees."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, time
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import logic, patterns

FieldType = Literal[
    "short_text", "long_text", "email", "phone", "url", "number", "currency", "date", "date_range", "time",
    "dropdown", "multi_select", "radio", "checkboxes", "yes_no", "rating", "linear_scale", "nps", "csat", "ces",
    "file_upload", "address", "signature", "consent", "section", "hidden",
]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]

TEXT_TYPES = ("short_text", "long_text", "email", "phone", "url", "hidden")
CHOICE_TYPES = ("dropdown", "radio")
MULTI_TYPES = ("multi_select", "checkboxes")
FIXED_SCALES: dict[str, tuple[int, int]] = {"rating": (1, 5), "nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
SURVEY_TYPES = ("nps", "csat", "ces")
# Answers whose value spread is worth counting (analytics): the rest count answered/blank only.
DISTRIBUTED = (*CHOICE_TYPES, *MULTI_TYPES, "yes_no", "rating", "linear_scale", "nps", "csat", "ces", "consent")
TEXT_LIMITS = {"short_text": 500, "long_text": 10_000, "email": 254, "phone": 30, "url": 2000, "hidden": 500}
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_OPTIONS = 100

Key = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")


class AnswerError(ValueError):
    pass


class FieldDef(BaseModel):
    """One field of a form."""

    model_config = ConfigDict(extra="forbid")

    key: str = Key
    type: FieldType
    label: str = Field(min_length=1, max_length=300)
    help: str | None = Field(None, max_length=2000)
    text: str | None = Field(None, max_length=5000, description="a section's body text")
    required: bool = False
    min_length: int | None = Field(None, ge=0, le=10_000)
    max_length: int | None = Field(None, ge=1, le=10_000)
    min_value: float | None = None
    max_value: float | None = None
    min_date: date | None = None
    max_date: date | None = None
    options: list[str] | None = Field(None, min_length=1, max_length=MAX_OPTIONS)
    min_choices: int | None = Field(None, ge=0, le=MAX_OPTIONS)
    max_choices: int | None = Field(None, ge=1, le=MAX_OPTIONS)
    accept: list[str] | None = Field(None, min_length=1, max_length=30,
                                     description="content types a file_upload takes (`image/*` allowed)")
    max_size_bytes: int | None = Field(None, ge=1, le=MAX_FILE_BYTES)
    max_files: int | None = Field(None, ge=1, le=10)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    pattern: str | None = Field(None, max_length=patterns.MAX_PATTERN_LENGTH)
    show_if: dict[str, Any] | None = None
    require_if: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _fits_type(self) -> FieldDef:
        problem = definition_problem(self)
        if problem:
            raise ValueError(problem)
        return self


def definition_problem(field: FieldDef) -> str | None:
    """What is wrong with a field's own settings (None when nothing)."""
    kind = field.type
    if field.options is not None:
        if kind not in (*CHOICE_TYPES, *MULTI_TYPES):
            return f"options are for choice fields, not {kind}"
        if len(set(field.options)) != len(field.options) or any(not o or len(o) > 200 for o in field.options):
            return "options are distinct, 1 to 200 characters each"
    elif kind in (*CHOICE_TYPES, *MULTI_TYPES):
        return f"a {kind} field needs options"
    if field.pattern is not None:
        if kind not in ("short_text", "long_text", "phone", "hidden"):
            return f"pattern is for text fields, not {kind}"
        try:
            patterns.compile_pattern(field.pattern)
        except patterns.PatternError as refused:
            return f"pattern: {refused}"
    if (field.min_length is not None or field.max_length is not None) and kind not in TEXT_TYPES:
        return f"min_length/max_length are for text fields, not {kind}"
    if field.max_length is not None and field.max_length > TEXT_LIMITS.get(kind, 0):
        return f"max_length of a {kind} field is at most {TEXT_LIMITS.get(kind)}"
    if (field.min_value is not None or field.max_value is not None) and kind not in ("number", "currency",
                                                                                       "linear_scale"):
        return f"min_value/max_value are for number, currency and linear_scale fields, not {kind}"
    for low, high in ((field.min_length, field.max_length), (field.min_value, field.max_value),
                      (field.min_date, field.max_date), (field.min_choices, field.max_choices)):
        if low is not None and high is not None and low > high:
            return "a minimum is above its maximum"
    if kind == "linear_scale":
        low, high = field.min_value if field.min_value is not None else 1, field.max_value or 5
        if low not in (0, 1) or not 2 <= high <= 10 or high != int(high):
            return "a linear_scale runs from 0 or 1 up to 2..10"
    if (field.min_date or field.max_date) and kind not in ("date", "date_range"):
        return f"min_date/max_date are for date fields, not {kind}"
    if (field.min_choices is not None or field.max_choices is not None) and kind not in MULTI_TYPES:
        return f"min_choices/max_choices are for {' and '.join(MULTI_TYPES)} fields"
    if (field.accept or field.max_size_bytes or field.max_files) and kind != "file_upload":
        return "accept/max_size_bytes/max_files are for file_upload fields"
    if field.accept and any(not re.fullmatch(r"[a-z]+/([a-z0-9.+\-]+|\*)", a) for a in field.accept):
        return "accept lists content types such as application/pdf or image/*"
    if field.currency and kind != "currency":
        return "currency is for currency fields"
    if kind == "section" and (field.required or field.require_if):
        return "a section takes no answer, so it cannot be required"
    return None


def check_form_fields(fields: list[FieldDef]) -> list[tuple[str, str]]:
    """Problems across fields, as (field path, message): duplicate keys, logic naming a field
    that is not before it."""
    problems: list[tuple[str, str]] = []
    seen: list[str] = []
    for index, field in enumerate(fields):
        if field.key in seen:
            problems.append((f"fields[{index}].key", f"key {field.key!r} is used twice"))
        for name in ("show_if", "require_if"):
            condition = getattr(field, name)
            if condition is not None:
                problem = logic.check_condition(condition, seen)
                if problem:
                    problems.append((f"fields[{index}].{name}", problem))
        seen.append(field.key)
    return problems


# ---------- answers ----------

def _text(field: Mapping[str, Any], value: Any) -> str:
    if not isinstance(value, str):
        raise AnswerError("must be text")
    value = value.strip() if field["type"] != "long_text" else value
    if field["type"] != "long_text" and any(c in value for c in "\r\n"):
        raise AnswerError("must be a single line")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise AnswerError("contains control characters")
    limit = min(field.get("max_length") or TEXT_LIMITS[field["type"]], TEXT_LIMITS[field["type"]])
    if len(value) > limit:
        raise AnswerError(f"must be at most {limit} characters")
    if field.get("min_length") and len(value) < field["min_length"]:
        raise AnswerError(f"must be at least {field['min_length']} characters")
    if field.get("pattern"):
        try:
            matched = patterns.full_match(field["pattern"], value)
        except patterns.PatternError as refused:
            raise AnswerError(str(refused)) from refused
        if not matched:
            raise AnswerError("does not match the expected format")
    return value


_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+")


def _email(field: Mapping[str, Any], value: Any) -> str:
    text = _text(field, value)
    if not _EMAIL.fullmatch(text):
        raise AnswerError("must be an email address")
    return text


def _phone(field: Mapping[str, Any], value: Any) -> str:
    text = _text(field, value)
    if not re.fullmatch(r"\+?[0-9 ().\-]{5,30}", text) or sum(c.isdigit() for c in text) < 5:
        raise AnswerError("must be a phone number")
    return text


def _url(field: Mapping[str, Any], value: Any) -> str:
    text = _text(field, value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise AnswerError("must be an http(s) URL")
    return text


def _in_range(field: Mapping[str, Any], number: float) -> None:
    low, high = field.get("min_value"), field.get("max_value")
    if low is not None and number < low:
        raise AnswerError(f"must be at least {low:g}")
    if high is not None and number > high:
        raise AnswerError(f"must be at most {high:g}")


def _number(field: Mapping[str, Any], value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AnswerError("must be a number")
    if abs(value) > 1e15:
        raise AnswerError("is out of range")
    _in_range(field, value)
    return value


def _currency(field: Mapping[str, Any], value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
        raise AnswerError("must be {amount (minor units), currency}")
    amount, code = value["amount"], value["currency"]
    if isinstance(amount, bool) or not isinstance(amount, int) or abs(amount) > 10**15:
        raise AnswerError("amount must be a whole number of minor units")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code):
        raise AnswerError("currency must be an ISO-4217 code")
    if field.get("currency") and code != field["currency"]:
        raise AnswerError(f"currency must be {field['currency']}")
    _in_range(field, amount)
    return {"amount": amount, "currency": code}


def _a_date(field: Mapping[str, Any], value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise AnswerError("must be a date YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError as bad:
        raise AnswerError("must be a real date") from bad
    if field.get("min_date") and day < date.fromisoformat(str(field["min_date"])):
        raise AnswerError(f"must be on or after {field['min_date']}")
    if field.get("max_date") and day > date.fromisoformat(str(field["max_date"])):
        raise AnswerError(f"must be on or before {field['max_date']}")
    return value


def _date_range(field: Mapping[str, Any], value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or set(value) != {"start", "end"}:
        raise AnswerError("must be {start, end}")
    start, end = _a_date(field, value["start"]), _a_date(field, value["end"])
    if end < start:
        raise AnswerError("end must be on or after start")
    return {"start": start, "end": end}


def _time(field: Mapping[str, Any], value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise AnswerError("must be a time HH:MM")
    try:
        time.fromisoformat(value)
    except ValueError as bad:
        raise AnswerError("must be a real time of day") from bad
    return value


def _choice(field: Mapping[str, Any], value: Any) -> str:
    if not isinstance(value, str) or value not in field["options"]:
        raise AnswerError("must be one of the options")
    return value


def _choices(field: Mapping[str, Any], value: Any) -> list[str]:
    if not isinstance(value, list) or any(not isinstance(v, str) or v not in field["options"] for v in value):
        raise AnswerError("must be a list of the options")
    if len(set(value)) != len(value):
        raise AnswerError("lists an option twice")
    if field.get("min_choices") is not None and len(value) < field["min_choices"]:
        raise AnswerError(f"choose at least {field['min_choices']}")
    if field.get("max_choices") is not None and len(value) > field["max_choices"]:
        raise AnswerError(f"choose at most {field['max_choices']}")
    return value


def _boolean(field: Mapping[str, Any], value: Any) -> bool:
    if not isinstance(value, bool):
        raise AnswerError("must be true or false")
    return value


def scale_of(field: Mapping[str, Any]) -> tuple[int, int]:
    if field["type"] in FIXED_SCALES:
        return FIXED_SCALES[field["type"]]
    low = field.get("min_value")
    return int(low if low is not None else 1), int(field.get("max_value") or 5)


def _scale(field: Mapping[str, Any], value: Any) -> int:
    low, high = scale_of(field)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AnswerError(f"must be a whole number from {low} to {high}")
    return value


def _accepts(accept: list[str] | None, content_type: str) -> bool:
    if not accept:
        return True
    return any(a == content_type or (a.endswith("/*") and content_type.startswith(a[:-1])) for a in accept)


def _files(field: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise AnswerError("must be a list of uploaded files")
    if len(value) > (field.get("max_files") or 1):
        raise AnswerError(f"at most {field.get('max_files') or 1} file(s)")
    limit = field.get("max_size_bytes") or 10 * 1024 * 1024
    files = []
    for item in value:
        if not isinstance(item, Mapping) or set(item) - {"file_id", "name", "content_type", "size"} \
                or not {"file_id", "content_type", "size"} <= set(item):
            raise AnswerError("each file is {file_id, name, content_type, size}")
        file_id, kind, size = item["file_id"], item["content_type"], item["size"]
        if not isinstance(file_id, str) or not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", file_id):
            raise AnswerError("file_id is not a file id")
        if not isinstance(kind, str) or not _accepts(field.get("accept"), kind):
            raise AnswerError(f"file type {kind} is not accepted ({', '.join(field.get('accept') or [])})")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= limit:
            raise AnswerError(f"each file is at most {limit} bytes")
        name = item.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 255):
            raise AnswerError("a file name is at most 255 characters")
        files.append({"file_id": file_id, "name": name, "content_type": kind, "size": size})
    return files


ADDRESS_PARTS = {"line1": 200, "line2": 200, "city": 100, "region": 100, "postal_code": 20, "country": 2}


def _address(field: Mapping[str, Any], value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or set(value) - set(ADDRESS_PARTS):
        raise AnswerError(f"must be an address ({', '.join(ADDRESS_PARTS)})")
    for part in ("line1", "city", "country"):
        if not isinstance(value.get(part), str) or not value[part].strip():
            raise AnswerError(f"{part} is required")
    for part, limit in ADDRESS_PARTS.items():
        text = value.get(part)
        if text is not None and (not isinstance(text, str) or len(text) > limit or any(ord(c) < 32 for c in text)):
            raise AnswerError(f"{part} must be a single line of at most {limit} characters")
    if not re.fullmatch(r"[A-Z]{2}", value["country"]):
        raise AnswerError("country is an ISO 3166 two-letter code")
    return {part: value[part].strip() for part in ADDRESS_PARTS if value.get(part)}


def _signature(field: Mapping[str, Any], value: Any) -> dict[str, Any]:
    """The submitter types their full name and consents; the server adds when and from where."""
    if not isinstance(value, Mapping) or set(value) != {"full_name", "consent"}:
        raise AnswerError("must be {full_name, consent}")
    name = value["full_name"]
    if not isinstance(name, str) or not 2 <= len(name.strip()) <= 200 or any(ord(c) < 32 for c in name):
        raise AnswerError("full_name must be the signer's typed full name")
    if value["consent"] is not True:
        raise AnswerError("consent must be given to sign")
    return {"full_name": name.strip(), "consent": True}


def _consent(field: Mapping[str, Any], value: Any) -> bool:
    if not isinstance(value, bool):
        raise AnswerError("must be true or false")
    if field.get("required") and value is not True:
        raise AnswerError("consent is required")
    return value


def _section(field: Mapping[str, Any], value: Any) -> Any:
    raise AnswerError("a section takes no answer")


CHECKS: dict[str, Callable[[Mapping[str, Any], Any], Any]] = {
    "short_text": _text, "long_text": _text, "email": _email, "phone": _phone, "url": _url, "number": _number,
    "currency": _currency, "date": _a_date, "date_range": _date_range, "time": _time, "dropdown": _choice,
    "radio": _choice, "multi_select": _choices, "checkboxes": _choices, "yes_no": _boolean, "rating": _scale,
    "linear_scale": _scale, "nps": _scale, "csat": _scale, "ces": _scale, "file_upload": _files,
    "address": _address, "signature": _signature, "consent": _consent, "section": _section, "hidden": _text,
}
assert set(CHECKS) == set(FIELD_TYPES)


def check_answer(field: Mapping[str, Any], value: Any) -> Any:
    """The stored form of one answer (AnswerError when it does not fit the field)."""
    return CHECKS[field["type"]](field, value)


def check_answers(fields: list[Mapping[str, Any]],
                  answers: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Logic first (hidden answers dropped, visible required ones enforced), then each kept
    answer against its field: (answers to store, problems as (field key, message))."""
    known = {field["key"]: field for field in fields}
    problems = [(key, "is not a field of this form") for key in answers if key not in known]
    kept, _, required = logic.visible_and_required(fields, answers)
    stored: dict[str, Any] = {}
    for key, field in known.items():
        if key in kept and logic.is_answered(kept[key]):
            try:
                stored[key] = check_answer(field, kept[key])
            except AnswerError as bad:
                problems.append((key, str(bad)))
                continue
            if field["type"] == "consent" and stored[key] is False and key in required:
                problems.append((key, "consent is required"))
        elif key in required:
            problems.append((key, "is required"))
    return stored, problems


def display(field: Mapping[str, Any], value: Any) -> str:
    """One answer as plain text (summaries, CSV, task titles)."""
    if value is None:
        return ""
    kind = field["type"]
    if kind in MULTI_TYPES:
        return ", ".join(value)
    if kind in ("yes_no", "consent"):
        return "yes" if value else "no"
    if kind == "currency":
        return f"{value['amount']} {value['currency']}"
    if kind == "date_range":
        return f"{value['start']} to {value['end']}"
    if kind == "file_upload":
        return ", ".join(f.get("name") or f["file_id"] for f in value)
    if kind == "address":
        return ", ".join(value[part] for part in ADDRESS_PARTS if part in value)
    if kind == "signature":
        return f"signed by {value['full_name']}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
