"""The event backbone as deployed, checked from the consumer registry itself: every registered
consumer gets a rule on the bus its event types are published to, targeting its own function,
with a retry policy, a dead-letter queue (encrypted, alarmed) for both the rule's and the
function's own failures; the relay reads the table's stream; the bus archives every event."""

from __future__ import annotations

from typing import Any

import chalicelib.wiring  # noqa: F401  (registers every room's consumers, as the stack does)
import pytest
from bluehill_infra.api import _logical_id
from chalicelib.core.consumers import CONSUMERS, Consumer
from infra_synth import Synth


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["Ref"]} if "Ref" in value else set()
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        return found.union(*(_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value))
    return set()


def wiring_problems(synth: Synth, registered: Consumer) -> list[str]:
    """What the template lacks for this consumer (empty when it is fully wired)."""
    resources = synth.template_json["Resources"]
    bus = synth.logical_id(synth.stack.events.bus)
    function = _logical_id(registered.name)
    problems = []
    if function not in resources:
        return [f"no function {function}"]
    rules = [rule["Properties"] for rule in synth.resources("AWS::Events::Rule").values()
             if any(function in _refs(target.get("Arn")) for target in rule["Properties"].get("Targets", []))]
    if not rules:
        return [f"no rule targets {function}"]
    for model in registered.events:
        covering = [rule for rule in rules if model.TYPE in rule["EventPattern"].get("detail-type", [])
                    and model.SOURCE in rule["EventPattern"].get("source", [])]
        if not covering:
            problems.append(f"no rule for {model.TYPE} from {model.SOURCE}")
        for rule in covering:
            if bus not in _refs(rule.get("EventBusName")):
                problems.append(f"the rule for {model.TYPE} is not on the bluehill bus")
    for rule in rules:
        for target in rule["Targets"]:
            if "RetryPolicy" not in target:
                problems.append("a target without a retry policy")
            queues = _refs(target.get("DeadLetterConfig", {}).get("Arn"))
            if not queues:
                problems.append("a target without a dead-letter queue")
            for queue in queues:
                properties = resources[queue]["Properties"]
                if not (properties.get("SqsManagedSseEnabled") or properties.get("KmsMasterKeyId")):
                    problems.append(f"dead-letter queue {queue} is not encrypted")
                alarmed = [alarm for alarm in synth.resources("AWS::CloudWatch::Alarm").values()
                           if queue in _refs(alarm["Properties"].get("Dimensions"))]
                if not alarmed:
                    problems.append(f"dead-letter queue {queue} has no depth alarm")
    invoke_configs = [config["Properties"] for config in synth.resources("AWS::Lambda::EventInvokeConfig").values()
                      if function in _refs(config["Properties"]["FunctionName"])]
    if not any(config.get("DestinationConfig", {}).get("OnFailure") for config in invoke_configs):
        problems.append(f"{function}'s own failed retries reach no dead-letter queue")
    return problems


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_every_registered_consumer_is_wired_to_the_bus_with_retries_and_a_dead_letter_queue(
        synth: Synth, name: str) -> None:
    assert wiring_problems(synth, CONSUMERS[name]) == []


def test_a_consumer_the_stack_does_not_wire_is_reported(synth: Synth) -> None:
    from chalicelib.team.events import UserInvited

    unwired = Consumer("welcome_new_users", (UserInvited,), lambda event: None)
    assert wiring_problems(synth, unwired) == ["no function WelcomeNewUsers"]


def test_no_rule_sits_on_the_default_bus_except_schedules_and_aws_service_events(synth: Synth) -> None:
    """Domain events travel on the bluehill bus; AWS services (S3's Object Created) send theirs
    only to the account's default bus, so a rule for those must sit there."""
    for logical_id, rule in synth.resources("AWS::Events::Rule").items():
        properties = rule["Properties"]
        sources = properties.get("EventPattern", {}).get("source", [])
        if "ScheduleExpression" not in properties and not (sources and all(s.startswith("aws.") for s in sources)):
            assert properties.get("EventBusName"), logical_id


def test_the_relay_reads_new_outbox_items_from_the_tables_stream(synth: Synth) -> None:
    table = synth.logical_id(synth.stack.data.table)
    assert synth.template_json["Resources"][table]["Properties"]["StreamSpecification"] == {
        "StreamViewType": "NEW_IMAGE"}
    (mapping,) = synth.resources("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert table in _refs(properties["EventSourceArn"])
    assert _logical_id("events_relay") in _refs(properties["FunctionName"])
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert "OutboxItem" in properties["FilterCriteria"]["Filters"][0]["Pattern"]
    assert properties["DestinationConfig"]["OnFailure"]["Destination"]


def test_the_relay_runs_under_its_own_narrow_role(synth: Synth) -> None:
    function = synth.template_json["Resources"][_logical_id("events_relay")]
    role = synth.logical_id(synth.stack.api.relay_role)
    assert role in _refs(function["Properties"]["Role"])
    statements = [statement for policy in synth.resources("AWS::IAM::Policy").values()
                  if {"Ref": role} in policy["Properties"].get("Roles", [])
                  for statement in policy["Properties"]["PolicyDocument"]["Statement"]]
    actions = {action for statement in statements for action in
               (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}
    assert {"dynamodb:GetRecords", "dynamodb:UpdateItem", "events:PutEvents"} <= actions
    assert not actions & {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "cognito-idp:AdminCreateUser"}


def test_the_bus_archives_every_event_for_a_parameterised_retention(synth: Synth) -> None:
    (archive,) = synth.resources("AWS::Events::Archive").values()
    bus = synth.logical_id(synth.stack.events.bus)
    assert bus in _refs(archive["Properties"]["SourceArn"])
    parameter = synth.stack.get_logical_id(synth.stack.events.archive_retention_days)
    assert archive["Properties"]["RetentionDays"] == {"Ref": parameter}
    assert synth.template_json["Parameters"][parameter]["Default"] == 30
