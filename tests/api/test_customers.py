"""The customer record through the API: create, read, filter, page, change, archive — and who
may see and change which customer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from foundation_helpers import EventLog, all_items, assert_problem, header, unique


@pytest.fixture(scope="module")
def events(aws: Any) -> Iterator[EventLog]:
    with EventLog.on_bus("customers-events") as log:
        yield log


def create(api: Any, **fields: Any) -> dict[str, Any]:
    response = api.post("/customers", {"name": unique("Customer "), **fields})
    assert response.status == 201, response.body
    return response.json


def names(response: Any) -> list[str]:
    assert response.status == 200, response.body
    return [item["name"] for item in response.json["items"]]


def ids(response: Any) -> set[str]:
    assert response.status == 200, response.body
    return {item["id"] for item in response.json["items"]}


def read_all(api: Any, query: str, limit: int) -> list[dict[str, Any]]:
    return all_items(api, f"/customers?{query}&limit={limit}")


# ---------- create and read ----------


def test_owner_creates_a_customer_with_every_field_and_reads_it_back(acme: Any) -> None:
    api = acme.as_("owner")
    body = {
        "name": unique("Initech "),
        "domains": [f"{unique('initech')}.example"],
        "tier": "enterprise",
        "segment": "fintech",
        "tags": ["pilot", "emea"],
        "lifecycle_stage": "onboarding",
        "owner_id": acme.users["member"],
        "team_ids": [acme.users["admin"]],
        "contract_start": "2026-01-05",
        "renewal_date": "2027-01-05",
        "signup_date": "2025-12-01",
        "mrr": {"amount": 125_000, "currency": "EUR"},
        "custom_fields": {"region": {"type": "select", "value": "north", "options": ["north", "south"]}},
    }
    created = api.post("/customers", body)
    assert created.status == 201, created.body
    assert created.json["version"] == 1
    assert created.json["archived"] is False
    assert created.json["created_at"].endswith("Z")
    fetched = api.get(f"/customers/{created.json['id']}")
    assert fetched.status == 200
    assert {key: fetched.json[key] for key in body} == body


def test_a_customer_needs_a_name(acme: Any) -> None:
    assert_problem(acme.as_("owner").post("/customers", {"tier": "smb"}), 422, "name")


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"tier": "platinum"}, "tier"),
        ({"lifecycle_stage": "dormant"}, "lifecycle_stage"),
        ({"domains": ["not a domain"]}, "domains"),
        ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
        ({"tags": ["has#hash"]}, "tags"),
        ({"mrr": {"amount": -1, "currency": "USD"}}, "mrr"),
        ({"mrr": {"amount": 10, "currency": "usd"}}, "mrr"),
        ({"mrr": {"amount": "100", "currency": "USD"}}, "mrr.amount"),
        ({"mrr": {"amount": True, "currency": "USD"}}, "mrr.amount"),
        ({"mrr": {"amount": 100.0, "currency": "USD"}}, "mrr.amount"),
        ({"custom_fields": {"arr": {"type": "money", "value": {"amount": "5", "currency": "USD"}}}}, "custom_fields"),
        ({"custom_fields": {"arr": {"type": "money", "value": 500}}}, "custom_fields"),
        ({"name": "Nul\u0000Co"}, "name"),
        ({"name": "Escape \u001b[31mred"}, "name"),
        ({"name": "Two\nLines"}, "name"),
        ({"segment": "C1 \u0085 control"}, "segment"),
        ({"tags": ["bell\u0007"]}, "tags"),
        ({"custom_fields": {"note": {"type": "text", "value": "nul\u0000"}}}, "custom_fields"),
        ({"contract_start": "05/01/2026"}, "contract_start"),
        ({"custom_fields": {"seats": {"type": "number", "value": "many"}}}, "custom_fields"),
        ({"custom_fields": {"plan": {"type": "select", "value": "gold", "options": ["silver"]}}}, "custom_fields"),
        ({"custom_fields": {"Bad Key": {"type": "text", "value": "x"}}}, "custom_fields"),
        ({"id": "chosen-by-client"}, "id"),
        ({"version": 7}, "version"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_or_unknown_fields_are_refused_naming_the_field(acme: Any, body: dict[str, Any],
                                                                field_name: str) -> None:
    assert_problem(acme.as_("owner").post("/customers", {"name": "Invalid Co", **body}), 422, field_name)


def test_owner_and_team_must_be_active_members_of_the_team(acme: Any) -> None:
    api = acme.as_("owner")
    assert_problem(api.post("/customers", {"name": "Ghost Owned", "owner_id": "nobody"}), 422, "owner_id")
    assert_problem(api.post("/customers", {"name": "Ghost Team", "team_ids": ["nobody"]}), 422, "team_ids")
    assert "Ghost Owned" not in names(api.get("/customers?q=Ghost"))


# ---------- filters and lookups ----------


@pytest.fixture(scope="module")
def catalog(acme: Any) -> dict[str, Any]:
    """Five customers under one unique name prefix, so list assertions see only them."""
    api, prefix = acme.as_("owner"), unique("Catalog")
    member, admin = acme.users["member"], acme.users["admin"]
    specs = {
        "alpha": {"tier": "enterprise", "lifecycle_stage": "active", "tags": ["vip"], "owner_id": member},
        "beta": {"tier": "smb", "lifecycle_stage": "active", "tags": ["vip", "emea"], "owner_id": admin},
        "gamma": {"tier": "smb", "lifecycle_stage": "at_risk", "tags": ["emea"], "owner_id": member},
        "delta": {"tier": "mid_market", "lifecycle_stage": "renewal"},
        "epsilon": {"tier": "smb", "lifecycle_stage": "churned", "owner_id": member},
    }
    made = {key: create(api, name=f"{prefix} {key}", **fields) for key, fields in specs.items()}
    return {"prefix": prefix, "by_key": made, "names": {key: c["name"] for key, c in made.items()}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["alpha", "beta", "delta", "epsilon", "gamma"]),
        ("tier=smb", ["beta", "epsilon", "gamma"]),
        ("lifecycle_stage=active", ["alpha", "beta"]),
        ("tag=vip", ["alpha", "beta"]),
        ("tag=emea&tier=smb", ["beta", "gamma"]),
        ("owner_id={member}", ["alpha", "epsilon", "gamma"]),
        ("owner_id={member}&tier=smb", ["epsilon", "gamma"]),
        ("owner_id={member}&lifecycle_stage=at_risk", ["gamma"]),
        ("tier=enterprise&lifecycle_stage=churned", []),
    ],
)
def test_filters_narrow_the_list(acme: Any, catalog: dict[str, Any], query: str, expected: list[str]) -> None:
    query = query.format(member=acme.users["member"])
    found = read_all(acme.as_("owner"), f"q={catalog['prefix']}&{query}", limit=50)
    assert sorted(item["name"] for item in found) == sorted(catalog["names"][key] for key in expected)


def test_q_is_a_case_insensitive_name_prefix(acme: Any, catalog: dict[str, Any]) -> None:
    api = acme.as_("owner")
    assert names(api.get(f"/customers?q={catalog['prefix'].upper()} AL")) == [catalog["names"]["alpha"]]
    assert names(api.get(f"/customers?q={catalog['prefix']} al&tier=enterprise")) == [catalog["names"]["alpha"]]
    assert names(api.get("/customers?q=lpha")) == []


def test_a_customer_is_found_by_any_of_its_email_domains(acme: Any) -> None:
    api = acme.as_("owner")
    first, second = f"{unique('hooli')}.example", f"{unique('hooli-mail')}.example"
    customer = create(api, domains=[first, second])
    assert ids(api.get(f"/customers?domain={second}")) == {customer["id"]}
    assert ids(api.get(f"/customers?domain={first.upper()}")) == {customer["id"]}
    assert ids(api.get(f"/customers?domain=unknown-{first}")) == set()
    assert_problem(api.get("/customers?domain=not_a_domain"), 422, "domain")


def _dynamodb_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """(operation, index) of every read the route makes through PynamoDB's connection (the
    authorizer's read of the caller's user item is not the route's)."""
    from pynamodb.connection.base import Connection

    made: list[tuple[str, str | None]] = []
    for operation in ("get_item", "query", "batch_get_item"):
        original = getattr(Connection, operation)

        def counted(self: Any, *args: Any, _original: Any = original, _operation: str = operation,
                    **kwargs: Any) -> Any:
            if "#USER#" not in str(args[1] if len(args) > 1 else ""):
                made.append((_operation, kwargs.get("index_name")))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Connection, operation, counted)
    return made


