"""The benchmark's arithmetic, without AWS: which calls it counts and in which phase (through
real botocore clients whose answers are stubbed), the per-route figures and targets, the
cold-start ratios and the import-time breakdown."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from bluehill_dev.bench import harness, scenarios
from bluehill_dev.bench.harness import (
    LIST,
    READ,
    WRITE,
    Call,
    ImportSample,
    Recorder,
    Sample,
    Scenario,
    Target,
    authorizer_phase,
    cold_start_ratios,
    heaviest_imports,
    import_figures,
    items_returned,
    parse_import_probe,
    run_scenario,
    summarize,
)
from bluehill_dev.bench.scenarios.foundation import pages
from bluehill_dev.harness_env import Response

TABLE, IDEMPOTENCY_TABLE = "bluehill", "bluehill-idempotency"


@pytest.fixture(autouse=True)
def _only_the_canned_answers() -> Any:
    """Other tests in this worker may have started in-process moto and imported the app: moto would
    answer these clients before the canned answers do, and the tenant guard would refuse their
    unscoped calls. These stubbed calls are the bench's counting under test, not tenant traffic."""
    from chalicelib.core.scope import system_scope
    from moto.core.models import botocore_stubber

    was_enabled, botocore_stubber.enabled = botocore_stubber.enabled, False
    try:
        with system_scope():
            yield
    finally:
        botocore_stubber.enabled = was_enabled


class CannedAws:
    """A botocore client whose HTTP requests are answered from a queue, at `before-send` as moto
    answers them, so every event the bench listens to fires as it does against moto."""

    def __init__(self, recorder: Recorder, service: str = "dynamodb") -> None:
        self.client = botocore.session.get_session().create_client(
            service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        recorder.attach(self.client)
        self.client.meta.events.register("before-send", self._answer)
        self._answers: list[tuple[int, dict[str, Any]]] = []

    def answers(self, *bodies: dict[str, Any], status: int = 200) -> CannedAws:
        self._answers += [(status, body) for body in bodies]
        return self

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        status, body = self._answers.pop(0)
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0"},
                           MockRawResponse(json.dumps(body)))


def key(value: str = "T#t1#CUSTOMER#1") -> dict[str, Any]:
    return {"PK": {"S": value}, "SK": {"S": "A"}}


