"""Follow-ups over HTTP on the e2e target (the local stack by default): create → postpone →
complete with a next one, the history kept, the lists moving with them, another tenant refused."""

from __future__ import annotations

import time

import pytest
from foundation_helpers import assert_problem, unique

from bluehill_dev.harness_env import TenantWorld

pytestmark = pytest.mark.e2e

INDEX_LAG_SECONDS = 5


def _listed(api, query: str, wanted: set[str], gone: set[str] = frozenset()) -> list[str]:
    """The ids `api` lists, once the index shows `wanted` and no longer shows `gone`."""
    deadline = time.monotonic() + INDEX_LAG_SECONDS
    while True:
        answer = api.get(f"/follow-ups?{query}")
        assert answer.status == 200, answer.body
        ids = [item["id"] for item in answer.body["items"]]
        if (wanted <= set(ids) and not gone & set(ids)) or time.monotonic() > deadline:
            return ids
        time.sleep(0.2)


def test_a_follow_up_is_created_postponed_and_completed_into_the_next_over_http(
        acme: TenantWorld, globex: TenantWorld) -> None:
    admin = acme.as_("admin")
    customer = admin.post("/customers", {"name": unique("E2E Follow-ups ")})
    assert customer.status == 201, customer.body
    made = admin.post("/follow-ups", {"customer_id": customer.body["id"], "title": "Send the renewal quote",
                                      "due_date": "2031-03-10"}, headers={"Idempotency-Key": unique("fu-")})
    assert made.status == 201, made.body
    follow_up = made.body
    path = f"/follow-ups/{follow_up['id']}"
    assert follow_up["id"] in _listed(admin, f"customer_id={customer.body['id']}", {follow_up["id"]})

    postponed = admin.post(f"{path}/postpone", {"preset": "1_week", "reason": "Customer on holiday",
                                                "version": follow_up["version"]})
    assert postponed.status == 200, postponed.body
    assert postponed.body["postponements"] == 1 and postponed.body["due_date"] != follow_up["due_date"]
    stale = admin.post(f"{path}/postpone", {"preset": "tomorrow", "reason": "again", "version": 1})
    assert_problem(stale, 409)

    done = admin.post(f"{path}/complete", {"resolution": "Quote sent", "version": postponed.body["version"],
                                           "next": [{"title": "Chase the signature", "due_date": "2031-04-01"}]})
    assert done.status == 200, done.body
    assert done.body["status"] == "completed" and len(done.body["next"]) == 1
    following = done.body["next"][0]

    read = admin.get(path)
    assert read.status == 200, read.body
    history = read.body["history"]
    assert [entry["action"] for entry in history] == ["created", "postponed", "completed"]
    assert history[1]["reason"] == "Customer on holiday" and history[1]["by"] == acme.users["admin"]
    assert history[2]["next_ids"] == [following["id"]]
    listed = _listed(admin, f"customer_id={customer.body['id']}", {following["id"]}, {follow_up["id"]})
    assert listed == [following["id"]]

    assert_problem(globex.as_("owner").get(path), 404)
    assert_problem(globex.as_("owner").post(f"{path}/cancel", {"reason": "not yours"}), 404)
