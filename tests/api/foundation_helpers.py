"""Assertions and probes the foundation's API tests share: the Problem Details shape, the
domain events that reached the bus, and unique values for data a test creates."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import boto3

PROBLEM_JSON = "application/problem+json"
BUS = "bluehill"

_sequence = itertools.count(1)


def unique(prefix: str = "x") -> str:
    """A value no other test in this process uses (names, domains, emails)."""
    return f"{prefix}{next(_sequence)}"


def app_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, known at collection time so tests can be
    parametrized by route: importing the app registers every room's routes."""
    from app import app

    return sorted((method, path) for path, methods in app.routes.items() for method in methods)


def declared_routes() -> list[Any]:
    """The route() declaration (RouteSpec) of every route the app serves."""
    from chalicelib.core.http import ROUTES

    return [ROUTES[(path, method)] for method, path in app_routes() if (path, method) in ROUTES]


def header(response: Any, name: str) -> str:
    return next((value for key, value in response.headers.items() if key.lower() == name.lower()), "")


def all_items(api: Any, path: str) -> list[dict[str, Any]]:
    """Every item of a list, following next_cursor to the end."""
    items: list[dict[str, Any]] = []
    separator = "&" if "?" in path else "?"
    cursor = None
    while True:
        page = api.get(path + (f"{separator}cursor={cursor}" if cursor else ""))
        assert page.status == 200, page.body
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if not cursor:
            return items


def assert_problem(response: Any, status: int, field_name: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 Problem Details answer with this status (and, for a 422,
    an `errors` entry naming `field_name`)."""
    assert response.status == status, (response.status, response.body)
    assert header(response, "content-type").startswith(PROBLEM_JSON), response.headers
    body = response.json
    assert isinstance(body, dict), body
    assert {"type", "title", "status", "detail", "code", "request_id"} <= set(body), body
    assert body["status"] == status
    assert body["type"].startswith("https://errors.bluehill.dev/")
    if field_name is not None:
        fields = [error["field"] for error in body.get("errors", [])]
        assert any(name == field_name or name.startswith(field_name + ".") for name in fields), (field_name, body)
    return body


@dataclass
class EventLog:
    """Every event published on the bus, read back through an EventBridge rule that targets an
    SQS queue — the same route a consumer's rule would take."""

    queue_url: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def on_bus(cls, name: str) -> EventLog:
        sqs, events = boto3.client("sqs"), boto3.client("events")
        queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": "bluehill."}]}))
        events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "log", "Arn": queue_arn}])
        return cls(queue_url)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *_: object) -> None:
        """Take the rule and its queue off the bus: a queue left behind keeps receiving every later
        event of the session, and moto's SQS makes each send slower as a queue fills."""
        name = self.queue_url.rsplit("/", 1)[-1]
        events = boto3.client("events")
        events.remove_targets(Rule=name, EventBusName=BUS, Ids=["log"])
        events.delete_rule(Name=name, EventBusName=BUS)
        boto3.client("sqs").delete_queue(QueueUrl=self.queue_url)

    def drain(self) -> list[dict[str, Any]]:
        from bluehill_dev.harness_env import event_bus

        event_bus().drain()  # the relay puts what the outbox holds on the bus
        sqs = boto3.client("sqs")
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return self.seen
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def of(self, detail_type: str, **detail: Any) -> list[dict[str, Any]]:
        """Events of this type whose detail carries these values."""
        return [
            event
            for event in self.drain()
            if event["detail-type"] == detail_type
            and all({**event["detail"]["data"], "tenant_id": event["detail"]["tenant_id"]}.get(k) == v
                    for k, v in detail.items())
        ]
