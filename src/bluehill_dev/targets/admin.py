"""The targets' admin hook, run in a child process pointed at one target's AWS:

    python -m bluehill_dev.targets.admin local                  outputs|tenants|delete-logins|receive-mail ...
    python -m bluehill_dev.targets.admin aws --stack BlueHill   outputs|tenants|delete-logins|receive-mail ...

`outputs` prints the deployed stack's outputs (aws only); `tenants --count N --roles a,b` makes N
tenants with a user per role through the platform's services and prints who was made, with the
(generated) password they share; `delete-logins EMAIL...` deletes those Cognito logins;
`receive-mail FILE --to ADDRESS` puts a raw message into the target's inbound-mail bucket as
SES's receipt rule does, so the target's own inbound handler runs on it. Every answer is one
JSON document on stdout."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

from bluehill_dev import tenants
from bluehill_dev.targets.deployed import DeployedStack, StackUnusable, describe

TENANT_PREFIX = "e2e"


def _activate(args: argparse.Namespace) -> DeployedStack | None:
    """Point this process's settings and boto3 at the target (before the app's code is imported)."""
    if args.target == "local":
        from bluehill_dev import dev

        dev.Stack.load().activate()
        return None
    deployed = describe(args.stack)
    os.environ.update(deployed.environment())
    return deployed


def _password() -> str:
    """Meets the deployed pool's policy (12+ characters, upper, lower, digit, symbol)."""
    return f"E2e-{secrets.token_urlsafe(18)}-9a"


def _tenants(args: argparse.Namespace) -> dict[str, Any]:
    password = _password()
    roles = tuple(args.roles.split(","))
    made = [tenants.provision(f"{TENANT_PREFIX}{secrets.token_hex(6)}", password, roles).as_dict()
            for _ in range(args.count)]
    return {"password": password, "tenants": made}


def _delete_logins(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.team import identity

    for email in args.emails:
        identity.delete_login(email)
    return {"deleted": args.emails}


def _receive_mail(args: argparse.Namespace) -> dict[str, Any]:
    import boto3
    from chalicelib.core.settings import get_settings

    from bluehill_dev import mail

    bucket = get_settings().inbound_mail_bucket
    with open(args.file, "rb") as raw:
        key = mail.put_inbound(boto3.client("s3"), raw.read(), args.to, bucket)
    return {"bucket": bucket, "key": key}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluehill_dev.targets.admin")
    parser.add_argument("target", choices=("local", "aws"))
    parser.add_argument("--stack", default="BlueHill")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("outputs")
    made = commands.add_parser("tenants")
    made.add_argument("--count", type=int, default=1)
    made.add_argument("--roles", default=",".join(tenants.ROLES))
    gone = commands.add_parser("delete-logins")
    gone.add_argument("emails", nargs="+")
    received = commands.add_parser("receive-mail")
    received.add_argument("file")
    received.add_argument("--to", required=True, help="the envelope recipient")
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError

    try:
        deployed = _activate(args)
    except StackUnusable as unusable:
        print(f"bluehill: {unusable}", file=sys.stderr)
        return 1
    except BotoCoreError as unreachable:  # no region, no credentials, no network
        print(f"bluehill: cannot reach the stack's AWS account: {unreachable}", file=sys.stderr)
        return 1
    if args.command == "outputs":
        answer = deployed.as_dict() if deployed else {}
    elif args.command == "tenants":
        answer = _tenants(args)
    elif args.command == "receive-mail":
        answer = _receive_mail(args)
    else:
        answer = _delete_logins(args)
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
