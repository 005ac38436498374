"""Pydantic building blocks shared by every room's request and response bodies."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from chalicelib.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies: unknown fields are rejected, strings are trimmed."""

    # defer_build: schemas are built on first use, not at import — a cold start pays only for the
    # models its route touches.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Out(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[^#]+$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", to_lower=True),
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
    amount: int = Field(ge=0, le=10**12, description="integer minor units")
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
