"""S3 event notifications on the local stack, delivered to the same handler AWS invokes.

In AWS a bucket notifies its Lambda function directly (infra/storage.py). Locally, moto's S3
sends the same event (`{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}`) to an SQS queue
of the embedded AWS (moto implements S3 → SQS notifications); this module subscribes the
buckets to that queue and a loop hands each message to the handler registered for its bucket
(`bluehill_dev.invoke`, as a scheduled job runs). A handler that fails leaves its message on the
queue, which offers it again after VISIBILITY_SECONDS; after MAX_RECEIVES it is dropped with a
line on stderr (handlers are idempotent, a redelivery is harmless).

HANDLERS maps a bucket to the name of its handler function: one line per bucket (the files
bucket here; the inbound-mail bucket adds its own)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from bluehill_dev import resources

QUEUE = "bluehill-local-s3-notifications"
VISIBILITY_SECONDS = 5
MAX_RECEIVES = 5

# bucket → handler function name (the Chalice lambda_function S3 invokes in AWS)
HANDLERS: dict[str, str] = {
    resources.FILES_BUCKET: "files_uploaded",
}

Deliver = Callable[[str, dict[str, Any]], Any]  # (handler name, S3 event) → its answer


def subscribe(s3: Any, sqs: Any, handlers: dict[str, str] | None = None) -> str:
    """Create the queue and point each bucket's ObjectCreated notifications at it (idempotent).
    Returns the queue's URL."""
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": str(VISIBILITY_SECONDS)})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for bucket in handlers or HANDLERS:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"Id": "bluehill-local", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    return url


def pump(sqs: Any, url: str, deliver: Deliver, handlers: dict[str, str] | None = None) -> list[Any]:
    """Deliver what the queue holds now; the answers of the handlers that ran."""
    handlers = handlers or HANDLERS
    answers = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        if not messages:
            return answers
        for message in messages:
            event = json.loads(message["Body"])
            records = event.get("Records") or []
            handler = handlers.get(records[0]["s3"]["bucket"]["name"]) if records else None
            try:
                if handler is not None:
                    answers.append(deliver(handler, event))
            except Exception as failure:  # retried after the visibility timeout; dropped at last
                receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                print(f"s3 notification to {handler} failed ({receives}/{MAX_RECEIVES}): {failure!r}",
                      file=sys.stderr, flush=True)
                if receives < MAX_RECEIVES:
                    continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def run(sqs: Any, url: str, deliver: Deliver, stopped: threading.Event, interval: float = 0.2) -> None:
    """The local stack's loop (`make dev`)."""
    while not stopped.wait(interval):
        try:
            pump(sqs, url, deliver)
        except Exception as failure:  # the stack stays up
            print(f"s3 notifications: {failure!r}", file=sys.stderr, flush=True)
