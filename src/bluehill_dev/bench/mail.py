"""`python -m bluehill_dev.bench.mail [--messages 30] [--stack-messages 30]` (run by `make bench`;
`python -m bluehill_dev.bench --group mail` runs it too): inbound mail's figures.

1. Inbound message → ticket, calls per message (in-process moto, the tests' harness): N
   generated messages, each put into the inbound bucket as SES writes it (unmeasured), then the
   `mail_inbound` handler run on its S3 ObjectCreated event, counting every AWS call it makes
   (DynamoDB by operation, S3 and EventBridge beside); then the event delivery that turns the
   stored message into the ticket (the relay and the `tickets_mail_received` /
   `files_mail_attachments` consumers), counted apart (the local poller's stream reads
   beside: in AWS, Lambda's event source mapping makes them). Twice: N new messages (each a new
   ticket) and N replies threaded by In-Reply-To onto them.
2. Mails per second through the handler on the local stack (`bluehill dev` as `make dev` runs
   it, DynamoDB Local + moto): M messages put into the local inbound bucket the way
   `bluehill mail receive` puts them (`bluehill_dev.mail.put_inbound`), timed from the first put
   until every one is a ticket over HTTP (the stack's S3 notification poller, the handler, the
   relay and the tickets consumer included; the poller ticks every 0.5 s).

Exits 0 whatever the figures: it reports."""

from __future__ import annotations

import argparse
import email.message
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

from bluehill_dev import REPO_ROOT, resources
from bluehill_dev import mail as local_mail

GROUP = "mail"
DOMAIN = "bench-mail.example"
STACK_TIMEOUT_SECONDS = 120


