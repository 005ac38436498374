"""Cursors and paging without AWS: a cursor round-trips inside its list and scope and nowhere
else, any edit to it is a MalformedRequest, the list identity differs by every part of the
query and of the request, and paging over several sources (fake readers that behave like
DynamoDB Query, LastEvaluatedKey quirks included) returns every item exactly once, in order,
each page making at most MAX_QUERIES_PER_PAGE reads."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalicelib.core import settings
from chalicelib.core.errors import MalformedRequest
from chalicelib.core.pagination import (
    MAX_QUERIES_PER_PAGE,
    decode_cursor,
    encode_cursor,
    list_identity,
    lists_of_request,
    read_page,
    with_identity,
)
from chalicelib.core.scope import system_scope, tenant_scope
from hypothesis import given
from hypothesis import strategies as st

REQUIRED_SETTINGS = ("IDEMPOTENCY_TABLE_NAME", "EVENT_BUS_NAME", "USER_POOL_ID", "JWKS_URL", "JWT_ISSUER",
                     "JWT_AUDIENCE")


@pytest.fixture(autouse=True)
def cursor_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings without AWS: the cursor key is what matters here."""
    for name in REQUIRED_SETTINGS:
        monkeypatch.setenv(name, f"unit-{name.lower()}")
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "unit-cursor-key")
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


def fake_reader(items: list[str], page_cap: int | None = None, keep: Any = None, calls: list[int] | None = None) -> Any:
    """A Query over `items`: returns at most `limit` (and at most `page_cap`, as a 1 MB page
    would) and, like DynamoDB, a LastEvaluatedKey whenever it stopped early — even when
    nothing is left. `keep` plays a FilterExpression: skipped items still cost the read."""

    def read(limit: int, start: dict[str, Any] | None) -> tuple[list[str], dict[str, Any] | None]:
        if calls is not None:
            calls.append(limit)
        position = start["after"] if start else 0
        window = min(limit, page_cap or limit)
        scanned = items[position : position + window]
        end = position + len(scanned)
        found = [item for item in scanned if keep is None or keep(item)]
        return found, ({"after": end} if len(scanned) == window else None)

    return read


