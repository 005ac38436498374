"""Who the current unit of work acts for: one tenant, or the explicit system scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SYSTEM = "__system__"

_current_scope: ContextVar[str | None] = ContextVar("bluehill_scope", default=None)


def current_scope() -> str | None:
    return _current_scope.get()


@contextmanager
def tenant_scope(tenant_id: str) -> Iterator[None]:
    token = _current_scope.set(tenant_id)
    try:
        yield
    finally:
        _current_scope.reset(token)


@contextmanager
def system_scope() -> Iterator[None]:
    token = _current_scope.set(SYSTEM)
    try:
        yield
    finally:
        _current_scope.reset(token)
