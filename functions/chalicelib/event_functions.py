"""The event Lambdas, generated from the registries: the relay (the table's stream → the
`bluehill` bus) and one function per registered consumer (core/consumers.py), each the target
of its own EventBridge rule on the bus (infra/bluehill_infra/events.py builds the rules, their
retry policies and dead-letter queues from the same registry).

Chalice deploys a blueprint's function with this module as the handler (`module.<name>`), so
each consumer's function is a module attribute named after the consumer."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalice import Blueprint

import chalicelib.wiring  # noqa: F401 (this Lambda never imports app.py; wiring registers the consumers)
from chalicelib.core import relay as relay_
from chalicelib.core.consumers import CONSUMERS, Consumer, deliver
from chalicelib.core.events import Event
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings

bp = Blueprint(__name__)

RELAY_FUNCTION = "events_relay"


@cache
def _events_client() -> Any:
    import boto3

    return boto3.client("events")


def put_events(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return _events_client().put_events(Entries=entries)


@bp.lambda_function(name=RELAY_FUNCTION)
def events_relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The stream's event source mapping (ReportBatchItemFailures): the outbox items among the
    records go to the bus; the first record not delivered and those after it are retried."""
    result = relay_.relay(event.get("Records", []), get_settings().event_bus_name, put_events,
                          relay_.mark_delivered)
    logger().info("relayed", extra={"events": len(result.delivered), "put_calls": result.put_calls,
                                    "failed_sequence": result.failed_sequence})
    return result.batch_item_failures()


def _function_for(registered: Consumer) -> Any:
    def handle(event: dict[str, Any], context: Any) -> dict[str, str]:
        envelope = Event.from_bus(event)
        outcome = deliver(registered, envelope)
        logger().info("event consumed", extra={"consumer": registered.name, "event_id": envelope.id,
                                               "event_type": envelope.type, "tenant_id": envelope.tenant_id,
                                               "outcome": outcome})
        return {"event_id": envelope.id, "outcome": outcome}

    handle.__name__ = handle.__qualname__ = registered.name
    return handle


for _consumer in CONSUMERS.values():
    globals()[_consumer.name] = bp.lambda_function(name=_consumer.name)(_function_for(_consumer))