def read_everything(sources: list[Any], limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = read_page(sources, limit, cursor)
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages


# ---------- cursors ----------


def test_a_cursor_round_trips_within_its_list_and_tenant() -> None:
    with tenant_scope("acme"):
        cursor = encode_cursor({"list": "customers", "source": 1, "key": {"PK": {"S": "T#acme#X"}}})
        assert "=" not in cursor and "+" not in cursor and "/" not in cursor
        state = decode_cursor(cursor, "customers")
    assert (state["source"], state["key"]) == (1, {"PK": {"S": "T#acme#X"}})


@pytest.mark.parametrize("position", [0, 5, 20, -2])  # -2: the last character may hold only padding bits
def test_any_edited_character_makes_the_cursor_malformed(position: int) -> None:
    with tenant_scope("acme"):
        cursor = encode_cursor({"list": "customers", "source": 0, "key": {"n": 1}})
        replacement = "B" if cursor[position] != "B" else "C"
        edited = cursor[:position] + replacement + cursor[position + 1 :]
        with pytest.raises(MalformedRequest):
            decode_cursor(edited, "customers")


def test_a_forged_payload_without_the_key_is_malformed() -> None:
    payload = json.dumps({"list": "customers", "scope": "acme", "source": 0, "key": {"PK": "T#globex#X"}}).encode()
    forged = base64.urlsafe_b64encode(b"\0" * 16 + payload).decode().rstrip("=")
    with tenant_scope("acme"), pytest.raises(MalformedRequest):
        decode_cursor(forged, "customers")


@pytest.mark.parametrize("garbage", ["", "!!!", "a", "AAAA", "x" * 2048, "Zm9v"])
def test_garbage_is_malformed(garbage: str) -> None:
    with tenant_scope("acme"), pytest.raises(MalformedRequest):
        decode_cursor(garbage, "customers")


def test_a_cursor_belongs_to_one_list() -> None:
    with tenant_scope("acme"):
        cursor = encode_cursor({"list": "customers", "source": 0, "key": None})
        with pytest.raises(MalformedRequest):
            decode_cursor(cursor, "users")


def test_a_cursor_belongs_to_one_tenant() -> None:
    with tenant_scope("acme"):
        cursor = encode_cursor({"list": "customers", "source": 0, "key": None})
    with tenant_scope("globex"), pytest.raises(MalformedRequest):
        decode_cursor(cursor, "customers")
    with system_scope(), pytest.raises(MalformedRequest):
        decode_cursor(cursor, "customers")


def test_a_cursor_signed_with_another_key_is_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    with tenant_scope("acme"):
        cursor = encode_cursor({"list": "customers", "source": 0, "key": None})
        monkeypatch.setenv("CURSOR_SIGNING_KEY", "rotated")
        settings.get_settings.cache_clear()
        with pytest.raises(MalformedRequest):
            decode_cursor(cursor, "customers")


def _identity(route: str = "/customers", path: dict[str, Any] | None = None, query: dict[str, Any] | None = None,
              caller: str = "u1", partition: str = "P1") -> str:
    source = with_identity(fake_reader([]), "GSI1", partition)
    with lists_of_request("GET", route, path or {}, query or {"tier": "smb"}, caller):
        return list_identity([source])


def test_the_list_identity_differs_by_every_part_of_the_query_and_request() -> None:
    base = _identity()
    assert base == _identity(query={"tier": "smb", "cursor": "abc", "limit": 7})  # page size may change
    others = {_identity(query={"tier": "enterprise"}), _identity(query={"tier": "smb", "tag": "x"}),
              _identity(caller="u2"), _identity(route="/tasks"), _identity(path={"ticket_id": "t2"}),
              _identity(partition="P2")}
    assert base not in others and len(others) == 6


def test_a_cursor_from_one_request_is_refused_by_another() -> None:
    sources = [fake_reader(["a", "b", "c"])]
    with tenant_scope("acme"):
        with lists_of_request("GET", "/things", {}, {"tag": "x"}, "u1"):
            cursor = read_page(sources, 1, None).next_cursor
            assert cursor and read_page(sources, 1, cursor).items == ["b"]
        for query, caller in (({"tag": "y"}, "u1"), ({"tag": "x"}, "u2"), ({"tag": "x", "sort": "priority"}, "u1")):
            with lists_of_request("GET", "/things", {}, query, caller), pytest.raises(MalformedRequest):
                read_page(sources, 1, cursor)


def test_a_signed_cursor_pointing_past_the_sources_is_malformed() -> None:
    with tenant_scope("acme"):
        sources = [fake_reader(["a"])]
        cursor = encode_cursor({"list": list_identity(sources), "source": 5, "key": None})
        with pytest.raises(MalformedRequest):
            read_page(sources, 10, cursor)


# ---------- paging over sources ----------


def test_one_page_when_everything_fits() -> None:
    with tenant_scope("acme"):
        page = read_page([fake_reader(["a", "b"]), fake_reader(["c"])], 10, None)
    assert (page.items, page.next_cursor) == (["a", "b", "c"], None)


def test_a_page_fills_across_sources_and_the_cursor_resumes_mid_source() -> None:
    sources = [fake_reader(["a1", "a2", "a3"]), fake_reader(["b1", "b2", "b3"])]
    with tenant_scope("acme"):
        assert read_everything(sources, 4) == [["a1", "a2", "a3", "b1"], ["b2", "b3"]]


def test_an_exhausted_source_at_a_page_boundary_moves_the_cursor_to_the_next_source() -> None:
    sources = [fake_reader(["a1", "a2"], page_cap=5), fake_reader(["b1"])]
    with tenant_scope("acme"):
        first = read_page(sources, 2, None)
        assert first.items == ["a1", "a2"] and first.next_cursor
        assert decode_cursor(first.next_cursor, list_identity(sources))["source"] in (0, 1)
        assert read_page(sources, 2, first.next_cursor).items == ["b1"]


def test_a_filter_that_matches_nothing_costs_each_page_a_bounded_number_of_reads() -> None:
    calls: list[int] = []
    sources = [fake_reader([f"x{i}" for i in range(121)], keep=lambda item: False, calls=calls)]
    with tenant_scope("acme"):
        page = read_page(sources, 2, None)
    assert page.items == [] and page.next_cursor  # a short page with a cursor is a valid page
    assert len(calls) == MAX_QUERIES_PER_PAGE


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=4),
    limit=st.integers(min_value=1, max_value=7),
    page_cap=st.none() | st.integers(min_value=1, max_value=5),
    drop_every=st.none() | st.integers(min_value=2, max_value=4),
)
def test_paging_returns_every_item_once_in_order_with_bounded_reads(sizes: list[int], limit: int,
                                                                     page_cap: int | None,
                                                                     drop_every: int | None) -> None:
    def keep(item: str) -> bool:
        return drop_every is None or int(item.split("-")[1]) % drop_every != 0

    calls: list[int] = []
    data = [[f"s{n}-{i}" for i in range(size)] for n, size in enumerate(sizes)]
    sources = [fake_reader(items, page_cap, keep, calls) for items in data]
    with tenant_scope("acme"):
        pages, cursor = [], None
        while True:
            before = len(calls)
            page = read_page(sources, limit, cursor)
            assert len(calls) - before <= MAX_QUERIES_PER_PAGE
            pages.append(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert [item for page in pages for item in page] == [item for items in data for item in items if keep(item)]
    assert all(len(page) <= limit for page in pages)


# ---------- responses bounded in bytes ----------


@given(texts=st.lists(st.text(max_size=40), max_size=30), budget=st.integers(min_value=2500, max_value=6000))
def test_pages_by_size_fit_the_budget_as_lambda_returns_them_and_hold_every_item_once(texts: list[str],
                                                                                       budget: int) -> None:
    """Whatever the characters (JSON escapes some to 6 or 12 bytes, and Lambda's answer
    escapes the body again), each page's response, assembled, fits the budget."""
    from chalicelib.core.pagination import envelope_bytes, page_within_bytes

    items = [{"title": text} for text in texts]
    fixed = {"project": {"name": "é\\\"" * 20}, "tasks": [], "next_cursor": None}
    seen, cursor = [], None
    with tenant_scope("acme"), lists_of_request("GET", "/projects/{project_id}/board", {}, {}, "u1"):
        while True:
            page = page_within_bytes(items, fixed, cursor, budget)
            response = {**fixed, "tasks": page.items, "next_cursor": page.next_cursor}
            assert envelope_bytes(response) <= budget
            seen += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == items


def test_the_real_budget_leaves_room_under_lambdas_6_mb() -> None:
    from chalicelib.core.pagination import RESPONSE_BUDGET

    cursor_and_headers = 4096
    assert RESPONSE_BUDGET + cursor_and_headers < 6 * 1024 * 1024
