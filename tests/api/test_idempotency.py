"""What an Idempotency-Key is bound to: the caller and the route with its path parameters. The
same key and body on another route, on the same route for another resource, or from another
caller is a new request — never a replay of someone else's answer."""

from __future__ import annotations

from typing import Any

from foundation_helpers import unique


def created(response: Any) -> dict[str, Any]:
    assert response.status == 201, response.body
    return response.json


def test_one_key_and_body_on_two_customers_projects_makes_a_project_on_each(acme: Any) -> None:
    api, key, body = acme.as_("owner"), unique("key-"), {"name": unique("Same Board ")}
    first, second = (created(api.post("/customers", {"name": unique("Idem ")})) for _ in range(2))
    on_first = created(api.post(f"/customers/{first['id']}/projects", body, headers={"Idempotency-Key": key}))
    on_second = created(api.post(f"/customers/{second['id']}/projects", body, headers={"Idempotency-Key": key}))
    assert on_first["id"] != on_second["id"]
    assert (on_first["customer_id"], on_second["customer_id"]) == (first["id"], second["id"])
    again = created(api.post(f"/customers/{second['id']}/projects", body, headers={"Idempotency-Key": key}))
    assert again == on_second  # on its own route, the key still replays


def test_one_key_and_body_on_another_route_is_not_a_replay(acme: Any) -> None:
    api, key, body = acme.as_("owner"), unique("key-"), {"name": unique("Same Name ")}
    customer = created(api.post("/customers", body, headers={"Idempotency-Key": key}))
    queue = created(api.post("/queues", body, headers={"Idempotency-Key": key}))
    assert queue["id"] != customer["id"] and "routing" in queue
    assert api.get(f"/queues/{queue['id']}").status == 200


def test_one_key_and_body_from_another_caller_is_not_a_replay(acme: Any, globex: Any) -> None:
    key, body = unique("key-"), {"name": unique("Per Caller ")}
    mine = created(acme.as_("owner").post("/customers", body, headers={"Idempotency-Key": key}))
    colleague = created(acme.as_("admin").post("/customers", body, headers={"Idempotency-Key": key}))
    stranger = created(globex.as_("owner").post("/customers", body, headers={"Idempotency-Key": key}))
    assert len({mine["id"], colleague["id"], stranger["id"]}) == 3
    assert globex.as_("owner").get(f"/customers/{mine['id']}").status == 404
