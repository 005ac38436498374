"""Run the app's non-HTTP handlers (schedules, S3, SES, EventBridge rules, pure Lambdas)
locally, with a sample event — `bluehill invoke` and the local stack's job timers."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalice.app import ScheduledEventConfig
from chalice.local import LambdaContext

from bluehill_dev.resources import REGION

LOCAL_ACCOUNT = "123456789012"
MEMORY_MB = 512
_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class UnknownHandler(LookupError):
    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(name)
        self.name, self.available = name, available


def handler_names(app: Any) -> list[str]:
    """Names of the handlers Chalice deploys as their own Lambda functions, other than routes."""
    return sorted({source.name for source in app.event_sources} | {f.name for f in app.pure_lambda_functions})


def handler(app: Any, name: str) -> Callable[[dict[str, Any], Any], Any]:
    names = handler_names(app)
    if name not in names:
        raise UnknownHandler(name, names)
    return app.handler_map[name]


def run(app: Any, name: str, event: dict[str, Any]) -> Any:
    context = LambdaContext(function_name=f"bluehill-dev-{name}", memory_size=MEMORY_MB, max_runtime_ms=900_000)
    return handler(app, name)(event, context)


def local_schedule(app: Any) -> list[tuple[str, int]]:
    """(handler name, interval in seconds) of every `rate(...)` schedule on the app."""
    jobs = []
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            rate = _RATE.match(expression if isinstance(expression, str) else expression.to_string())
            if rate:
                jobs.append((source.name, int(rate[1]) * _UNIT_SECONDS[rate[2]]))
    return jobs


def load_event(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def scheduled_event(name: str) -> dict[str, Any]:
    """The event EventBridge Scheduler delivers to a scheduled handler."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{LOCAL_ACCOUNT}:rule/{name}"],
        "detail": {},
    }
