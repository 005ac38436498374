"""Helpers of the time room's API tests."""

from __future__ import annotations

from typing import Any


def customer(world: Any, name: str = "Time Co") -> str:
    team = [world.users[role] for role in ("admin", "contractor") if role in world.users]
    response = world.as_("owner").post("/customers", {"name": name, "owner_id": world.users["member"],
                                                      "team_ids": team})
    assert response.status == 201, response.body
    return response.json["id"]


def entry(world: Any, role: str, customer_id: str, day: str = "2026-06-02", minutes: int = 60, **more: Any) -> dict:
    response = world.as_(role).post("/time-entries", {"customer_id": customer_id, "date": day, "minutes": minutes,
                                                      **more})
    assert response.status == 201, response.body
    return response.json


def put_settings(world: Any, **values: Any) -> dict:
    api = world.as_("owner")
    version = api.get("/time/settings").json["version"]
    response = api.put("/time/settings", {"version": version, **values})
    assert response.status == 200, response.body
    return response.json


def put_rates(world: Any, rules: list[dict[str, Any]]) -> dict:
    api = world.as_("owner")
    version = api.get("/rates").json["version"]
    response = api.put("/rates", {"version": version, "rules": rules})
    assert response.status == 200, response.body
    return response.json


def sheet_id(world: Any, role: str, week: str) -> str:
    return f"{world.users[role]}--{week}"
