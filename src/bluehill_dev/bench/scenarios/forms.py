"""Forms: what one submission costs — from the customer's portal (the form assigned to them)
and through a signed public link (no login: the link's and the address's rate counters are
the route's own calls). Each is checked against the published version; the submission, the
form's counters and its Form.Submitted (the outbox) are one transaction; the actions on
submit run later, through the event backbone, outside the route."""

from __future__ import annotations

from bluehill_dev.bench.harness import ROUTE_CEILING, Bench, Call, Steps, Target, scenario

FIELDS = [
    {"key": "company", "type": "short_text", "label": "Company", "required": True, "max_length": 100},
    {"key": "plan", "type": "dropdown", "label": "Plan", "options": ["Basic", "Pro"], "required": True},
    {"key": "seats", "type": "number", "label": "Seats", "min_value": 1,
     "require_if": {"field": "plan", "op": "equals", "value": "Pro"}},
    {"key": "nps", "type": "nps", "label": "Would you recommend us?"},
]
ANSWERS = {"company": "Bench Co", "plan": "Pro", "seats": 12, "nps": 9}
SUBMISSION = Target("submission: 1 TransactWrite", ROUTE_CEILING, max_transactions=1)


def _published_form(bench: Bench) -> str:
    api = bench.api("owner")
    form = api.post("/forms", {"name": "Bench kick-off", "fields": FIELDS, "actions": []})
    assert form.status == 201, form.body
    published = api.post(f"/forms/{form.body['id']}/publish")
    assert published.status == 201, published.body
    return str(form.body["id"])


def _assigned_form(bench: Bench) -> str:
    form_id = _published_form(bench)
    assigned = bench.api("owner").post(f"/forms/{form_id}/assignments",
                                       {"customer_id": bench.world.portal_customer_id})
    assert assigned.status == 201, assigned.body
    return form_id


@scenario("POST /forms/{id}/submissions [portal]", group="forms", target=SUBMISSION)
def portal_submission(bench: Bench) -> Steps:
    form_id = bench.prepared(_assigned_form)
    for _ in range(bench.repeats):
        answer = yield Call("POST", f"/forms/{form_id}/submissions", {"answers": ANSWERS}, role="portal")
        assert answer is not None and answer.status == 201, answer


@scenario("POST /public/forms/{token}/submissions", group="forms", target=SUBMISSION)
def link_submission(bench: Bench) -> Steps:
    form_id = bench.prepared(_published_form)
    for _ in range(bench.repeats):
        link = bench.api("owner").post(f"/forms/{form_id}/links", {})
        assert link.status == 201, link.body
        answer = yield Call("POST", f"{link.body['path']}/submissions", {"answers": ANSWERS})
        assert answer is not None and answer.status == 201, answer
