"""Where the e2e suite sends its requests: one `Target`, two implementations.

* `local` — the local stack as `make dev` runs it (`bluehill dev` in a process of its own).
* `aws`   — a deployed stack, found by its CloudFormation outputs (`make e2e-aws STACK=BlueHill`).

A target gives the tests the same three things either way: the API's base URL (and an HTTP
client the harness's `Api` speaks through), id tokens minted by the target's own Cognito, and
an admin hook that provisions tenants with a user per role through the platform's own
services (`bluehill_dev.tenants.provision`; there is no sign-up route). The admin hook runs in
a child process with the target's settings, so the test process's environment (offline, fake
credentials) is never pointed at real AWS. A deployed target's test users are deleted again by
`cleanup()`.

Select with `pytest --target=local|aws` or `BLUEHILL_TARGET`; the stack name of `aws` comes
from `--stack` or `BLUEHILL_STACK` (default `BlueHill`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from bluehill_dev.stack_process import http_request
from bluehill_dev.tenants import ROLES

TARGET_VARIABLE = "BLUEHILL_TARGET"
STACK_VARIABLE = "BLUEHILL_STACK"
DEFAULT_STACK = "BlueHill"
ADMIN_TIMEOUT_SECONDS = 180


class AdminFailed(Exception):
    """The target's admin hook (a child process) failed; the message carries its output."""


@dataclass
class HttpResponse:
    """What `harness_env.Api` reads from `chalice.test.Client` — here from a real HTTP answer."""

    status_code: int
    headers: dict[str, str]
    body: bytes


class HttpClient:
    """`chalice.test.Client`'s `http.request(...)`, over HTTP against a base URL, so the harness's
    `Api` and `TenantWorld` (and every check written on them) run unchanged against a target."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = self

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> HttpResponse:
        status, reply_headers, raw = http_request(method, self.base_url + path, dict(headers or {}), body or None)
        return HttpResponse(status, reply_headers, raw)


class Target(ABC):
    """One place the e2e suite can run against."""

    name: ClassVar[str]
    # Tests that need the stack's insides (restarts, dev-reset, DynamoDB Local) run only here.
    local: ClassVar[bool]

    def __init__(self) -> None:
        self.provisioned: list[dict[str, Any]] = []

    @property
    @abstractmethod
    def url(self) -> str:
        """The API's base URL (no trailing slash)."""

    @abstractmethod
    def admin_command(self) -> tuple[list[str], dict[str, str]]:
        """The admin hook's command prefix and the environment it runs in."""

    @abstractmethod
    def cognito(self) -> Any:
        """A Cognito client that can log the target's users in (no credentials needed)."""

    @property
    @abstractmethod
    def client_id(self) -> str:
        """The user pool's app client the API's tokens are issued to."""

    def start(self) -> None:  # noqa: B027  (a deployed stack is already running)
        """Bring the target up, if it is ours to bring up."""

    def stop(self) -> None:
        """Take down what `start` brought up and remove what the tests made that would outlive
        them (a deployed stack's test logins)."""
        self.cleanup()

    def client(self) -> HttpClient:
        return HttpClient(self.url)

    def admin(self, *args: str) -> Any:
        """Run an admin hook (`python -m bluehill_dev.targets.admin ...`) and return its JSON answer."""
        command, environment = self.admin_command()
        done = subprocess.run([*command, *args], env=environment, capture_output=True, text=True,
                              timeout=ADMIN_TIMEOUT_SECONDS)
        if done.returncode != 0:
            raise AdminFailed(f"{' '.join(args)} on the {self.name} target failed:\n{done.stderr}{done.stdout}")
        return json.loads(done.stdout)

    def token(self, email: str, password: str) -> str:
        """An id token, by the flow a user's app uses (USER_PASSWORD_AUTH on the app client)."""
        answer = self.cognito().initiate_auth(
            ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return str(answer["AuthenticationResult"]["IdToken"])

    def tenants(self, count: int, roles: tuple[str, ...] = ROLES) -> list[Any]:
        """`count` new tenants, each with a user per role in `roles`, as `TenantWorld`s with a
        token per role and this target's HTTP client."""
        from bluehill_dev.harness_env import TenantWorld

        answer = self.admin("tenants", "--count", str(count), "--roles", ",".join(roles))
        self.provisioned += answer["tenants"]
        worlds = []
        for made in answer["tenants"]:
            world = TenantWorld(**made, client=self.client())
            world.tokens = {role: self.token(world.emails[role], answer["password"]) for role in roles}
            world.mint = lambda role, world=world: self.token(world.emails[role], answer["password"])
            worlds.append(world)
        return worlds

    def receive_mail(self, raw: bytes, recipient: str) -> None:
        """Deliver a raw message to `recipient` the way the target's SES does: into its inbound
        bucket, whose notification runs its inbound handler (asynchronously, as on AWS)."""
        with tempfile.NamedTemporaryFile(suffix=".eml") as message:
            message.write(raw)
            message.flush()
            self.admin("receive-mail", message.name, "--to", recipient)

    def cleanup(self) -> None:
        """Delete the logins of every user this target provisioned (their records stay, inert)."""
        emails = [email for made in self.provisioned for email in made["emails"].values()]
        if emails:
            self.admin("delete-logins", *emails)
        self.provisioned.clear()


def admin_module() -> list[str]:
    return [sys.executable, "-m", "bluehill_dev.targets.admin"]


def chosen(name: str | None = None) -> str:
    """The target's name: `name` (a --target option), else $BLUEHILL_TARGET, else local."""
    return name or os.environ.get(TARGET_VARIABLE) or "local"


def select(name: str | None = None, stack: str | None = None) -> Target:
    """The target named by `name` (else $BLUEHILL_TARGET, else local)."""
    name = chosen(name)
    if name == "local":
        from bluehill_dev.targets.local import LocalTarget

        return LocalTarget()
    if name == "aws":
        from bluehill_dev.targets.deployed import DeployedTarget

        return DeployedTarget(stack or os.environ.get(STACK_VARIABLE) or DEFAULT_STACK)
    raise ValueError(f"unknown target {name!r}: local or aws")
