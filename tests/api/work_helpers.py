"""What the projects, tasks and views tests share: building customers, projects and tasks
through the API, reading lists to the end, and dates relative to today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from foundation_helpers import unique


def day(offset: int = 0) -> str:
    """A calendar date `offset` days from today (UTC), as the API writes it."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, (response.status, response.body)
    return response.json


def customer(api: Any, **fields: Any) -> dict[str, Any]:
    return ok(api.post("/customers", {"name": unique("Work Co "), **fields}), 201)


def project(api: Any, customer_id: str | None = None, **fields: Any) -> dict[str, Any]:
    customer_id = customer_id or customer(api)["id"]
    return ok(api.post(f"/customers/{customer_id}/projects", {"name": unique("Board "), **fields}), 201)


def task(api: Any, project_id: str, **fields: Any) -> dict[str, Any]:
    return ok(api.post(f"/projects/{project_id}/tasks", {"title": unique("Task "), **fields}), 201)


def move(api: Any, task_id: str, **body: Any) -> dict[str, Any]:
    return ok(api.post(f"/tasks/{task_id}/move", body))


def patch(api: Any, task_id: str, **changes: Any) -> dict[str, Any]:
    current = ok(api.get(f"/tasks/{task_id}"))
    return ok(api.patch(f"/tasks/{task_id}", {"version": current["version"], **changes}))


def read_all(api: Any, path: str, limit: int = 50) -> list[dict[str, Any]]:
    """Follow next_cursor to the end of a list."""
    separator = "&" if "?" in path else "?"
    items, cursor = [], None
    while True:
        page = ok(api.get(f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def column(board: dict[str, Any], status: str) -> list[str]:
    return next([t["id"] for t in c["tasks"]] for c in board["columns"] if c["name"] == status)