def test_route_calls_are_counted_per_operation_with_the_items_each_read():
    recorder = Recorder(IDEMPOTENCY_TABLE)
    client = CannedAws(recorder).answers(
        {"Items": [key()] * 4, "Count": 4, "ScannedCount": 10},
        {"Item": key()},
        {"Responses": {TABLE: [key(), key(), key()]}},
        {},
    ).client
    with recorder.measuring() as sample:
        client.query(TableName=TABLE, KeyConditionExpression="PK = :p",
                     ExpressionAttributeValues={":p": {"S": "T#t1#X"}})
        client.get_item(TableName=TABLE, Key=key())
        client.batch_get_item(RequestItems={TABLE: {"Keys": [key()] * 3}})
        client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": key()}}])
    route = sample.phases[harness.ROUTE]
    assert dict(route.calls) == {"Query": 1, "GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    assert route.attempts == 4
    assert route.items_read == 10 + 1 + 3


def test_idempotency_and_authorizer_calls_are_kept_apart_from_the_routes():
    recorder = Recorder(IDEMPOTENCY_TABLE)
    client = CannedAws(recorder).answers({}, {"Item": key()}, {}).client
    with recorder.measuring() as sample:
        client.put_item(TableName=IDEMPOTENCY_TABLE, Item={"id": {"S": "k"}})
        with authorizer_phase():
            client.get_item(TableName=TABLE, Key=key())
        client.get_item(TableName=TABLE, Key=key())
    assert dict(sample.phases[harness.IDEMPOTENCY].calls) == {"PutItem": 1}
    assert dict(sample.phases[harness.AUTHORIZER].calls) == {"GetItem": 1}
    assert sample.phases[harness.AUTHORIZER].items_read == 1
    assert dict(sample.phases[harness.ROUTE].calls) == {"GetItem": 1}
    assert sample.phases[harness.ROUTE].items_read == 0  # the item was not there


def test_other_services_are_counted_beside_dynamodb():
    recorder = Recorder(IDEMPOTENCY_TABLE)
    client = CannedAws(recorder, "events").answers({"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}).client
    with recorder.measuring() as sample:
        client.put_events(Entries=[{"Source": "bluehill.customers", "DetailType": "Customer.Created",
                                    "Detail": "{}"}])
    assert sample.other_calls == {"events.PutEvents": 1}
    assert not sample.phases


def test_calls_outside_a_measured_request_are_not_counted():
    recorder = Recorder(IDEMPOTENCY_TABLE)
    client = CannedAws(recorder).answers({"Item": key()}, {"Item": key()}).client
    client.get_item(TableName=TABLE, Key=key())
    with recorder.measuring() as sample:
        client.get_item(TableName=TABLE, Key=key())
    assert sample.phases[harness.ROUTE].total_calls == 1
    assert sample.phases[harness.ROUTE].attempts == 1


def test_a_retried_call_is_one_logical_call_and_two_http_attempts():
    recorder = Recorder(IDEMPOTENCY_TABLE)
    canned = CannedAws(recorder).answers({"__type": "InternalServerError", "message": "try again"}, status=500)
    client = canned.answers({"Item": key()}).client
    with recorder.measuring() as sample:
        client.get_item(TableName=TABLE, Key=key())
    assert sample.phases[harness.ROUTE].total_calls == 1
    assert sample.phases[harness.ROUTE].attempts == 2
    assert sample.phases[harness.ROUTE].items_read == 1


def test_items_returned_are_a_lists_items_or_the_one_resource():
    assert items_returned({"items": [{}, {}, {}], "next_cursor": None}) == 3
    assert items_returned({"items": [], "next_cursor": None}) == 0
    assert items_returned({"id": "c1", "name": "Initech"}) == 1
    assert items_returned(None) == 0


# ---------- figures and targets ----------


def sample(status: int = 200, returned: int = 1, read: int = 1, **calls: int) -> Sample:
    measured = Sample(status=status, items_returned=returned)
    measured.phases[harness.ROUTE].calls.update(calls)
    measured.phases[harness.ROUTE].items_read = read
    measured.phases[harness.ROUTE].attempts = sum(calls.values())
    return measured


def scenario_with(target: Target) -> Scenario:
    return Scenario("GET /things", "things", target, lambda bench: iter(()))


def test_a_write_that_reads_before_its_transaction_misses_the_single_call_target():
    result = summarize(scenario_with(WRITE), [sample(GetItem=1, TransactWriteItems=1)] * 3)
    assert result.route_calls.mean == 2 and result.route_calls.max == 2
    assert result.verdict == "FAIL"
    assert result.misses == ["2 calls > 1"]


def test_a_single_key_read_meets_the_read_target():
    result = summarize(scenario_with(READ), [sample(GetItem=1)] * 2)
    assert (result.verdict, result.misses, result.read_per_returned) == ("PASS", [], 1.0)


def test_a_list_page_of_one_query_and_one_batch_get_meets_the_list_target():
    pages_read = [sample(returned=50, read=100, Query=1, BatchGetItem=1),
                  sample(returned=10, read=20, Query=1, BatchGetItem=1)]
    result = summarize(scenario_with(LIST), pages_read)
    assert result.verdict == "PASS"
    assert result.read_per_returned == 2.0
    assert result.route_operations == {"BatchGetItem": 1.0, "Query": 1.0}


def test_a_filtered_list_that_needs_two_queries_for_a_page_misses_the_list_target():
    filtered = [sample(returned=20, read=100, Query=2), sample(returned=5, read=25, Query=1)]
    result = summarize(scenario_with(LIST), filtered)
    assert result.queries_per_request.max == 2 and result.queries_per_request.mean == 1.5
    assert result.misses == ["2 Queries/page > 1"]
    assert result.read_per_returned == 5.0


def test_no_route_passes_above_the_ceiling_whatever_its_own_target():
    result = summarize(scenario_with(Target("lenient", 5)), [sample(GetItem=3)])
    assert result.misses == [f"3 calls > {harness.ROUTE_CEILING}"]


def test_a_route_answering_an_error_is_reported_as_an_error_not_a_figure():
    result = summarize(scenario_with(READ), [sample(GetItem=1), sample(status=404, GetItem=1)])
    assert result.verdict == "ERROR" and result.statuses == [200, 404]
    assert result.error == "answered 404"


def test_nothing_returned_gives_no_ratio():
    assert summarize(scenario_with(WRITE), [sample(returned=0, read=1, TransactWriteItems=1)]).read_per_returned is None


class FakeBench:
    """Answers a list in three pages and remembers what it was asked."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def send(self, call: Call) -> Response:
        self.paths.append(call.path)
        cursor = {0: "c1", 1: "c2"}.get(len(self.paths) - 1)
        return Response(200, {"items": [{"id": "x"}], "next_cursor": cursor}, {})


def test_a_scenario_is_sent_each_response_so_it_can_follow_the_cursor():
    bench = FakeBench()
    walk = Scenario("GET /things", "things", LIST, lambda _: pages("/things?tier=smb"))
    result = run_scenario(bench, Recorder(IDEMPOTENCY_TABLE), walk)  # type: ignore[arg-type]
    assert bench.paths == ["/things?tier=smb", "/things?tier=smb&cursor=c1", "/things?tier=smb&cursor=c2"]
    assert result.requests == 3 and result.items_returned == 3


def test_a_scenario_that_breaks_is_an_error_row_and_keeps_what_it_measured():
    def breaks_after_one_page(bench: Any) -> Any:
        yield Call("GET", "/things")
        raise KeyError("next_cursor")

    broken = Scenario("GET /things", "things", LIST, breaks_after_one_page)
    result = run_scenario(FakeBench(), Recorder(IDEMPOTENCY_TABLE), broken)  # type: ignore[arg-type]
    assert result.verdict == "ERROR" and result.error == "KeyError: 'next_cursor'"
    assert result.requests == 1


def test_the_foundation_registers_a_scenario_for_every_route_the_issue_names():
    assert "foundation" not in scenarios.load_all()
    names = {s.name for s in harness.SCENARIOS}
    required = {
        "POST /customers", "GET /customers/{id}", "PATCH /customers/{id}", "DELETE /customers/{id}",
        "GET /customers", "GET /customers?tier=", "GET /customers?tag=", "GET /customers?q=",
        "GET /customers?owner_id=", "GET /customers?domain=", "POST /customers/{id}/contacts",
        "GET /customers/{id}/contacts", "PATCH /contacts/{id}", "DELETE /contacts/{id}", "GET /contacts?email=",
        "GET /me", "GET /users", "POST /users", "PATCH /users/{id}", "GET /tenant", "PATCH /tenant", "GET /audit",
    }
    assert required <= names


def test_scenarios_run_group_by_group_and_a_group_can_be_chosen():
    def named(name: str, group: str) -> Scenario:
        return Scenario(name, group, READ, lambda bench: iter(()))

    registered = [named("a1", "a"), named("b1", "b"), named("a2", "a"), named("c1", "c")]
    assert [s.name for s in harness.selected(registered, [])] == ["a1", "a2", "b1", "c1"]
    assert [s.name for s in harness.selected(registered, ["c", "a"])] == ["a1", "a2", "c1"]


def test_a_scenario_name_cannot_be_registered_twice():
    scenarios.load_all()
    before = list(harness.SCENARIOS)
    with pytest.raises(ValueError, match="registered twice"):
        harness.scenario("GET /me", group="team", target=READ)(lambda bench: iter(()))
    assert before == harness.SCENARIOS


# ---------- cold start ----------


def test_the_import_probe_reports_seconds_and_the_modules_the_import_added():
    assert parse_import_probe("0.25 40 460\n") == ImportSample(0.25, 420)


def test_cold_start_ratios_compare_medians_so_one_slow_interpreter_does_not_count():
    handler = import_figures("app", [ImportSample(s, 600) for s in (0.20, 0.21, 0.90)])
    baseline = import_figures("boto3", [ImportSample(s, 400) for s in (0.10, 0.08, 0.12)])
    cold = cold_start_ratios(handler, baseline)
    assert (handler.median_ms, baseline.median_ms) == (210.0, 100.0)
    assert cold.import_ratio == 2.1 and cold.import_verdict == "PASS"
    assert cold.modules_ratio == 1.5 and cold.modules_verdict == "PASS"


def test_ratios_above_their_targets_fail():
    handler = import_figures("app", [ImportSample(0.26, 700)])
    baseline = import_figures("boto3", [ImportSample(0.10, 400)])
    cold = cold_start_ratios(handler, baseline)
    assert (cold.import_verdict, cold.modules_verdict) == ("FAIL", "FAIL")


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       500 |        500 |     pydantic_core._pydantic_core
import time:      3000 |       3500 |   pydantic_core
import time:      9000 |      12500 | pydantic
import time:      1000 |       1000 |       pydantic.fields
import time:      4000 |       5000 |     chalicelib.customers.routes
import time:       100 |       5100 |   chalicelib.customers
import time:      2000 |       2000 |     botocore.session
import time:      1000 |       3000 |   chalicelib.core.tenant_guard
import time:       200 |       8300 | app
"""


def test_import_time_is_charged_to_packages_with_the_module_that_pulled_them_in():
    heavy = {h.package: (h.self_ms, h.imported_by) for h in heaviest_imports(IMPORTTIME)}
    assert heavy["pydantic"] == (10.0, "<top>")
    assert heavy["pydantic_core"] == (3.5, "pydantic")
    assert heavy["chalicelib.customers"] == (4.1, "app")
    assert heavy["botocore"] == (2.0, "chalicelib.core.tenant_guard")
    assert [h.package for h in heaviest_imports(IMPORTTIME, top=2)] == ["pydantic", "chalicelib.customers"]
