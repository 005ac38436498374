"""Tenant holidays: owners and admins set them, internal roles read them, and working-day
calendars (templates, SLA clocks) read them through team.service.tenant_holidays."""

from datetime import date

import pytest

from tests.api.foundation_helpers import assert_problem

CHRISTMAS = {"date": "2026-12-25", "name": "Christmas Day"}
NEW_YEAR = {"date": "2027-01-01", "name": "New Year's Day"}


@pytest.fixture(scope="module")
def tenant(aws, http):
    """A tenant of this module's own: holidays are tenant-wide, other rooms' tests use acme's."""
    from bluehill_dev.harness_env import build_tenant

    return build_tenant(aws, http)


def current_version(api) -> int:
    return api.get("/tenant/holidays").json["version"]


def test_a_tenant_starts_without_holidays(fresh_tenant):
    response = fresh_tenant.as_("contractor").get("/tenant/holidays")
    assert response.status == 200, response.body
    assert response.json["holidays"] == [] and response.json["version"] == 0


def test_an_admin_replaces_the_holidays_in_date_order(tenant):
    api = tenant.as_("admin")
    version = current_version(api)
    first = api.put("/tenant/holidays", {"version": version, "holidays": [NEW_YEAR, CHRISTMAS]})
    assert first.status == 200, first.body
    assert [h["date"] for h in first.json["holidays"]] == ["2026-12-25", "2027-01-01"]
    second = api.put("/tenant/holidays", {"version": version + 1, "holidays": [{"date": "2026-07-04"}]})
    assert second.json["version"] == version + 2
    assert tenant.as_("readonly").get("/tenant/holidays").json["holidays"] == [
        {"date": "2026-07-04", "name": None}]
    from chalicelib.core.scope import tenant_scope
    from chalicelib.team import service as team

    with tenant_scope(tenant.tenant_id):
        assert team.tenant_holidays(tenant.tenant_id) == [date(2026, 7, 4)]


def test_a_stale_holiday_list_is_409(tenant):
    api = tenant.as_("owner")
    version = current_version(api)
    api.put("/tenant/holidays", {"version": version, "holidays": [CHRISTMAS]})
    assert_problem(api.put("/tenant/holidays", {"version": version, "holidays": [NEW_YEAR]}), 409)
    assert [h["date"] for h in api.get("/tenant/holidays").json["holidays"]] == ["2026-12-25"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"version": 0, "holidays": [{"date": "2026-13-01"}]}, "holidays.0.date"),
     ({"version": 0, "holidays": [CHRISTMAS, CHRISTMAS]}, "holidays"),
     ({"holidays": [CHRISTMAS]}, "version")],
)
def test_invalid_holiday_lists_are_422(tenant, body, field):
    assert_problem(tenant.as_("owner").put("/tenant/holidays", body), 422, field)


@pytest.mark.parametrize("role", ["member", "contractor", "readonly", "portal"])
def test_only_owners_and_admins_set_holidays(acme, role):
    assert_problem(acme.as_(role).put("/tenant/holidays", {"version": 0, "holidays": [CHRISTMAS]}), 403)


def test_portal_users_cannot_read_holidays(acme):
    assert_problem(acme.as_("portal").get("/tenant/holidays"), 403)


def test_another_tenants_holidays_never_show(tenant, globex):
    api = tenant.as_("owner")
    api.put("/tenant/holidays", {"version": current_version(api), "holidays": [{"date": "2026-11-26"}]})
    assert "2026-11-26" not in [h["date"] for h in globex.as_("owner").get("/tenant/holidays").json["holidays"]]