def test_the_customer_of_a_domain_is_one_read_and_current(acme: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api, domain = acme.as_("owner"), f"{unique('onecall')}.example"
    customer = create(api, domains=[domain, f"other-{domain}"], tier="smb")
    changes = {"version": 1, "name": unique("Renamed "), "tier": "enterprise"}
    renamed = api.patch(f"/customers/{customer['id']}", changes)
    assert renamed.status == 200
    reads = _dynamodb_reads(monkeypatch)
    found = api.get(f"/customers?domain={domain}")
    assert [item["name"] for item in found.json["items"]] == [renamed.json["name"]]
    assert found.json["items"][0]["tier"] == "enterprise" and found.json["items"][0]["version"] == 2
    assert reads == [("get_item", None)]
    assert ids(api.get(f"/customers?domain={domain}&tier=smb")) == set()


def test_a_customer_too_large_to_copy_onto_its_domain_claim_is_still_found(acme: Any,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.customers import service

    monkeypatch.setattr(service, "CLAIM_SNAPSHOT_LIMIT", 10)
    api, domain = acme.as_("owner"), f"{unique('large')}.example"
    customer = create(api, domains=[domain])
    assert ids(api.get(f"/customers?domain={domain}")) == {customer["id"]}
    assert ids(acme.as_("member").get(f"/customers?domain={domain}")) == set()


def test_tier_and_lifecycle_stage_together_read_one_partition_of_matches(acme: Any, catalog: dict[str, Any],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    api = acme.as_("owner")
    reads = _dynamodb_reads(monkeypatch)
    page = api.get(f"/customers?q={catalog['prefix']}&tier=smb&lifecycle_stage=at_risk")
    assert names(page) == [catalog["names"]["gamma"]]
    assert reads == [("query", "GSI5")]


def test_a_domain_belongs_to_one_customer_per_tenant(acme: Any, globex: Any) -> None:
    api, domain = acme.as_("owner"), f"{unique('umbrella')}.example"
    first = create(api, domains=[domain])
    assert_problem(api.post("/customers", {"name": "Umbrella Again", "domains": [domain]}), 409)
    other = create(api)
    taking = api.patch(f"/customers/{other['id']}", {"version": 1, "domains": [domain]})
    assert_problem(taking, 409)
    assert api.get(f"/customers/{other['id']}").json["version"] == 1
    assert create(globex.as_("owner"), domains=[domain])["domains"] == [domain]  # another tenant may use it
    released = api.patch(f"/customers/{first['id']}", {"version": 1, "domains": []})
    assert released.status == 200, released.body
    assert api.patch(f"/customers/{other['id']}", {"version": 1, "domains": [domain]}).status == 200
    assert ids(api.get(f"/customers?domain={domain}")) == {other["id"]}


# ---------- pagination ----------


def test_pages_follow_the_cursor_without_gaps_or_repeats(acme: Any, catalog: dict[str, Any]) -> None:
    api = acme.as_("owner")
    first = api.get(f"/customers?q={catalog['prefix']}&limit=2")
    assert len(first.json["items"]) == 2 and first.json["next_cursor"]
    found = read_all(api, f"q={catalog['prefix']}", limit=2)
    assert sorted(item["name"] for item in found) == sorted(catalog["names"].values())
    assert len({item["id"] for item in found}) == 5


def test_a_tampered_cursor_is_a_bad_request(acme: Any, catalog: dict[str, Any]) -> None:
    api = acme.as_("owner")
    cursor = api.get(f"/customers?q={catalog['prefix']}&limit=1").json["next_cursor"]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    assert_problem(api.get(f"/customers?q={catalog['prefix']}&limit=1&cursor={flipped}"), 400)
    assert_problem(api.get("/customers?cursor=not-a-cursor"), 400)


def test_a_customers_cursor_is_bound_to_its_reader(acme: Any, catalog: dict[str, Any]) -> None:
    """Another user of the same tenant, even one who reads every customer, gets a 400."""
    path = f"/customers?q={catalog['prefix']}&limit=1"
    cursor = acme.as_("owner").get(path).json["next_cursor"]
    assert acme.as_("owner").get(f"{path}&cursor={cursor}").status == 200
    for role in ("admin", "readonly", "member"):
        assert_problem(acme.as_(role).get(f"{path}&cursor={cursor}"), 400)


def test_a_cursor_only_continues_the_list_it_came_from(acme: Any, globex: Any, catalog: dict[str, Any]) -> None:
    api = acme.as_("owner")
    cursor = api.get(f"/customers?q={catalog['prefix']}&limit=1").json["next_cursor"]
    assert_problem(api.get(f"/customers?tier=smb&limit=1&cursor={cursor}"), 400)
    assert_problem(api.get(f"/customers?q={catalog['prefix']}&tag=vip&cursor={cursor}"), 400)
    assert_problem(api.get(f"/users?cursor={cursor}"), 400)
    assert_problem(globex.as_("owner").get(f"/customers?q={catalog['prefix']}&limit=1&cursor={cursor}"), 400)
    users_cursor = api.get("/users?limit=1").json["next_cursor"]
    assert_problem(api.get(f"/customers?cursor={users_cursor}"), 400)


@pytest.mark.parametrize("limit", ["0", "201", "many"])
def test_limit_must_be_between_1_and_200(acme: Any, limit: str) -> None:
    assert_problem(acme.as_("owner").get(f"/customers?limit={limit}"), 422, "limit")


# ---------- change ----------


def test_a_patch_changes_only_the_fields_sent_and_bumps_the_version(acme: Any) -> None:
    api = acme.as_("owner")
    customer = create(api, tier="smb", tags=["pilot"])
    changed = api.patch(f"/customers/{customer['id']}", {"version": 1, "tier": "enterprise", "segment": "retail"})
    assert changed.status == 200, changed.body
    assert (changed.json["tier"], changed.json["segment"], changed.json["tags"]) == ("enterprise", "retail", ["pilot"])
    assert changed.json["version"] == 2
    assert api.get(f"/customers/{customer['id']}").json == changed.json


def test_a_stale_version_is_a_conflict_and_changes_nothing(acme: Any) -> None:
    api = acme.as_("owner")
    customer = create(api, segment="before")
    assert api.patch(f"/customers/{customer['id']}", {"version": 1, "segment": "first"}).status == 200
    assert_problem(api.patch(f"/customers/{customer['id']}", {"version": 1, "segment": "second"}), 409)
    current = api.get(f"/customers/{customer['id']}").json
    assert (current["segment"], current["version"]) == ("first", 2)


def test_if_match_carries_the_version_when_the_body_does_not(acme: Any) -> None:
    api = acme.as_("owner")
    customer = create(api)
    path = f"/customers/{customer['id']}"
    assert api.patch(path, {"segment": "via-header"}, headers={"If-Match": '"1"'}).status == 200
    assert_problem(api.patch(path, {"segment": "stale"}, headers={"If-Match": '"1"'}), 409)
    assert_problem(api.patch(path, {"segment": "no version"}), 422, "version")
    assert api.get(path).json["segment"] == "via-header"


def test_custom_fields_merge_and_null_removes_one(acme: Any) -> None:
    api = acme.as_("owner")
    customer = create(api, custom_fields={"seats": {"type": "number", "value": 10},
                                          "renews": {"type": "bool", "value": True}})
    changed = api.patch(f"/customers/{customer['id']}", {
        "version": 1, "custom_fields": {"seats": None, "kickoff": {"type": "date", "value": "2026-03-01"}},
    })
    assert changed.status == 200, changed.body
    assert changed.json["custom_fields"] == {"renews": {"type": "bool", "value": True},
                                            "kickoff": {"type": "date", "value": "2026-03-01"}}


def invite_members(world: Any, count: int) -> list[str]:
    from chalicelib.core.scope import tenant_scope
    from chalicelib.team import service as team

    with tenant_scope(world.tenant_id):
        return [team.invite_user(world.principal("owner"), {"email": f"{unique('m')}@{world.tenant_id}.example",
                                                            "name": "Member", "role": "member"}).id
                for _ in range(count)]


def test_a_change_too_big_for_one_transaction_is_refused_naming_its_fields(acme: Any) -> None:
    """Replacing domains, tags and team at once is a claim, an index entry and a user check per
    element, removed and added: past DynamoDB's 100 items per transaction it is a 422, not a 500."""
    api, people = acme.as_("owner"), invite_members(acme, 28)
    customer = create(api, domains=[f"{unique('old')}.example" for _ in range(10)],
                      tags=[f"old{n}" for n in range(20)], team_ids=people[:14])
    replace = {"domains": [f"{unique('new')}.example" for _ in range(10)], "tags": [f"new{n}" for n in range(20)],
               "team_ids": people[14:]}
    refused = assert_problem(api.patch(f"/customers/{customer['id']}", {"version": 1, **replace}), 422, "domains")
    assert {error["field"] for error in refused["errors"]} == {"domains", "tags", "team_ids"}
    assert "at most 100" in refused["detail"]
    assert api.get(f"/customers/{customer['id']}").json == customer
    for field_name, value in replace.items():  # one field at a time fits
        changed = api.patch(f"/customers/{customer['id']}", {field_name: value},
                            headers={"If-Match": str(api.get(f"/customers/{customer['id']}").json["version"])})
        assert changed.status == 200, changed.body
        assert changed.json[field_name] == value


def test_an_unknown_customer_is_not_found(acme: Any) -> None:
    api = acme.as_("owner")
    assert_problem(api.get("/customers/01nope"), 404)
    assert_problem(api.patch("/customers/01nope", {"version": 1, "segment": "x"}), 404)
    assert_problem(api.delete("/customers/01nope"), 404)


# ---------- archive ----------


def test_archiving_hides_a_customer_from_default_lists_only(acme: Any) -> None:
    api, prefix, domain = acme.as_("owner"), unique("Archivable"), f"{unique('gone')}.example"
    kept = create(api, name=f"{prefix} kept", tier="smb")
    gone = create(api, name=f"{prefix} gone", tier="smb", domains=[domain])
    archived = api.delete(f"/customers/{gone['id']}")
    assert archived.status == 200, archived.body
    assert (archived.json["archived"], archived.json["version"]) == (True, 2)
    assert ids(api.get(f"/customers?q={prefix}")) == {kept["id"]}
    assert ids(api.get(f"/customers?q={prefix}&tier=smb")) == {kept["id"]}
    assert ids(api.get(f"/customers?q={prefix}&include_archived=true")) == {kept["id"], gone["id"]}
    assert ids(api.get(f"/customers?domain={domain}")) == set()
    assert ids(api.get(f"/customers?domain={domain}&include_archived=true")) == {gone["id"]}
    assert api.get(f"/customers/{gone['id']}").json["archived"] is True
    assert_problem(api.patch(f"/customers/{gone['id']}", {"version": 2, "segment": "x"}), 409)


def test_include_archived_pages_through_active_then_archived(acme: Any) -> None:
    api, prefix = acme.as_("owner"), unique("Mixed")
    made = [create(api, name=f"{prefix} {n}") for n in range(4)]
    for customer in made[:2]:
        assert api.delete(f"/customers/{customer['id']}").status == 200
    found = read_all(api, f"q={prefix}&include_archived=true", limit=1)
    assert [item["archived"] for item in found] == [False, False, True, True]
    assert {item["id"] for item in found} == {c["id"] for c in made}


# ---------- who sees and changes what ----------


def test_member_sees_and_edits_only_customers_they_own_or_are_on_the_team_of(acme: Any) -> None:
    owner, member, prefix = acme.as_("owner"), acme.as_("member"), unique("Reach")
    owned = create(owner, name=f"{prefix} owned", owner_id=acme.users["member"])
    teamed = create(owner, name=f"{prefix} teamed", team_ids=[acme.users["member"]])
    foreign = create(owner, name=f"{prefix} foreign", owner_id=acme.users["admin"])
    assert ids(member.get(f"/customers?q={prefix}")) == {owned["id"], teamed["id"]}
    assert member.get(f"/customers/{teamed['id']}").status == 200
    assert_problem(member.get(f"/customers/{foreign['id']}"), 404)
    assert member.patch(f"/customers/{owned['id']}", {"version": 1, "segment": "mine"}).status == 200
    assert_problem(member.patch(f"/customers/{foreign['id']}", {"version": 1, "segment": "theirs"}), 404)
    assert_problem(member.delete(f"/customers/{foreign['id']}"), 404)
    assert owner.get(f"/customers/{foreign['id']}").json["version"] == 1


def test_a_member_owns_what_they_create(acme: Any) -> None:
    created = create(acme.as_("member"))
    assert created["owner_id"] == acme.users["member"]
    assert acme.as_("member").get(f"/customers/{created['id']}").status == 200


def test_a_member_who_hands_a_customer_away_keeps_access_through_the_team(acme: Any) -> None:
    member = acme.as_("member")
    created = member.post("/customers", {"name": unique("Handover "), "owner_id": acme.users["admin"]})
    assert created.status == 201, created.body
    assert created.json["team_ids"] == [acme.users["member"]]
    assert member.get(f"/customers/{created.json['id']}").status == 200


def test_contractor_reads_assigned_customers_and_never_sees_money(acme: Any) -> None:
    owner, contractor, prefix = acme.as_("owner"), acme.as_("contractor"), unique("Contracted")
    money = {"mrr": {"amount": 99_00, "currency": "USD"}}
    assigned = create(owner, name=f"{prefix} assigned", team_ids=[acme.users["contractor"]], **money)
    other = create(owner, name=f"{prefix} other", **money)
    listed = contractor.get(f"/customers?q={prefix}")
    assert ids(listed) == {assigned["id"]}
    fetched = contractor.get(f"/customers/{assigned['id']}")
    assert fetched.status == 200
    for body in (fetched.json, *listed.json["items"]):
        assert "mrr" not in body and "arr" not in body
    assert_problem(contractor.get(f"/customers/{other['id']}"), 404)
    assert_problem(contractor.patch(f"/customers/{assigned['id']}", {"version": 1, "segment": "x"}), 403)


def test_contractor_never_sees_money_kept_in_custom_fields(acme: Any) -> None:
    owner, contractor = acme.as_("owner"), acme.as_("contractor")
    custom = {"arr": {"type": "number", "value": 120_000}, "budget": {"type": "money",
                                                                      "value": {"amount": 5_000_00, "currency": "EUR"}},
              "discount": {"type": "text", "value": "20% off", "financial": True},
              "region": {"type": "text", "value": "north"}}
    customer = create(owner, team_ids=[acme.users["contractor"]], custom_fields=custom)
    assert owner.get(f"/customers/{customer['id']}").json["custom_fields"] == custom
    fetched = contractor.get(f"/customers/{customer['id']}").json
    listed = next(item for item in contractor.get(f"/customers?q={customer['name']}").json["items"])
    for body in (fetched, listed):
        assert body["custom_fields"] == {"region": {"type": "text", "value": "north"}}


def test_text_inputs_refuse_control_characters_elsewhere_too(acme: Any) -> None:
    api = acme.as_("owner")
    customer = create(api)
    assert_problem(api.post(f"/customers/{customer['id']}/contacts", {"name": "Ann\u0000", "email": "a@b.example"}),
                   422, "name")
    assert_problem(api.post(f"/customers/{customer['id']}/contacts", {"name": "Ann", "email": "a\u0000b@b.example"}),
                   422, "email")
    assert_problem(api.post("/users", {"email": "x@y.example", "name": "Del\u007f", "role": "member"}), 422, "name")
    assert_problem(api.post(f"/customers/{customer['id']}/projects", {"name": "P\u0000"}), 422, "name")
    assert api.post(f"/customers/{customer['id']}/projects", {"name": "Plain, ünïcode — fine"}).status == 201


def test_portal_user_sees_only_their_company_with_portal_safe_fields(acme: Any) -> None:
    owner, portal = acme.as_("owner"), acme.as_("portal")
    own = acme.portal_customer_id
    owner.patch(f"/customers/{own}", {"mrr": {"amount": 5, "currency": "USD"}, "segment": "secret"},
                headers={"If-Match": str(owner.get(f"/customers/{own}").json["version"])})
    other = create(owner)
    listed = portal.get("/customers")
    assert ids(listed) == {own}
    fetched = portal.get(f"/customers/{own}")
    assert fetched.status == 200
    for body in (fetched.json, *listed.json["items"]):
        assert set(body) <= {"id", "name", "owner_id", "contract_start", "lifecycle_stage"}, body
    assert_problem(portal.get(f"/customers/{other['id']}"), 404)
    assert ids(portal.get(f"/customers?domain={unique('any')}.example")) == set()
    assert_problem(portal.post("/customers", {"name": "Portal Made"}), 403)


def test_readonly_reads_everything_and_writes_nothing(acme: Any) -> None:
    owner, readonly = acme.as_("owner"), acme.as_("readonly")
    customer = create(owner, mrr={"amount": 1, "currency": "USD"})
    fetched = readonly.get(f"/customers/{customer['id']}")
    assert fetched.status == 200 and fetched.json["mrr"] == {"amount": 1, "currency": "USD"}
    assert_problem(readonly.post("/customers", {"name": "Readonly Made"}), 403)
    assert_problem(readonly.patch(f"/customers/{customer['id']}", {"version": 1, "segment": "x"}), 403)
    assert_problem(readonly.delete(f"/customers/{customer['id']}"), 403)
    assert owner.get(f"/customers/{customer['id']}").json == customer
    assert "Readonly Made" not in names(owner.get("/customers?q=Readonly"))


def test_another_tenant_neither_sees_nor_changes_a_customer(acme: Any, globex: Any) -> None:
    customer = create(acme.as_("owner"), domains=[f"{unique('private')}.example"])
    intruder = globex.as_("owner")
    assert_problem(intruder.get(f"/customers/{customer['id']}"), 404)
    assert_problem(intruder.patch(f"/customers/{customer['id']}", {"version": 1, "segment": "x"}), 404)
    assert_problem(intruder.delete(f"/customers/{customer['id']}"), 404)
    assert ids(intruder.get(f"/customers?domain={customer['domains'][0]}")) == set()
    assert customer["id"] not in ids(intruder.get(f"/customers?q={customer['name']}"))
    assert acme.as_("owner").get(f"/customers/{customer['id']}").json == customer


# ---------- audit, events, idempotency ----------


def audit_of(world: Any, entity_id: str) -> list[dict[str, Any]]:
    response = world.as_("owner").get(f"/audit?entity_id={entity_id}")
    assert response.status == 200, response.body
    return response.json["items"]


def test_every_write_leaves_an_audit_entry_with_before_and_after(acme: Any) -> None:
    api = acme.as_("admin")
    customer = create(api, tier="smb")
    changed = api.patch(f"/customers/{customer['id']}", {"version": 1, "tier": "enterprise"})
    api.delete(f"/customers/{customer['id']}")
    entries = audit_of(acme, customer["id"])
    assert [entry["action"] for entry in entries] == ["archive", "update", "create"]
    archive, update, creation = entries
    assert creation["changes"]["tier"] == {"before": None, "after": "smb"}
    assert update["changes"] == {"tier": {"before": "smb", "after": "enterprise"}}
    assert archive["changes"] == {"archived": {"before": False, "after": True}}
    assert {entry["actor_id"] for entry in entries} == {acme.users["admin"]}
    assert {entry["entity_type"] for entry in entries} == {"customer"}
    assert update["request_id"] == header(changed, "x-request-id")


def test_a_refused_write_leaves_no_audit_entry(acme: Any) -> None:
    api = acme.as_("owner")
    customer = create(api)
    api.patch(f"/customers/{customer['id']}", {"version": 9, "segment": "stale"})
    acme.as_("readonly").delete(f"/customers/{customer['id']}")
    assert [entry["action"] for entry in audit_of(acme, customer["id"])] == ["create"]


def test_every_write_publishes_its_domain_event(acme: Any, events: EventLog) -> None:
    api = acme.as_("owner")
    customer = create(api, tier="smb")
    api.patch(f"/customers/{customer['id']}", {"version": 1, "tier": "mid_market"})
    api.delete(f"/customers/{customer['id']}")
    created = events.of("Customer.Created", customer_id=customer["id"])
    updated = events.of("Customer.Updated", customer_id=customer["id"])
    archived = events.of("Customer.Archived", customer_id=customer["id"])
    assert (len(created), len(updated), len(archived)) == (1, 1, 1)
    assert created[0]["source"] == "bluehill.customers"
    assert created[0]["detail"]["tenant_id"] == acme.tenant_id
    assert updated[0]["detail"]["data"]["changes"] == {"tier": {"before": "smb", "after": "mid_market"}}
    assert archived[0]["detail"]["occurred_at"].endswith("Z")


def test_a_refused_write_publishes_nothing(acme: Any, events: EventLog) -> None:
    customer = create(acme.as_("owner"))
    acme.as_("owner").patch(f"/customers/{customer['id']}", {"version": 5, "segment": "stale"})
    assert events.of("Customer.Updated", customer_id=customer["id"]) == []


def test_the_same_idempotency_key_and_body_return_the_first_answer(acme: Any) -> None:
    api, key, body = acme.as_("owner"), unique("create-"), {"name": unique("Idempotent ")}
    first = api.post("/customers", body, headers={"Idempotency-Key": key})
    again = api.post("/customers", body, headers={"Idempotency-Key": key})
    assert (first.status, again.status) == (201, 201)
    assert again.json == first.json
    assert names(api.get(f"/customers?q={body['name']}")) == [body["name"]]


def test_the_same_idempotency_key_with_another_body_is_a_conflict(acme: Any) -> None:
    api, key = acme.as_("owner"), unique("create-")
    assert api.post("/customers", {"name": unique("First ")}, headers={"Idempotency-Key": key}).status == 201
    assert_problem(api.post("/customers", {"name": "Second Body"}, headers={"Idempotency-Key": key}), 409)
    assert names(api.get("/customers?q=Second Body")) == []


def test_an_idempotency_key_is_private_to_its_caller(acme: Any) -> None:
    key, body = unique("shared-"), {"name": unique("Per Caller ")}
    first = acme.as_("owner").post("/customers", body, headers={"Idempotency-Key": key})
    second = acme.as_("admin").post("/customers", body, headers={"Idempotency-Key": key})
    assert first.json["id"] != second.json["id"]


class LambdaDied(BaseException):
    """Stands for the Lambda being killed mid-request: no except-Exception cleanup runs."""


class NearlyTimedOut:
    def get_remaining_time_in_millis(self) -> int:
        return 1


def test_a_create_that_died_with_its_lambda_frees_its_idempotency_key_at_the_timeout(aws: Any) -> None:
    from chalicelib.core.idempotency import run_once

    key, body = unique("died-"), {"name": "Half Made"}

    def die() -> dict[str, Any]:
        raise LambdaDied

    with pytest.raises(LambdaDied):
        run_once("create_customer", key, body, die, lambda_context=NearlyTimedOut())
    time.sleep(0.01)
    retried = run_once("create_customer", key, body, lambda: {"status": 201, "body": {"id": "x"}},
                       lambda_context=NearlyTimedOut())
    assert retried == {"status": 201, "body": {"id": "x"}}
