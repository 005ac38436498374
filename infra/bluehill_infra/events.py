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

from aws_cdk import aws_events as events_
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

DEFAULT_BUS_NAME = "bluehill"


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, bus_name: str = DEFAULT_BUS_NAME) -> None:
        super().__init__(scope, construct_id)
        self.bus = events_.EventBus(self, "Bus", event_bus_name=bus_name)
        self.rules: dict[str, events_.Rule] = {}

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
