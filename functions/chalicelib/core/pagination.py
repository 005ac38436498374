"""Opaque, tamper-checked cursors and the one way lists are paged.

A list is a sequence of *sources* (an index and a partition, read in order); the cursor
records which source it stopped in and that source's LastEvaluatedKey, signed with HMAC so a
client can neither forge a key into another partition nor edit one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chalicelib.core.errors import MalformedRequest
from chalicelib.core.scope import current_scope
from chalicelib.core.settings import get_settings

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _sign(payload: bytes) -> bytes:
    key = get_settings().cursor_signing_key.encode()
    return hmac.new(key, payload, hashlib.sha256).digest()[:16]


def encode_cursor(state: dict[str, Any]) -> str:
    state = {**state, "scope": current_scope()}
    payload = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(_sign(payload) + payload).decode().rstrip("=")


def decode_cursor(cursor: str, list_name: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        signature, payload = raw[:16], raw[16:]
        if not hmac.compare_digest(signature, _sign(payload)):
            raise ValueError("signature")
        state = json.loads(payload)
        if not isinstance(state, dict) or state.get("list") != list_name or state.get("scope") != current_scope():
            raise ValueError("list")
        return state
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise MalformedRequest("cursor is not valid for this list") from error


def list_name(kind: str, **params: Any) -> str:
    """The name to page a list under: its kind plus every parameter that decides which
    partitions it reads (filters, parent id, reader). A cursor then only continues the list it
    came from, and a key from another partition never reaches DynamoDB as a start key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{kind}:{digest}"


# A page reader takes (limit, exclusive_start_key) and returns (items, last_evaluated_key).
PageReader = Callable[[int, dict[str, Any] | None], tuple[list[T], dict[str, Any] | None]]


def read_page(
    list_name: str,
    sources: list[PageReader[T]],
    limit: int,
    cursor: str | None,
) -> Page[T]:
    """Fill one page from the sources in order, continuing where the cursor stopped."""
    source_index, start_key = 0, None
    if cursor:
        state = decode_cursor(cursor, list_name)
        source_index, start_key = int(state.get("source", 0)), state.get("key")
        if not 0 <= source_index < len(sources):
            raise MalformedRequest("cursor is not valid for this list")
    items: list[T] = []
    while source_index < len(sources):
        batch, last_key = sources[source_index](limit - len(items), start_key)
        items.extend(batch)
        if last_key is not None:
            if len(items) >= limit:
                state = {"list": list_name, "source": source_index, "key": last_key}
                return Page(items, encode_cursor(state))
            start_key = last_key
            continue
        source_index, start_key = source_index + 1, None
        if len(items) >= limit and source_index < len(sources):
            state = {"list": list_name, "source": source_index, "key": None}
            return Page(items, encode_cursor(state))
    return Page(items, None)
