"""Pydantic building blocks shared by every room's request and response bodies."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from chalicelib.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies: unknown fields are rejected, strings are trimmed."""

    # defer_build: schemas are built on first use, not at import — a cold start pays only for the
    # models its route touches.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Out(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


# Versions a client sends back (a PATCH's `version`, If-Match, ?from=/?to=): bounded, so no
# number DynamoDB cannot store (past 38 digits) or JSON clients cannot read (past 2^53) reaches it.
MAX_VERSION = 2**53 - 1
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]
VersionFromZero = Annotated[int, Field(ge=0, le=MAX_VERSION)]  # settings that start unset, at 0

# C0 and C1 control characters and DEL (Unicode category Cc): never part of a name, an email or
# a title; in longer text only line breaks and tabs are. The patterns say the same in the
# OpenAPI document (ECMA-262 escapes), so generated clients and fuzzers know it too.
_CONTROLS = "\\u0000-\\u001f\\u007f-\\u009f"
_CONTROLS_BUT_LINES = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"


def _no_controls(allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        for char in value:
            if unicodedata.category(char) == "Cc" and char not in allowed:
                raise ValueError(f"must not contain control characters (found U+{ord(char):04X})")
        return value

    return AfterValidator(check)


# The one validator every name, email, title, tag and text input carries.
SingleLine = Annotated[str, _no_controls(""), Field(json_schema_extra={"pattern": f"^[^{_CONTROLS}]*$"})]
TextBlock = Annotated[str, _no_controls("\n\r\t"),
                      Field(json_schema_extra={"pattern": f"^[^{_CONTROLS_BUT_LINES}]*$"})]


def _storable(value: float) -> float:
    """DynamoDB numbers stop at 1e-130: a measure is kept to six decimals (2.8e-192 is 0.0)."""
    return round(value, 6) + 0.0  # + 0.0: no -0.0


# A fractional measure a client sends (hours, days) that is stored as a DynamoDB number.
Measure = Annotated[float, AfterValidator(_storable)]

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Name = Annotated[SingleLine, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[SingleLine, StringConstraints(max_length=200)]
LongText = Annotated[TextBlock, StringConstraints(max_length=10_000)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[^#\x00-\x1f\x7f-\x9f]+$"),
                _no_controls("")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f]+"
Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$", to_lower=True),
    _no_controls(""),
]
Instant = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")]



def ordered_range(low: str, high: str, checked: str) -> Any:
    """A validator for a range filter `low`..`high`, set on `checked` — whichever of the two the
    model declares last, so its partner is validated by then: an end before the start is a 422
    naming it, where it would become a key condition DynamoDB refuses (a BETWEEN whose bounds are
    inverted is a ValidationException, a 500; moto answered an empty page)."""
    partner = high if checked == low else low

    def check(cls: Any, value: Any, info: ValidationInfo) -> Any:
        other = info.data.get(partner)
        if value is not None and other is not None:
            start, end = (value, other) if checked == low else (other, value)
            if end < start:
                raise ValueError(f"{high} must not be before {low}")
        return value

    return field_validator(checked)(check)


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domain(value: str) -> str:
    value = value.strip().lower()
    if not _DOMAIN.match(value):
        raise ValueError("must be a domain name such as example.com")
    return value


Domain = Annotated[str, AfterValidator(_domain)]


class Money(Strict):
    # StrictInt: "100", 100.0 and true are not amounts (lax int would take all three)
    amount: StrictInt = Field(ge=0, le=10**12, description="integer minor units")
    currency: Currency


class ListQuery(Strict):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, max_length=2048)


class ListOf(Out, Generic[T]):
    items: list[T]
    next_cursor: str | None


def dump_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def non_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
