"""Malformed input never reaches a 5xx: every bad request is a 4xx Problem Details answer
(`application/problem+json`), and a 422 names the offending field.

The generic sweep sends the same garbage to every route that takes a body (present and
future); the table below it covers field-level limits route by route."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.core.http import MAX_BODY_BYTES
from chalicelib.core.permissions import roles_allowed
from foundation_helpers import assert_problem, declared_routes

BODY_ROUTES = sorted((spec.method, spec.path) for spec in declared_routes() if spec.body is not None)
BODY_LIMITS = {(spec.method, spec.path): spec.max_body_bytes for spec in declared_routes()}
# Who sends the garbage: the owner, or on the portal's own routes (portal users only) a portal user.
CALLERS = {(spec.method, spec.path): "owner" if spec.permission is None or "owner" in roles_allowed(spec.permission)
           else sorted(roles_allowed(spec.permission))[0] for spec in declared_routes()}
ANY_ID = "01hzzzzzzzzzzzzzzzzzzzzzzz"

GARBAGE_BODIES: dict[str, tuple[bytes, int]] = {
    "not-json": (b"{name: 'unquoted'}", 400),
    "truncated-json": (b'{"name": "Half', 400),
    "invalid-utf8": (b'{"name": "\xff\xfe"}', 400),
    "nan": (b'{"version": NaN}', 400),
    "infinity": (b'{"version": 1e999}', 400),
    "deeply-nested": (b"[" * 50_000 + b"]" * 50_000, 400),
    "json-array": (b'[{"name": "In An Array"}]', 422),
    "json-string": (b'"just a string"', 422),
    "json-number": (b"42", 422),
    "json-null": (b"null", 422),
    "too-large": (json.dumps({"name": "x" * (MAX_BODY_BYTES + 1)}).encode(), 413),
}


def concrete(path: str) -> str:
    """The path with every parameter filled by an id that exists nowhere."""
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + ANY_ID + path[end + 1 :]
    return path


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
@pytest.mark.parametrize("garbage", sorted(GARBAGE_BODIES))
def test_garbage_bodies_are_refused_before_anything_happens(acme: Any, method: str, path: str, garbage: str) -> None:
    raw, status = GARBAGE_BODIES[garbage]
    if len(raw) > BODY_LIMITS[(method, path)]:  # a route with a smaller limit (a public one) refuses it first
        status = 413
    assert_problem(acme.as_(CALLERS[method, path]).request(method, concrete(path), raw=raw), status,
                   "body" if status == 422 else None)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_unknown_fields_are_refused_naming_them(acme: Any, method: str, path: str) -> None:
    assert_problem(acme.as_(CALLERS[method, path]).request(method, concrete(path), {"surprise_field": 1}), 422,
                   "surprise_field")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_an_unsupported_content_type_is_refused(acme: Any, method: str, path: str) -> None:
    refused = acme.as_(CALLERS[method, path]).request(method, concrete(path), raw=b"<customer/>",
                                        headers={"Content-Type": "application/xml"})
    assert_problem(refused, 415)


LONG = "x" * 10_001
FIELD_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/customers", {"name": None}, "name"),
    ("POST", "/customers", {"name": 42}, "name"),
    ("POST", "/customers", {"name": ["Initech"]}, "name"),
    ("POST", "/customers", {"name": ""}, "name"),
    ("POST", "/customers", {"name": "x" * 201}, "name"),
    ("POST", "/customers", {"name": "Ok", "segment": LONG}, "segment"),
    ("POST", "/customers", {"name": "Ok", "tags": None}, "tags"),
    ("POST", "/customers", {"name": "Ok", "tags": "vip"}, "tags"),
    ("POST", "/customers", {"name": "Ok", "tags": ["x" * 51]}, "tags"),
    ("POST", "/customers", {"name": "Ok", "tags": [f"t{n}" for n in range(5_000)]}, "tags"),
    ("POST", "/customers", {"name": "Ok", "domains": [f"d{n}.example" for n in range(11)]}, "domains"),
    ("POST", "/customers", {"name": "Ok", "domains": {"a": "b"}}, "domains"),
    ("POST", "/customers", {"name": "Ok", "team_ids": [f"u{n}" for n in range(21)]}, "team_ids"),
    ("POST", "/customers", {"name": "Ok", "owner_id": "has spaces"}, "owner_id"),
    ("POST", "/customers", {"name": "Ok", "owner_id": "x" * 65}, "owner_id"),
    ("POST", "/customers", {"name": "Ok", "mrr": 100}, "mrr"),
    ("POST", "/customers", {"name": "Ok", "mrr": {"amount": 10**13, "currency": "USD"}}, "mrr"),
    ("POST", "/customers", {"name": "Ok", "mrr": {"amount": 1.5, "currency": "USD"}}, "mrr"),
    ("POST", "/customers", {"name": "Ok", "mrr": {"amount": 1, "currency": "USD", "extra": 1}}, "mrr"),
    ("POST", "/customers", {"name": "Ok", "renewal_date": "2026-02-30"}, "renewal_date"),
    ("POST", "/customers", {"name": "Ok", "custom_fields": [1, 2]}, "custom_fields"),
    ("POST", "/customers", {"name": "Ok", "custom_fields": {f"f{n}": None for n in range(51)}}, "custom_fields"),
    ("POST", "/customers", {"name": "Ok", "custom_fields": {"note": {"type": "text", "value": LONG}}},
     "custom_fields"),
    ("POST", "/customers", {"name": "Ok", "custom_fields": {"big": {"type": "number", "value": 10**400}}},
     "custom_fields"),
    ("POST", "/customers", {"name": "Ok", "custom_fields": {"day": {"type": "date", "value": "soon"}}},
     "custom_fields"),
    ("POST", "/customers/{customer}/contacts", {"name": "N", "email": None}, "email"),
    ("POST", "/customers/{customer}/contacts", {"name": "N", "email": "x" * 250 + "@a.example"}, "email"),
    ("POST", "/customers/{customer}/contacts", {"name": "N", "email": "n@a.example", "phone": "1" * 41}, "phone"),
    ("POST", "/customers/{customer}/contacts", {"name": "N", "email": "n@a.example", "billing": [True]},
     "billing"),
    ("PATCH", "/customers/{customer}", {"version": "one", "name": "x"}, "version"),
    ("PATCH", "/customers/{customer}", {"version": 0, "name": "x"}, "version"),
    ("PATCH", "/customers/{customer}", {"version": None, "name": "x"}, "version"),
    ("PATCH", "/customers/{customer}", {"version": 1, "name": None}, "name"),
    ("POST", "/users", {"email": "u@a.example", "name": "U", "role": None}, "role"),
    ("POST", "/users", {"email": "u@a.example", "name": "U", "role": "member", "customer_id": 7}, "customer_id"),
    ("PATCH", "/tenant", {"version": 1, "timezone": LONG}, "timezone"),
]


@pytest.fixture(scope="module")
def customer_id(acme: Any) -> str:
    created = acme.as_("owner").post("/customers", {"name": "Malformed Target"})
    assert created.status == 201, created.body
    return created.json["id"]


@pytest.mark.parametrize(("method", "path", "body", "field_name"), FIELD_CASES,
                         ids=[f"{m} {p} {f} {n}" for n, (m, p, _, f) in enumerate(FIELD_CASES)])
def test_wrong_types_nulls_and_sizes_are_refused_naming_the_field(acme: Any, customer_id: str, method: str,
                                                                  path: str, body: dict[str, Any],
                                                                  field_name: str) -> None:
    api = acme.as_("owner")
    assert_problem(api.request(method, path.format(customer=customer_id), body), 422, field_name)
    assert api.get(f"/customers/{customer_id}").json["version"] == 1


QUERY_CASES = [
    ("/customers?limit=ten", "limit"),
    ("/customers?limit=-1", "limit"),
    ("/customers?include_archived=maybe", "include_archived"),
    ("/customers?tier=gold", "tier"),
    ("/customers?q=" + "q" * 201, "q"),
    ("/customers?cursor=" + "c" * 2049, "cursor"),
    ("/customers?unknown=1", "unknown"),
    ("/contacts?email=" + "e" * 250 + "@a.example", "email"),
    ("/users?limit=1000", "limit"),
]


@pytest.mark.parametrize(("path", "field_name"), QUERY_CASES)
def test_bad_query_parameters_are_refused_naming_them(acme: Any, path: str, field_name: str) -> None:
    assert_problem(acme.as_("owner").get(path), 422, field_name)


@pytest.mark.parametrize("path", ["/customers/%00", "/customers/" + "a" * 3_000, "/customers/%C3%A9",
                                  "/contacts/..%2F..%2Fetc", "/users/%20"])
def test_odd_path_ids_are_simply_not_found(acme: Any, path: str) -> None:
    answer = acme.as_("owner").get(path) if path.startswith("/customers") else acme.as_("owner").patch(
        path, {"version": 1, "name": "x"})
    assert_problem(answer, 404)


def test_an_empty_body_is_an_empty_object(acme: Any) -> None:
    assert_problem(acme.as_("owner").request("POST", "/customers", raw=b"   "), 422, "name")


def test_json_with_a_charset_is_still_json(acme: Any) -> None:
    answer = acme.as_("owner").post("/customers", {"name": "Charset Co"},
                                    headers={"Content-Type": "application/json; charset=utf-8"})
    assert answer.status == 201, answer.body


@pytest.mark.parametrize("if_match", ["W/banana", "\u00b2", '"\u0661"', "9" * 5000, '"' + "9" * 17 + '"',
                                      'W/"-1"', "1.0"])
def test_a_garbled_if_match_is_refused_naming_it(acme: Any, customer_id: str, if_match: str) -> None:
    """Unicode digits (`²`.isdigit() is True) and 5,000 digits (past int()'s limit) were 500s."""
    api = acme.as_("owner")
    assert_problem(api.patch(f"/customers/{customer_id}", {"segment": "x"}, headers={"If-Match": if_match}), 422,
                   "If-Match")
    policy = api.get("/sla/policy").json
    body = {name: policy[name] for name in ("calendar", "targets", "first_response", "resolution", "escalation_terms")}
    assert_problem(api.put("/sla/policy", body, headers={"If-Match": if_match}), 422, "If-Match")


@pytest.mark.parametrize("version", [10**30, 2**53])
def test_a_version_past_any_record_is_refused_naming_it(acme: Any, customer_id: str, version: int) -> None:
    """A 30-digit version passed validation and reached DynamoDB, which stores at most 38 digits."""
    api = acme.as_("owner")
    assert_problem(api.patch(f"/customers/{customer_id}", {"version": version, "segment": "x"}), 422, "version")
    assert_problem(api.patch(f"/projects/{ANY_ID}", {"version": version, "name": "x"}), 422, "version")
    assert_problem(api.get(f"/templates/{ANY_ID}/diff?from={version}&to=1"), 422, "from")


def test_every_version_a_client_sends_is_bounded() -> None:
    for spec in declared_routes():
        for model in (spec.body, spec.query):
            properties = model.model_json_schema()["properties"] if model else {}
            for name, schema in properties.items():
                if name in {"version", "from", "to"} or name.endswith("_version"):
                    options = schema.get("anyOf", [schema])
                    assert all("maximum" in option for option in options if option.get("type") == "integer"), (
                        spec.method, spec.path, name, schema)


@pytest.mark.parametrize("path", ["/nope", "/customers/abc/nope", "/CUSTOMERS", "/customers/abc/contacts/xyz"])
def test_an_unknown_route_is_a_not_found_problem(acme: Any, anonymous: Any, path: str) -> None:
    assert_problem(acme.as_("owner").get(path), 404)
    assert_problem(anonymous.get(path), 404)


@pytest.mark.parametrize(("method", "path"), [("PUT", "/customers"), ("DELETE", "/users"), ("POST", "/me"),
                                              ("PATCH", "/customers/abc/contacts"), ("POST", "/health")])
def test_a_wrong_method_is_a_method_not_allowed_problem(acme: Any, method: str, path: str) -> None:
    answer = acme.as_("owner").request(method, path, {})
    assert_problem(answer, 405)
    assert method not in answer.headers.get("Allow", "")


def test_an_id_no_record_could_have_is_a_404_that_never_reaches_the_table(acme, monkeypatch):
    # moto does not enforce DynamoDB's 2 KB key limit (AWS would answer a ValidationException, a 500
    # here): the proof is that the lookup is never attempted.
    from chalicelib.customers import service

    def must_not_run(*_args, **_kwargs):
        raise AssertionError("an impossible id reached the service")

    monkeypatch.setattr(service, "get_customer", must_not_run)
    refused = acme.as_("owner").get("/customers/" + "x" * 3000)
    assert refused.status == 404 and refused.json["code"] == "not_found"