def generated(n: int, to: str, *, in_reply_to: str | None = None, run: str = "") -> tuple[bytes, str]:
    """A plain message from a distinct sender of the customer's domain (the per-sender rate
    limit stays out of it); returns the bytes and its Message-ID."""
    message_id = f"{uuid.uuid4().hex}@{DOMAIN}"
    built = email.message.EmailMessage()
    built["From"] = f"Sender {n} <sender{n}{run}@{DOMAIN}>"
    built["To"] = to
    built["Subject"] = f"Re: Bench issue {n}" if in_reply_to else f"Bench issue {n}"
    built["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        built["In-Reply-To"] = f"<{in_reply_to}>"
        built["References"] = f"<{in_reply_to}>"
    built.set_content(f"Bench message {n}: the export times out.\n")
    return built.as_bytes(), message_id


def _per_message(counters: list[Counter[str]]) -> dict[str, float]:
    total: Counter[str] = sum(counters, Counter())
    return {name: round(count / len(counters), 2) for name, count in sorted(total.items())} if counters else {}


LOCAL_POLLER = ("dynamodbstreams.", "dynamodb.DescribeTable")  # the local relay reading the stream


def _mean_total(counters: list[Counter[str]]) -> float:
    return round(statistics.fmean(sum(c.values()) for c in counters), 2) if counters else 0.0


def _calls(sample: Any) -> Counter[str]:
    """Every call of one measured stretch, DynamoDB's as `dynamodb.Operation` beside the others."""
    found: Counter[str] = Counter(sample.other_calls)
    for phase in sample.phases.values():
        for operation, count in phase.calls.items():
            found[f"dynamodb.{operation}"] += count
    return found


def calls_per_message(count: int) -> dict[str, Any]:
    from chalicelib.core.tenant_guard import on_every_client

    from bluehill_dev import fidelity
    from bluehill_dev.bench.harness import Recorder
    from bluehill_dev.harness_env import build_tenant, event_bus, in_process_aws, jwks_server

    recorder = Recorder(idempotency_table=resources.IDEMPOTENCY_TABLE)
    on_every_client(recorder.attach)  # before any client exists, so none escapes counting
    with redirect_stdout(StringIO()), jwks_server() as jwks_url, in_process_aws(jwks_url) as aws:
        import boto3
        from app import app
        from chalice.test import Client
        from chalicelib.mail import jobs

        with Client(app) as client:
            world = build_tenant(aws, client, roles=("owner",))
            customer = world.as_("owner").post("/customers", {"name": "Bench Mail Co", "domains": [DOMAIN]}).json
            to = f"support@{world.tenant_id}.{resources.MAIL_DOMAIN}"
            s3, bus = boto3.client("s3"), event_bus()
            bus.drain()

            def through(raw: bytes) -> tuple[dict[str, Any], Counter[str], Counter[str]]:
                fidelity.settle()
                key = local_mail.put_inbound(s3, raw, to)
                event = local_mail.object_created_event(resources.MAIL_BUCKET, key, len(raw))
                with recorder.measuring() as handled:
                    outcome = jobs.mail_inbound(event, None)["outcomes"][0]
                with recorder.measuring() as delivered:
                    bus.drain()
                return outcome, _calls(handled), _calls(delivered)

            rows, firsts = {}, []
            for kind in ("new ticket", "reply (In-Reply-To)"):
                handler, delivery, outcomes = [], [], Counter()
                for n in range(count):
                    if kind == "new ticket":
                        raw, message_id = generated(n, to)
                        firsts.append(message_id)
                    else:
                        raw, _ = generated(n, to, in_reply_to=firsts[n])
                    outcome, handled, delivered = through(raw)
                    outcomes[f"{outcome['status']}/{'new' if outcome['new_ticket'] else 'threaded'}"] += 1
                    handler.append(handled)
                    delivery.append(delivered)
                poller = [Counter({k: v for k, v in c.items() if k.startswith(LOCAL_POLLER)}) for c in delivery]
                delivery = [c - p for c, p in zip(delivery, poller, strict=True)]
                rows[kind] = {"messages": count, "outcomes": dict(outcomes),
                              "handler_calls": _per_message(handler), "handler_total": _mean_total(handler),
                              "delivery_calls": _per_message(delivery), "delivery_total": _mean_total(delivery),
                              "local_poller_calls": _mean_total(poller)}
            listed = world.as_("owner").get(f"/customers/{customer['id']}/tickets?limit=100").json
            rows["tickets_made"] = sum(1 for ticket in listed["items"] if ticket["source"] == "email")
    return rows


def _email_tickets(stack: Any, token: str, customer_id: str) -> int:
    found, cursor = 0, None
    while True:
        page = stack.request("GET", f"/customers/{customer_id}/tickets?limit=100"
                             + (f"&cursor={cursor}" if cursor else ""), token)
        if page.status != 200:
            return found
        found += sum(1 for ticket in page.body["items"] if ticket["source"] == "email")
        cursor = page.body.get("next_cursor")
        if not cursor:
            return found


def mails_per_second(count: int, stack_log: Path) -> dict[str, Any]:
    import boto3

    from bluehill_dev.stack_process import StackProcess

    with tempfile.TemporaryDirectory(prefix="bluehill-bench-mail-") as scratch:
        stack = StackProcess(Path(scratch) / "local")
        try:
            stack.start()
            admin = stack.token("demo", "admin")
            customer = stack.request("POST", "/customers", admin, {"name": f"Bench Mail {uuid.uuid4().hex[:6]}",
                                                                   "domains": [DOMAIN]})
            assert customer.status == 201, customer.body
            s3 = boto3.client("s3", endpoint_url=stack.state()["endpoint"], region_name=resources.REGION,
                              aws_access_key_id="local", aws_secret_access_key="local")
            to = f"support@demo.{resources.MAIL_DOMAIN}"
            messages = [generated(n, to, run=uuid.uuid4().hex[:4])[0] for n in range(count)]
            began = time.perf_counter()
            for raw in messages:
                local_mail.put_inbound(s3, raw, to)
            put_seconds = time.perf_counter() - began
            made, deadline = 0, time.monotonic() + STACK_TIMEOUT_SECONDS
            while made < count and time.monotonic() < deadline:
                made = _email_tickets(stack, admin, customer.body["id"])
                if made < count:
                    time.sleep(0.1)
            seconds = time.perf_counter() - began
        finally:
            if stack.process is not None:
                stack.stop()
            stack_log.parent.mkdir(parents=True, exist_ok=True)
            stack_log.write_text(stack.output())
    return {"messages": count, "tickets": made, "put_seconds": round(put_seconds, 2),
            "seconds_to_all_tickets": round(seconds, 2),
            "mails_per_second": round(made / seconds, 2) if seconds else None}


def _render_calls(calls: dict[str, float]) -> str:
    return ", ".join(f"{name} {count:g}" for name, count in calls.items()) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.bench.mail", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=30, help="messages per kind, in process")
    parser.add_argument("--stack-messages", type=int, default=30, help="messages on the local stack; 0 skips")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / ".bench" / "mail.json")
    args = parser.parse_args(argv)
    print(f"Inbound mail: {args.messages} new messages and {args.messages} replies through mail_inbound "
          "(in-process moto)…", flush=True)
    result: dict[str, Any] = {"calls_per_message": calls_per_message(args.messages)}
    for kind, row in result["calls_per_message"].items():
        if not isinstance(row, dict):
            continue
        print(f"  {kind}: {row['outcomes']}")
        print(f"    handler, calls per message: {row['handler_total']:g} ({_render_calls(row['handler_calls'])})")
        print(f"    then delivery to the ticket (relay + consumers): {row['delivery_total']:g} "
              f"({_render_calls(row['delivery_calls'])}; + {row['local_poller_calls']:g} stream/DescribeTable "
              "calls by the local poller, which Lambda's event source mapping makes in AWS)")
    print(f"  email tickets made: {result['calls_per_message']['tickets_made']}")
    if args.stack_messages > 0:
        print(f"Inbound mail on the local stack: {args.stack_messages} messages into the inbound bucket…",
              flush=True)
        stack_log = args.output.with_name(f"{args.output.stem}-stack.log")
        rate = result["mails_per_second"] = mails_per_second(args.stack_messages, stack_log)
        print(f"  {rate['tickets']}/{rate['messages']} tickets in {rate['seconds_to_all_tickets']} s from the first "
              f"put (puts took {rate['put_seconds']} s): {rate['mails_per_second']} mails/s "
              f"(the stack's output: {stack_log})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"  written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
