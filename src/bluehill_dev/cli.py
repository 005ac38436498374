"""`bluehill`: the developer commands the Makefile wraps. Each subcommand is a thin call into
the module that does the work (dev, seed, invoke, the app's OpenAPI generator)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bluehill_dev import dev, dynamodb_local, fidelity_client, seed

USAGE_ERROR = 2


def _fail(message: str, code: int = 1) -> int:
    print(f"bluehill: {message}", file=sys.stderr)
    return code


def _dev(args: argparse.Namespace) -> int:
    try:
        dev.run(api_port=args.port, moto_port=args.moto_port, dynamodb_port=args.dynamodb_port, fresh=args.reset,
                portal_port=args.portal_port)
    except (dev.PortTaken, dynamodb_local.Unavailable, fidelity_client.BadSwitch) as cannot:
        return _fail(str(cannot))
    return 0


def _token(args: argparse.Namespace) -> int:
    stack = dev.Stack.load()
    email = args.user or seed.email_for(args.tenant, args.role)
    cognito = stack.cognito()
    try:
        print(stack.id_token(email, args.password))
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
        return _fail(f"cannot log in as {email} (no such user in tenant {args.tenant}, or wrong password)")
    return 0


def _seed(_: argparse.Namespace) -> int:
    dev.Stack.load().activate()
    created = seed.seed()
    print(f"seeded: {', '.join(created)}" if created else "demo data already present; nothing changed")
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from bluehill_dev import invoke

    try:
        dev.Stack.load().activate()
    except dev.StackNotRunning:
        dev.use_local_credentials()  # listing handlers needs no stack; running one fails below if it calls AWS
    from app import app

    try:
        invoke.handler(app, args.job)
    except invoke.UnknownHandler as unknown:
        available = ", ".join(unknown.available) or "none registered yet"
        return _fail(f"no handler named {unknown.name!r}; available: {available}", USAGE_ERROR)
    try:
        event = invoke.load_event(args.event)
    except (OSError, ValueError) as unreadable:
        return _fail(f"cannot read the event {args.event}: {unreadable}")
    print(json.dumps(invoke.run(app, args.job, event), indent=2, default=str))
    return 0


def _mail_receive(args: argparse.Namespace) -> int:
    import boto3

    from bluehill_dev import mail, resources

    stack = dev.Stack.load()
    stack.activate()
    try:
        raw = Path(args.file).read_bytes()
    except OSError as unreadable:
        return _fail(f"cannot read {args.file}: {unreadable}")
    to = args.to or f"support@{args.tenant}.{resources.MAIL_DOMAIN}"
    key = mail.put_inbound(boto3.client("s3"), raw, to)
    print(json.dumps({"bucket": resources.MAIL_BUCKET, "key": key, "to": to, "bytes": len(raw)}))
    return 0


def _mail_outbox(args: argparse.Namespace) -> int:
    from bluehill_dev import mail

    sent = mail.sent_messages(dev.Stack.load().endpoint)
    for entry in sent[-args.last:] if args.last else sent:
        print(json.dumps(entry, indent=2, ensure_ascii=False))
    return 0


def _event_store() -> Any:
    from bluehill_dev import eventbus

    return eventbus.LocalStore(dev.events_dir())


def _events_tail(args: argparse.Namespace) -> int:
    """Delivered events, one line each, as the local relay delivers them (Ctrl-C stops)."""
    import time

    log = dev.events_dir() / "deliveries.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    with log.open() as lines:
        while True:
            line = lines.readline()
            if not line:
                if args.once:
                    return 0
                time.sleep(0.2)
                continue
            entry = json.loads(line)
            if (args.type and entry["type"] != args.type) or (args.tenant and entry["tenant_id"] != args.tenant):
                continue
            outcomes = ", ".join(f"{name}: {outcome}" for name, outcome in entry["outcomes"].items()) or "no consumer"
            print(f"{entry['at']}  {entry['type']:<28} {entry['tenant_id']:<14} {entry['id']}  {outcomes}",
                  flush=True)


def _events_dlq(args: argparse.Namespace) -> int:
    parked = _event_store().parked()
    if args.json:  # whole events, to find the one that carries a given record
        print(json.dumps([dataclasses.asdict(entry) for entry in parked], indent=2))
        return 0
    for entry in parked:
        event = entry.event
        print(f"{entry.id}  {entry.parked_at}  {entry.consumer}  {event['type']} {event['id']} "
              f"(tenant {event['tenant_id']})  attempts={entry.attempts}  error={entry.error}")
    print(f"{len(parked)} parked deliveries")
    return 0


def _with_app() -> None:
    dev.Stack.load().activate()
    import app  # noqa: F401  (wires the process: tenant guard, every room's consumers)


def _events_redrive(args: argparse.Namespace) -> int:
    from bluehill_dev import eventbus

    if not args.all and not args.id:
        return _fail("name a parked delivery's ID, or --all", USAGE_ERROR)
    _with_app()
    store = _event_store()
    results = eventbus.redrive(store, None if args.all else args.id)
    if args.id and not results:
        return _fail(f"no parked delivery {args.id} (`bluehill events dlq` lists them)")
    for parked, outcome in results:
        print(f"{parked.id}  {parked.consumer}  {parked.event['type']} {parked.event['id']}: {outcome}")
    return 1 if any(outcome == "parked" for _, outcome in results) else 0


def _events_replay(args: argparse.Namespace) -> int:
    from bluehill_dev import eventbus

    _with_app()
    try:
        replayed = eventbus.replay(_event_store(), args.since, args.type, args.consumer)
    except eventbus.BadReplay as bad:
        return _fail(str(bad), USAGE_ERROR)
    for delivered in replayed:
        outcomes = ", ".join(f"{name}: {outcome}" for name, outcome in delivered.outcomes.items()) or "no consumer"
        print(f"{delivered.event.occurred_at}  {delivered.event.type}  {delivered.event.id}  {outcomes}")
    print(f"{len(replayed)} events replayed")
    return 0


def _events_catalog(_: argparse.Namespace) -> int:
    import chalicelib.wiring  # noqa: F401  (declares every room's event types)
    from chalicelib.core.events import catalog

    print(json.dumps(catalog(), indent=2))
    return 0


def _openapi(_: argparse.Namespace) -> int:
    import app  # noqa: F401  (registers every route the document describes)
    from chalicelib.system.openapi import document

    print(json.dumps(document(), indent=2))
    return 0


def _portal_publish(args: argparse.Namespace) -> int:
    from bluehill_dev import portal_site

    for key in portal_site.publish(args.stack):
        print(f"published {key}")
    return 0


def _parser() -> argparse.ArgumentParser:
    from chalicelib.core.auth import ROLES  # functions/ is on the path once bluehill_dev is imported

    parser = argparse.ArgumentParser(prog="bluehill", description="BlueHill developer tooling")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    start = command("dev", _dev, "run the whole platform locally (DynamoDB Local, embedded AWS, demo data, the API)")
    start.add_argument("--port", type=int, default=int(os.environ.get("PORT", dev.DEFAULT_API_PORT)),
                       help="API port (default: $PORT or %(default)s)")
    start.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", dev.DEFAULT_MOTO_PORT)),
                       help="embedded AWS port (default: $MOTO_PORT or %(default)s)")
    start.add_argument("--dynamodb-port", type=int,
                       default=int(os.environ.get("DYNAMODB_PORT", dev.DEFAULT_DYNAMODB_PORT)),
                       help="DynamoDB Local port (default: $DYNAMODB_PORT or %(default)s)")
    start.add_argument("--portal-port", type=int,
                       default=int(os.environ.get("PORTAL_PORT", dev.DEFAULT_PORTAL_PORT)),
                       help="port of the customer portal page (default: $PORTAL_PORT or %(default)s)")
    start.add_argument("--reset", action="store_true",
                       help="forget the local data (DynamoDB Local's tables and moto's recording) and start clean")

    token = command("token", _token, "log in through the local Cognito and print an id token")
    token.add_argument("--tenant", default=seed.DEMO_TENANT)
    token.add_argument("--role", default="admin", choices=ROLES)
    token.add_argument("--user", metavar="EMAIL", help="log in as this user instead of the seeded one for --role")
    token.add_argument("--password", default=seed.DEMO_PASSWORD, help="default: the demo password")

    command("seed", _seed, "create the demo tenants on the running local stack (idempotent)")

    job = command("invoke", _invoke, "run a non-HTTP handler of the app locally with a sample event")
    job.add_argument("job", help="the handler's name on the app")
    job.add_argument("event", help="a sample event, e.g. events/<file>.json")

    command("openapi", _openapi, "print the OpenAPI document")

    mail_parser = commands.add_parser("mail", help="the local stack's mail: receive a message, list what was sent")
    mail_commands = mail_parser.add_subparsers(dest="mail_command", required=True)
    receive = mail_commands.add_parser("receive", help="put a raw message (.eml) into the local inbound bucket as "
                                       "SES does; the local stack's handler processes it")
    receive.set_defaults(run=_mail_receive)
    receive.add_argument("file", help="a raw RFC 5322 message, e.g. ../shared/mail/001-….eml")
    receive.add_argument("--to", help="the envelope recipient (default: the tenant's support address)")
    receive.add_argument("--tenant", default=seed.DEMO_TENANT, help="the tenant whose support address is the default")
    outbox = mail_commands.add_parser("outbox", help="what the local SES sent: headers and bodies")
    outbox.set_defaults(run=_mail_outbox)
    outbox.add_argument("--last", type=int, default=0, help="only the last N messages")

    events = commands.add_parser("events", help="the local stack's events: tail, dead letters, replay, catalog")
    events_commands = events.add_subparsers(dest="events_command", required=True)

    def events_command(name: str, run: Callable[[argparse.Namespace], int], text: str) -> argparse.ArgumentParser:
        sub = events_commands.add_parser(name, help=text, description=text)
        sub.set_defaults(run=run)
        return sub

    tail = events_command("tail", _events_tail, "print events as they are delivered (time, type, tenant, id, "
                          "consumers and their outcomes)")
    tail.add_argument("--type", help="only this event type, e.g. Customer.Updated")
    tail.add_argument("--tenant", help="only this tenant's events")
    tail.add_argument("--once", action="store_true", help="print what was delivered so far and stop")
    dlq = events_command("dlq", _events_dlq, "list parked deliveries: consumer, error, attempts")
    dlq.add_argument("--json", action="store_true", help="the parked deliveries with their whole events, as JSON")
    redrive = events_command("redrive", _events_redrive, "deliver parked deliveries again")
    redrive.add_argument("id", nargs="?", help="a parked delivery's ID (from `bluehill events dlq`)")
    redrive.add_argument("--all", action="store_true", help="every parked delivery")
    replay = events_command("replay", _events_replay, "deliver archived events again (consumers are idempotent)")
    replay.add_argument("--since", required=True, help="ISO instant, e.g. 2026-12-04T09:00:00Z")
    replay.add_argument("--type", help="only this event type")
    replay.add_argument("--consumer", help="only to this consumer")
    events_command("catalog", _events_catalog, "print every event type: source, description, JSON Schema")

    portal = commands.add_parser("portal", help="the customer portal page")
    portal_commands = portal.add_subparsers(dest="portal_command", required=True)
    publish = portal_commands.add_parser("publish", help="put web/portal in a deployed stack's portal bucket "
                                         "(with the deployer's AWS credentials) and refresh CloudFront")
    publish.add_argument("--stack", required=True, help="the deployed stack's name")
    publish.set_defaults(run=_portal_publish)
    return parser


def main(argv: list[str] | None = None) -> int:
    args: Any = _parser().parse_args(argv)
    try:
        return args.run(args)
    except dev.StackNotRunning as not_running:
        return _fail(str(not_running))


if __name__ == "__main__":
    sys.exit(main())
