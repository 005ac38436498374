"""Lists, planned and paged once for every room: opaque, tamper-checked cursors bound to the
whole query they came from, and a bounded amount of work per page.

A list is a sequence of *sources* (page readers: one partition of the table or of an index, a
key condition, a filter, a direction, read in order — see `core.table.query_reader`). A page
makes at most `MAX_QUERIES_PER_PAGE` source reads, then answers what it has: a short, even an
empty, page with a `next_cursor` is a valid page (as a DynamoDB Query page is), so a filter
that matches nothing costs each request a fixed amount of work, never the whole partition.

The cursor records which source it stopped in and that source's LastEvaluatedKey, and the
*list identity*: a digest of the request that asked for the list (method, route, path
parameters, every query parameter but `cursor` and `limit`, the caller) and of each source's
own description (index, partition, key condition, filter, direction). It is signed with HMAC
and checked against the asking request's identity, so a cursor only continues the very query
it came from — not with another filter, another sort, another parent id, nor for another user
or tenant — and a key from another partition never reaches DynamoDB as a start key. Rooms name
nothing: the identity is derived here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chalicelib.core.errors import MalformedRequest, PayloadTooLarge, validation_error
from chalicelib.core.scope import current_scope
from chalicelib.core.settings import get_settings

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_QUERIES_PER_PAGE = 3  # source reads (Query calls) a page may make before it answers
READ_AHEAD = 100  # items a filtered Query may read to find the page's items (see query_reader)
MAX_SORTED = 1000  # a list sorted by a value no index keeps is sorted in memory, up to this many

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


# A page reader takes (limit, exclusive_start_key) and returns (at most `limit` items, the key to
# continue from — None once the source is exhausted). Each call is one Query (plus, for index
# entries, the BatchGet that resolves them). A reader may carry an `identity` attribute: the
# description of the query it makes, which the cursor is bound to.
PageReader = Callable[[int, dict[str, Any] | None], tuple[list[T], dict[str, Any] | None]]


# ---------- the list identity ----------

_request_identity: ContextVar[str | None] = ContextVar("bluehill_list_request", default=None)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


@contextmanager
def lists_of_request(method: str, route: str, path_params: dict[str, Any], query: dict[str, Any],
                     caller: str | None) -> Iterator[None]:
    """Bind every list read while serving one request to that request: its method and route,
    path parameters, normalized query parameters (less `cursor` and `limit`: a client may change
    its page size between pages) and the caller (core.http enters this for every route)."""
    params = {name: value for name, value in query.items() if name not in ("cursor", "limit")}
    token = _request_identity.set(_digest([method, route, path_params, params, caller]))
    try:
        yield
    finally:
        _request_identity.reset(token)


def identity_of(source: Any) -> Any:
    return getattr(source, "identity", None)


def with_identity(reader: Any, *parts: Any) -> Any:
    """Give a reader the description of the query it makes (index, partition, conditions…)."""
    reader.identity = [str(part) if not isinstance(part, (list, dict, type(None))) else part for part in parts]
    return reader


def list_identity(sources: list[PageReader[Any]]) -> str:
    return _digest([_request_identity.get(), [identity_of(source) for source in sources]])


# ---------- cursors ----------


def _sign(payload: bytes) -> bytes:
    key = get_settings().cursor_signing_key.encode()
    return hmac.new(key, payload, hashlib.sha256).digest()[:16]


def encode_cursor(state: dict[str, Any]) -> str:
    state = {**state, "scope": current_scope()}
    payload = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(_sign(payload) + payload).decode().rstrip("=")


def decode_cursor(cursor: str, identity: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        signature, payload = raw[:16], raw[16:]
        if not hmac.compare_digest(signature, _sign(payload)):
            raise ValueError("signature")
        state = json.loads(payload)
        if not isinstance(state, dict) or state.get("list") != identity or state.get("scope") != current_scope():
            raise ValueError("list")
        return state
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise MalformedRequest("cursor is not valid for this list") from error


# ---------- paging ----------


def read_page(sources: list[PageReader[T]], limit: int, cursor: str | None) -> Page[T]:
    """One page from the sources in order, continuing where the cursor stopped: at most
    `MAX_QUERIES_PER_PAGE` source reads, then whatever was found, with a cursor when more may
    follow."""
    identity = list_identity(sources)
    source_index, start_key = 0, None
    if cursor:
        state = decode_cursor(cursor, identity)
        source_index, start_key = state.get("source", 0), state.get("key")
        if not isinstance(source_index, int) or not 0 <= source_index < len(sources):
            raise MalformedRequest("cursor is not valid for this list")
    items: list[T] = []
    reads = 0
    while source_index < len(sources) and len(items) < limit and reads < MAX_QUERIES_PER_PAGE:
        batch, last_key = sources[source_index](limit - len(items), start_key)
        reads += 1
        items.extend(batch)
        if last_key is not None:
            start_key = last_key
        else:
            source_index, start_key = source_index + 1, None
    if source_index >= len(sources):
        return Page(items, None)
    return Page(items, encode_cursor({"list": identity, "source": source_index, "key": start_key}))


# ---------- lists sorted in memory ----------


def drain(sources: list[PageReader[Any]], cap: int, field_name: str) -> list[Any]:
    """Every item of the sources, for a sort no index keeps: refused (422 on `field_name`) past
    `cap` items or past `MAX_QUERIES_PER_PAGE` reads, so a sorted page is bounded like any."""
    items: list[Any] = []
    reads = 0
    for source in sources:
        start = None
        while True:
            if reads == MAX_QUERIES_PER_PAGE:
                raise validation_error(field_name, "this sort reads too many partitions or items in one request; "
                                       "narrow the filters (e.g. project_id) or use the default sort")
            batch, start = source(cap + 1 - len(items), start)
            reads += 1
            items += batch
            if len(items) > cap:
                raise validation_error(field_name, f"sorting more than {cap} items this way is not supported; "
                                       "narrow the filters")
            if not start:
                break
    return items


def sorted_source(sources: list[PageReader[Any]], key: Callable[[Any], Any],
                  field_name: str = "sort") -> PageReader[Any]:
    """Pages over everything the sources hold, sorted in memory by `key`; the cursor keeps the
    offset (each page reads the sources again: this is for lists of at most MAX_SORTED)."""

    def read(limit: int, start: dict[str, Any] | None) -> tuple[list[Any], dict[str, Any] | None]:
        items = sorted(drain(sources, MAX_SORTED, field_name), key=key)
        offset = start.get("offset", 0) if isinstance(start, dict) else 0
        end = offset + limit
        return items[offset:end], ({"offset": end} if end < len(items) else None)

    return with_identity(read, "sorted", [identity_of(source) for source in sources])


# ---------- responses bounded in bytes ----------

# Lambda refuses a response over 6 MB (6,291,456 bytes) — the body travels as a JSON string
# inside Lambda's JSON answer, so its quotes and escapes count twice. A page measured this way
# stays under RESPONSE_BUDGET, leaving room for headers and the envelope.
RESPONSE_BUDGET = 5_000_000
CURSOR_ROOM = 512  # a cursor of an offset is ~150 characters


def envelope_bytes(value: Any) -> int:
    """What `value` costs in Lambda's answer: its compact JSON, as a JSON string."""
    return len(json.dumps(json.dumps(value, separators=(",", ":"))))


def page_within_bytes(items: list[T], fixed: Any, cursor: str | None, budget: int | None = None) -> Page[T]:
    """As many of `items` (JSON-ready, in order, from the cursor's offset) as fit, with `fixed`
    (the rest of the response), in `budget` bytes as Lambda returns them; the cursor keeps the
    offset, bound to the request like every cursor."""
    budget = budget or RESPONSE_BUDGET
    identity = list_identity([])
    offset = 0
    if cursor:
        offset = decode_cursor(cursor, identity).get("offset")
        if not isinstance(offset, int) or not 0 <= offset <= len(items):
            raise MalformedRequest("cursor is not valid for this list")
    used, end = envelope_bytes(fixed) + CURSOR_ROOM, offset
    while end < len(items):
        cost = envelope_bytes(items[end]) + 1  # and the comma before it
        if used + cost > budget:
            break
        used, end = used + cost, end + 1
    if end == offset and end < len(items):
        raise PayloadTooLarge(f"the response would exceed {budget} bytes")
    next_cursor = encode_cursor({"list": identity, "offset": end}) if end < len(items) else None
    return Page(items[offset:end], next_cursor)
