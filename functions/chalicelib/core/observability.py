"""Powertools Logger and Metrics, created once per container on first use."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service="bluehill")


@cache
def metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="BlueHill", service="bluehill")


def record_request(route: str, method: str, status: int, duration_ms: float) -> None:
    """One access-log line and one EMF metric per request: route templates, never paths with
    ids, never bodies or personal data."""
    from aws_lambda_powertools.metrics import MetricUnit

    logger().info("request", extra={"route": route, "method": method, "status": status,
                                    "duration_ms": round(duration_ms, 1)})
    recorder = metrics()
    recorder.add_dimension(name="route", value=f"{method} {route}")
    recorder.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    recorder.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=int(status >= 500))
    recorder.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=duration_ms)
    recorder.flush_metrics()
