"""The ``bluehill`` EventBridge bus, plus the one place rules and schedules are added.

Domain events (``source`` = ``bluehill.<capability>``, ``detail-type`` = ``<Entity>.<Verb>``)
go to ``bus``. Consumers and scheduled jobs are added with ``add_rule`` / ``add_schedule``,
for example from the stack once the Chalice function exists::

    events.add_rule(
        "TicketResolvedRollup",
        pattern=events_.EventPattern(source=["bluehill.tickets"], detail_type=["Ticket.Resolved"]),
        target=api.function("on_ticket_resolved"),
    )
    events.add_schedule("SlaSweep", events_.Schedule.rate(cdk.Duration.minutes(5)), target=...)

(Chalice's own ``@app.schedule`` also works: it creates its rule in the SAM template.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events_
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .nag import acknowledge

DEFAULT_BUS_NAME = "bluehill"
DEFAULT_ARCHIVE_DAYS = 30
# EventBridge retries a target it cannot invoke for up to a day; Lambda retries a consumer that
# raised twice (asynchronous invocation). Whatever is still undelivered lands in the consumer's DLQ.
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = cdk.Duration.hours(24)
FUNCTION_RETRY_ATTEMPTS = 2
DLQ_RETENTION = cdk.Duration.days(14)


@dataclass(frozen=True)
class ConsumerWiring:
    """What the stack made for one registered consumer."""

    name: str
    rule: events_.Rule
    dead_letter_queue: sqs.Queue
    alarm: cloudwatch.Alarm


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """An encrypted, TLS-only SQS queue that keeps undeliverable events for 14 days."""
    queue = sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                      retention_period=DLQ_RETENTION)
    acknowledge(queue, "AwsSolutions-SQS3", "This queue is itself a dead-letter queue (of an EventBridge "
                "target, a Lambda's asynchronous invocations or the relay's stream mapping).")
    return queue


def depth_alarm(scope: Construct, construct_id: str, queue: sqs.Queue, what: str) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        scope, construct_id,
        metric=queue.metric_approximate_number_of_messages_visible(period=cdk.Duration.minutes(1)),
        threshold=1, evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=f"{what}: events that could not be delivered are waiting in {construct_id}'s queue",
    )


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, bus_name: str = DEFAULT_BUS_NAME) -> None:
        super().__init__(scope, construct_id)
        self.bus = events_.EventBus(self, "Bus", event_bus_name=bus_name)
        self.rules: dict[str, events_.Rule] = {}
        self.consumers: dict[str, ConsumerWiring] = {}
        # Every event on the bus is archived, so it can be replayed (README: "Replaying events").
        self.archive_retention_days = cdk.CfnParameter(
            self, "ArchiveRetentionDays", type="Number", default=DEFAULT_ARCHIVE_DAYS, min_value=1,
            description="Days the bluehill bus keeps its events in the archive for replay",
        )
        self.archive = events_.CfnArchive(
            self, "Archive", source_arn=self.bus.event_bus_arn,
            retention_days=self.archive_retention_days.value_as_number,
            description="Every event on the bluehill bus, for replay",
            event_pattern={"source": [{"prefix": "bluehill."}]},
        )

    def add_consumers(
        self,
        consumers: Iterable[object],
        function: Callable[[str], lambda_.IFunction],
        role_of: Callable[[str], iam.IRole],
        configure: Callable[[str, sqs.Queue], None],
    ) -> None:
        """For each registered consumer (chalicelib.core.consumers.Consumer): a rule on this bus
        matching its event types, targeting its own function with a retry policy and a DLQ;
        the function's own retries end in the same DLQ (`configure(name, queue)`), which has an
        alarm on its depth."""
        for registered in consumers:
            name: str = registered.name  # type: ignore[attr-defined]
            logical = "".join(part.title() for part in name.split("_"))
            queue = dead_letter_queue(self, f"{logical}DeadLetters")
            alarm = depth_alarm(self, f"{logical}DeadLettersAlarm", queue, f"consumer {name}")
            pattern = registered.pattern()  # type: ignore[attr-defined]
            rule = events_.Rule(
                self, f"{logical}Rule", event_bus=self.bus, description=f"consumer {name}",
                event_pattern=events_.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"]),
                targets=[targets.LambdaFunction(function(name), retry_attempts=TARGET_RETRY_ATTEMPTS,
                                                max_event_age=TARGET_MAX_EVENT_AGE, dead_letter_queue=queue)],
            )
            queue.grant_send_messages(role_of(name))
            configure(name, queue)
            self.rules[f"{logical}Rule"] = rule
            self.consumers[name] = ConsumerWiring(name, rule, queue, alarm)

    def add_rule(
        self,
        rule_id: str,
        *,
        pattern: events_.EventPattern,
        target: lambda_.IFunction,
        description: str | None = None,
    ) -> events_.Rule:
        """Invoke ``target`` for every event on the bus that matches ``pattern``."""
        rule = events_.Rule(
            self,
            rule_id,
            event_bus=self.bus,
            event_pattern=pattern,
            description=description,
            targets=[targets.LambdaFunction(target, retry_attempts=2)],
        )
        self.rules[rule_id] = rule
        return rule

    def add_schedule(
        self,
        rule_id: str,
        schedule: events_.Schedule,
        *,
        target: lambda_.IFunction,
        description: str | None = None,
    ) -> events_.Rule:
        """Invoke ``target`` on ``schedule`` (scheduled rules live on the default bus)."""
        rule = events_.Rule(
            self,
            rule_id,
            schedule=schedule,
            description=description,
            targets=[targets.LambdaFunction(target, retry_attempts=2)],
        )
        self.rules[rule_id] = rule
        return rule
