"""Saved views through the API: a named filter and sort for a view kind, personal or shared
with the team, and at most one personal default per kind."""

from __future__ import annotations

from typing import Any

import pytest
from foundation_helpers import assert_problem, unique
from work_helpers import ids, ok, read_all


def save(api: Any, **fields: Any) -> dict[str, Any]:
    return ok(api.post("/views", {"name": unique("View "), "kind": "table", **fields}), 201)


def defaults(api: Any, kind: str) -> list[str]:
    return [v["id"] for v in read_all(api, f"/views?kind={kind}") if v["is_default"]]


def test_a_view_keeps_its_filters_and_sort_and_is_personal_by_default(acme: Any) -> None:
    api = acme.as_("member")
    view = save(api, filters={"assignee_id": "me", "overdue": True, "due_before": "2026-12-31"}, sort="priority")
    assert view["filters"] == {"assignee_id": "me", "overdue": True, "due_before": "2026-12-31"}
    assert (view["sort"], view["visibility"], view["is_default"], view["owner_id"]) == (
        "priority", "personal", False, acme.users["member"])
    assert view["id"] in ids(read_all(api, "/views?kind=table"))
    assert view["id"] not in ids(read_all(acme.as_("admin"), "/views"))


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "calendar"}, "kind"),
    ({"filters": {"color": "red"}}, "filters.color"),
    ({"filters": {"status_category": "someday"}}, "filters.status_category"),
    ({"sort": "name"}, "sort"),
    ({"visibility": "shared", "is_default": True}, "is_default"),
])
def test_a_view_that_breaks_a_rule_is_refused_naming_the_field(acme: Any, body: dict[str, Any], field: str) -> None:
    assert_problem(acme.as_("owner").post("/views", {"name": "Bad", "kind": "table", **body}), 422, field)


def test_one_personal_default_per_kind_moves_to_the_newest(acme: Any) -> None:
    api = acme.as_("admin")
    first = save(api, kind="kanban", is_default=True)
    other_kind = save(api, kind="gantt", is_default=True)
    second = save(api, kind="kanban", is_default=True)
    assert defaults(api, "kanban") == [second["id"]]
    assert defaults(api, "gantt") == [other_kind["id"]]
    back = ok(api.patch(f"/views/{first['id']}", {"version": 2, "is_default": True}))
    assert back["is_default"] is True and defaults(api, "kanban") == [first["id"]]
    ok(api.patch(f"/views/{first['id']}", {"version": 3, "is_default": False}))
    assert defaults(api, "kanban") == []
    third = save(api, kind="kanban", is_default=True)
    assert defaults(api, "kanban") == [third["id"]]
    ok(api.delete(f"/views/{third['id']}"), 204)
    assert defaults(api, "kanban") == [] and save(api, kind="kanban", is_default=True)["is_default"]


def test_everyones_default_is_their_own(acme: Any) -> None:
    mine = save(acme.as_("owner"), kind="gantt", is_default=True)
    theirs = save(acme.as_("member"), kind="gantt", is_default=True)
    assert mine["id"] in defaults(acme.as_("owner"), "gantt")
    assert theirs["id"] in defaults(acme.as_("member"), "gantt")


def test_a_shared_view_is_seen_by_the_team_and_changed_by_its_owner_or_a_curator(acme: Any) -> None:
    member = acme.as_("member")
    shared = save(member, visibility="shared", filters={"priority": "urgent"})
    for role in ("owner", "admin", "contractor", "readonly"):
        assert shared["id"] in ids(read_all(acme.as_(role), "/views")), role
    assert_problem(acme.as_("contractor").patch(f"/views/{shared['id']}", {"version": 1, "name": "Mine"}), 403)
    renamed = ok(acme.as_("admin").patch(f"/views/{shared['id']}", {"version": 1, "name": "Urgent work"}))
    assert renamed["name"] == "Urgent work" and renamed["owner_id"] == acme.users["member"]
    ok(member.delete(f"/views/{shared['id']}"), 204)
    assert shared["id"] not in ids(read_all(acme.as_("owner"), "/views"))


def test_a_personal_view_is_invisible_to_others(acme: Any) -> None:
    personal = save(acme.as_("member"))
    assert_problem(acme.as_("owner").patch(f"/views/{personal['id']}", {"version": 1, "name": "X"}), 404)
    assert_problem(acme.as_("owner").delete(f"/views/{personal['id']}"), 404)


def test_contractors_keep_personal_views_but_cannot_share_and_readonly_saves_nothing(acme: Any) -> None:
    contractor = acme.as_("contractor")
    own = save(contractor, kind="kanban")
    assert_problem(contractor.post("/views", {"name": "Team", "kind": "table", "visibility": "shared"}), 403)
    assert_problem(contractor.patch(f"/views/{own['id']}", {"version": 1, "visibility": "shared"}), 403)
    assert_problem(acme.as_("readonly").post("/views", {"name": "No", "kind": "table"}), 403)
    assert_problem(acme.as_("portal").get("/views"), 403)


def test_a_stale_version_changes_nothing(acme: Any) -> None:
    api = acme.as_("owner")
    view = save(api)
    ok(api.patch(f"/views/{view['id']}", {"version": 1, "sort": "priority"}))
    assert_problem(api.patch(f"/views/{view['id']}", {"version": 1, "sort": "due_date"}), 409)
    assert_problem(api.patch(f"/views/{view['id']}", {"version": 2, "kind": "gantt"}), 422, "kind")


def test_another_tenant_sees_and_changes_none_of_these_views(acme: Any, globex: Any) -> None:
    shared = save(acme.as_("owner"), visibility="shared")
    other = globex.as_("owner")
    assert shared["id"] not in ids(read_all(other, "/views"))
    assert_problem(other.patch(f"/views/{shared['id']}", {"version": 1, "name": "Ours"}), 404)
    assert_problem(other.delete(f"/views/{shared['id']}"), 404)


def test_a_heatmap_view_keeps_its_scope_grouping_and_range(acme: Any) -> None:
    api = acme.as_("member")
    heat = {"scope": f"member:{acme.users['member']}", "rows": "type", "bucket": "month", "from": "2026-01-01",
            "to": "2026-06-30", "system": False}
    view = save(api, kind="heatmap", heatmap=heat, is_default=True)
    assert (view["kind"], view["filters"], view["is_default"]) == ("heatmap", heat, True)
    assert defaults(api, "heatmap") == [view["id"]]
    moved = ok(api.patch(f"/views/{view['id']}", {"version": 1, "heatmap": {**heat, "bucket": "week"}}))
    assert moved["filters"]["bucket"] == "week"
    assert_problem(api.post("/views", {"name": "x", "kind": "heatmap", "filters": {"overdue": True}}), 422, "filters")
    assert_problem(api.post("/views", {"name": "x", "kind": "table", "heatmap": heat}), 422, "heatmap")
    assert_problem(api.post("/views", {"name": "x", "kind": "heatmap", "heatmap": {"rows": "planet"}}), 422,
                   "heatmap.rows")
