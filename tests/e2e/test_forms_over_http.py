"""Forms over HTTP on the e2e target: a form is built and published, shared through a signed
link, opened and submitted with no login, and its action puts a task on the customer's board
(through the event backbone: the relay and the work room's consumer)."""

from __future__ import annotations

import time

import pytest
from foundation_helpers import assert_problem, unique

from bluehill_dev.harness_env import Api, TenantWorld

pytestmark = pytest.mark.e2e

DELIVERY_SECONDS = 15  # the relay and the consumer, on the local stack or through EventBridge


def _board_titles(api: Api, project_id: str) -> list[str]:
    board = api.get(f"/projects/{project_id}/board")
    assert board.status == 200, board.body
    return [task["title"] for column in board.body["columns"] for task in column["tasks"]]


def test_a_public_link_submission_puts_a_task_on_the_board(acme: TenantWorld, globex: TenantWorld,
                                                           anonymous: Api) -> None:
    owner = acme.as_("owner")
    project = owner.post(f"/customers/{acme.portal_customer_id}/projects", {"name": unique("Form board ")})
    assert project.status == 201, project.body
    form = owner.post("/forms", {"name": unique("Intake "), "fields": [
        {"key": "company", "type": "short_text", "label": "Company", "required": True},
        {"key": "nps", "type": "nps", "label": "Recommend us?"}],
        "actions": [{"type": "create_task", "project_id": project.body["id"], "title": "Onboard {{answers.company}}"}]})
    assert form.status == 201, form.body
    assert owner.post(f"/forms/{form.body['id']}/publish").status == 201
    link = owner.post(f"/forms/{form.body['id']}/links", {"single_use": True, "customer_id": acme.portal_customer_id})
    assert link.status == 201, link.body
    assert_problem(globex.as_("owner").get(f"/forms/{form.body['id']}"), 404)

    opened = anonymous.get(link.body["path"])
    assert opened.status == 200, opened.body
    assert [field["key"] for field in opened.body["fields"]] == ["company", "nps"]
    assert_problem(anonymous.post(f"{link.body['path']}/submissions", {"answers": {"nps": 11}}), 422)
    company = unique("Hooli ")
    sent = anonymous.post(f"{link.body['path']}/submissions", {"answers": {"company": company, "nps": 9}})
    assert sent.status == 201, sent.body
    assert_problem(anonymous.post(f"{link.body['path']}/submissions", {"answers": {"company": company}}), 409)

    deadline = time.monotonic() + DELIVERY_SECONDS
    while f"Onboard {company}" not in _board_titles(owner, project.body["id"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _board_titles(owner, project.body["id"]).count(f"Onboard {company}") == 1
    submissions = owner.get(f"/forms/{form.body['id']}/submissions")
    assert submissions.status == 200 and submissions.body["items"][0]["answers"]["company"] == company
