"""The local stack behind `make dev`: DynamoDB Local for the tables, moto server as the rest of
the embedded AWS (S3, SES, Cognito, EventBridge, SQS, Secrets Manager), the platform's resources
created from the CDK's own definitions, the demo data, and the Chalice app served in-process
through the local gateway that answers like API Gateway (`local_gateway`: its authorizer cache,
29 s integration timeout and 6 MB response limit are on).

Persistence: DynamoDB Local keeps the tables in SQLite under `<local dir>/dynamodb/`; nothing
is replayed into it. Every request moto serves is appended to `<local dir>/moto_recording`
(moto's recorder). The next start replays that log once into the fresh server with recording
paused, then resumes recording. Replaying recreates the same state only if the ids moto makes
are the same again: the user pool and its client get hash-derived ids (moto's HASH
strategies), and moto's random source is seeded before the first request and drawn from one
request at a time (a serial server), so Cognito users get back the `sub` the table's user
records were written with. A recording from another moto version may not replay faithfully:
`make dev-reset`. The two halves are one state (a user's record in the table, their login in
Cognito): a start that finds only one of them (e.g. a recording left by the moto-only stack)
says so and starts clean; the seed then finds no tenant and makes both again.

Scheduled jobs: every `rate(...)` schedule registered on the app (`@bp.schedule`) runs on a
local timer at its rate, with the event EventBridge would deliver; cron schedules do not run
locally (`bluehill invoke` runs any handler by hand).

State for the other `bluehill` commands (endpoint, pool ids, API URL) is written to
`<local dir>/stack.json` while the stack runs."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bluehill_dev
from bluehill_dev import dynamodb_local, fidelity, fidelity_client, invoke, portal_site, resources, seed

HOST = "127.0.0.1"
DEFAULT_API_PORT = 8000
DEFAULT_MOTO_PORT = 5055
DEFAULT_DYNAMODB_PORT = 5056
DEFAULT_PORTAL_PORT = 8001
LOCAL_DIR_VARIABLE = "BLUEHILL_LOCAL_DIR"
MOTO_RANDOM_SEED = 3
# Nothing local ever needs real credentials; fixed dummy ones keep a developer's own AWS
# profile or keys from being picked up (and sent anywhere) by accident.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": resources.REGION,
    "AWS_REGION": resources.REGION,
}
MOTO_SETTINGS = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}
# The EMF metric blobs Lambda would ship to CloudWatch only bury the request logs locally.
QUIET_LOCAL_METRICS = {"POWERTOOLS_METRICS_DISABLED": "true"}


class PortTaken(Exception):
    def __init__(self, port: int, what: str) -> None:
        super().__init__(f"port {port} on {HOST} is already in use ({what}); stop whatever holds it or pick another")


class StackNotRunning(Exception):
    def __init__(self) -> None:
        super().__init__("the local stack is not running: start it with `make dev`")


def local_dir() -> Path:
    return Path(os.environ.get(LOCAL_DIR_VARIABLE) or bluehill_dev.REPO_ROOT / ".local")


def recording_path() -> Path:
    return local_dir() / "moto_recording"


def dynamodb_dir() -> Path:
    return local_dir() / "dynamodb"


def _stack_file() -> Path:
    return local_dir() / "stack.json"


def use_local_credentials() -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(LOCAL_CREDENTIALS)


@dataclass(frozen=True)
class Stack:
    """A running local stack, as the `bluehill` commands need to reach it."""

    endpoint: str
    api_url: str
    user_pool_id: str
    client_id: str
    cursor_signing_key: str
    csat_signing_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    portal_session_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    dynamodb_endpoint: str = ""
    portal_url: str = ""

    @property
    def resources(self) -> resources.LocalResources:
        return resources.LocalResources(user_pool_id=self.user_pool_id, client_id=self.client_id)

    def environment(self) -> dict[str, str]:
        jwks_url = f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"
        return {
            **self.resources.environment(self.endpoint, jwks_url, self.dynamodb_endpoint or None),
            "CURSOR_SIGNING_KEY": self.cursor_signing_key,
            "CSAT_SIGNING_KEY": self.csat_signing_key,
            "PORTAL_SESSION_KEY": self.portal_session_key,
        }

    def activate(self) -> None:
        """Point this process's app code and boto3 at the stack (before importing the app)."""
        use_local_credentials()
        os.environ.update(self.environment())

    def cognito(self) -> Any:
        import boto3

        use_local_credentials()
        return boto3.client("cognito-idp", endpoint_url=self.endpoint, region_name=resources.REGION)

    def id_token(self, email: str, password: str) -> str:
        return resources.id_token(self.cognito(), self.resources, email, password)

    def save(self) -> None:
        _stack_file().write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls) -> Stack:
        """The running stack; a state file left by a stack that was killed counts as not running."""
        try:
            stack = cls(**json.loads(_stack_file().read_text()))
        except FileNotFoundError as missing:
            raise StackNotRunning() from missing
        try:
            address = urlsplit(stack.endpoint)
            socket.create_connection((address.hostname, address.port), timeout=1).close()
        except OSError as gone:
            raise StackNotRunning() from gone
        return stack


def _require_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves bind: connections of a stack just stopped (TIME_WAIT) don't count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as taken:
            raise PortTaken(port, what) from taken


def _start_moto(port: int, stack: contextlib.ExitStack) -> str:
    """Start moto server in this process, replay the recording if there is one, and record.

    The server answers one request at a time (unlike moto's ThreadedMotoServer): moto then
    draws its random ids in the order the requests are recorded, so a replay draws them again."""
    os.environ.update(MOTO_SETTINGS)
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording_path())  # read when moto is first imported
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import requests
    from moto.moto_api import recorder
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from bluehill_dev import s3_post_policy

    s3_post_policy.install()  # form uploads checked against their policy, as S3 does
    try:
        server = make_server(HOST, port, DomainDispatcherApplication(create_backend_app), threaded=False)
    except OSError as taken:
        raise PortTaken(port, "embedded AWS") from taken
    stack.callback(server.server_close)
    from bluehill_dev import mail

    mail.ses_sends_from_subdomains()  # the tenants' support addresses, as SES allows
    threading.Thread(target=server.serve_forever, daemon=True, name="moto-server").start()
    stack.callback(server.shutdown)
    endpoint = f"http://{HOST}:{port}"
    requests.post(f"{endpoint}/moto-api/seed", params={"a": MOTO_RANDOM_SEED}, timeout=10).raise_for_status()
    if recording_path().exists():
        recorder.replay_recording(target_host=endpoint)  # pauses recording while it replays
    recorder.start_recording()
    return endpoint


def _run_every(app: Any, name: str, seconds: int, stopped: threading.Event) -> None:
    while not stopped.wait(seconds):
        try:
            invoke.run(app, name, invoke.scheduled_event(name))
        except Exception as failure:  # a failing job is reported and retried next tick; the stack stays up
            print(f"job {name} failed: {failure!r}", file=sys.stderr)


def _start_jobs(app: Any, stack: contextlib.ExitStack) -> list[tuple[str, int]]:
    jobs = invoke.local_schedule(app)
    stopped = threading.Event()
    stack.callback(stopped.set)
    for name, seconds in jobs:
        threading.Thread(target=_run_every, args=(app, name, seconds, stopped), daemon=True,
                         name=f"job-{name}").start()
    return jobs


def events_dir() -> Path:
    """The local relay's dead-letter store, archive, delivery log and stream checkpoint."""
    return local_dir() / "events"


def _start_relay(stack: contextlib.ExitStack) -> None:
    """The relay on the table's stream, delivering to the registered consumers in this process
    (bluehill_dev.eventbus): what `make dev` has in place of EventBridge's rules."""
    import boto3

    from bluehill_dev import eventbus

    events = boto3.client("events")
    bus = eventbus.LocalBus(resources.TABLE, resources.BUS, eventbus.LocalStore(events_dir()),
                            lambda entries: events.put_events(Entries=entries))
    # The demo seed's events (or those a restart finds undelivered) reach their consumers before
    # the stack says it is ready: a first request must not queue behind the seed's backlog.
    bus.drain()
    stopped = threading.Event()
    stack.callback(stopped.set)
    threading.Thread(target=bus.run, args=(stopped,), daemon=True, name="event-relay").start()


def _start_s3_notifications(app: Any, stack: contextlib.ExitStack) -> None:
    """Each bucket's ObjectCreated events to its handler (bluehill_dev.s3_notifications): what
    `make dev` has in place of S3 invoking the function."""
    import boto3

    from bluehill_dev import s3_notifications

    sqs = boto3.client("sqs")
    url = s3_notifications.subscribe(boto3.client("s3"), sqs)
    stopped = threading.Event()
    stack.callback(stopped.set)
    threading.Thread(target=s3_notifications.run, args=(sqs, url, lambda name, event: invoke.run(app, name, event),
                                                         stopped), daemon=True, name="s3-notifications").start()


def _start_inbound_mail(app: Any, stack: contextlib.ExitStack) -> None:
    """What the inbound bucket's S3 notification is in AWS: each message `bluehill mail receive`
    (or anything else) puts under raw/ goes to the app's `mail_inbound` handler, once."""
    import boto3

    from bluehill_dev import mail

    notifier = mail.InboundNotifier(boto3.client("s3"), lambda event: invoke.run(app, "mail_inbound", event),
                                    local_dir() / "inbound-mail-seen.json")
    stopped = threading.Event()
    stack.callback(stopped.set)
    threading.Thread(target=notifier.run, args=(stopped,), daemon=True, name="inbound-mail").start()


def _local_server(port: int) -> Any:
    from chalice.config import Config
    from chalice.local import create_local_server

    from bluehill_dev import local_gateway

    local_gateway.install(local_gateway.Fidelity.from_environment(authorizer_cache=True))
    from app import app

    config_file = bluehill_dev.FUNCTIONS_DIR / ".chalice" / "config.json"
    config = Config(chalice_stage="dev", config_from_disk=json.loads(config_file.read_text()),
                    default_params={"project_dir": str(bluehill_dev.FUNCTIONS_DIR)})
    for name, value in {**config.environment_variables, **QUIET_LOCAL_METRICS}.items():
        os.environ.setdefault(name, value)
    try:
        return create_local_server(app, config, HOST, port)
    except OSError as taken:
        raise PortTaken(port, "API") from taken


def _banner(stack: Stack, tokens: dict[str, str], created: list[str], jobs: list[tuple[str, int]],
            switches: fidelity.Settings) -> str:
    seeded = f"seeded tenants: {', '.join(created)}" if created else "demo data already present (kept)"
    lines = [
        "",
        f"BlueHill is running at {stack.api_url}   (embedded AWS: {stack.endpoint}; {seeded})",
        f"  table:   DynamoDB Local at {stack.dynamodb_endpoint} (data in {dynamodb_dir()}, stream on)",
        f"  AWS fidelity: {fidelity_client.describe(switches)}",
        "                (BLUEHILL_FIDELITY_* variables; see the README)",
        f"  docs:    {stack.api_url}/docs",
        f"  portal:  {seed.portal_page_url(stack.portal_url)}   (the customer portal page: sign in as "
        f"{seed.email_for(seed.DEMO_TENANT, 'portal')})",
        f"  logins:  tenant `demo`, password {seed.DEMO_PASSWORD}",
    ]
    lines += [f"    {role:<10} {email}" for role, email in seed.logins().items()]
    other = seed.email_for(seed.OTHER_TENANT, "owner")
    lines += [f"  another tenant, to see isolation: {other} (same password)"]
    lines += ["", "Bearer tokens for tenant `demo` (valid 1 hour; `bluehill token --role <role>` makes more):"]
    lines += [f"  export {role.upper()}_TOKEN={token}" for role, token in tokens.items()]
    lines += [
        "",
        "Try:",
        f'  curl -s -H "Authorization: Bearer $ADMIN_TOKEN" {stack.api_url}/customers',
        "",
        f"Scheduled jobs: {', '.join(f'{n} every {s}s' for n, s in jobs) or 'none registered'}",
        "Events: relayed from the table's stream to the registered consumers (`bluehill events tail`).",
        "Ctrl-C stops everything; `make dev-reset` starts from a clean slate.",
        "",
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM both stop the stack cleanly, even when started in the background
    (where a shell hands the process SIGINT ignored)."""

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def reset() -> None:
    """Forget both halves of the local state: DynamoDB Local's tables and moto's recording."""
    shutil.rmtree(local_dir(), ignore_errors=True)


def half_state() -> str | None:
    """What is missing when only one half of the local state is there (a recording without the
    tables — e.g. one left by the moto-only stack — or tables without the logins), else None."""
    tables, recording = dynamodb_dir().exists(), recording_path().exists()
    if tables and not recording:
        return "DynamoDB Local's tables are there but moto's recording (the logins) is not"
    if recording and not tables:
        return "moto's recording is there but DynamoDB Local's tables are not"
    return None


def run(api_port: int, moto_port: int, dynamodb_port: int = DEFAULT_DYNAMODB_PORT, fresh: bool = False,
        portal_port: int = DEFAULT_PORTAL_PORT) -> None:
    """Start the stack and serve until interrupted. Raises PortTaken before starting anything,
    dynamodb_local.Unavailable if DynamoDB Local cannot be installed or started."""
    switches = fidelity_client.settings_from_environment()  # a bad switch is refused before anything starts
    _require_free(api_port, "API")
    _require_free(moto_port, "embedded AWS")
    _require_free(dynamodb_port, "DynamoDB Local")
    _require_free(portal_port, "portal page")
    if fresh:
        reset()
    elif (missing := half_state()) is not None:
        print(f"{missing}: starting from a clean slate", flush=True)
        reset()
    local_dir().mkdir(parents=True, exist_ok=True)
    use_local_credentials()
    with _interruptible(), contextlib.ExitStack() as running:
        try:
            dynamodb_endpoint = dynamodb_local.start(dynamodb_dir(), dynamodb_port, HOST,
                                                     local_dir() / "dynamodb.log", running)
            # Before any DynamoDB client exists (PynamoDB keeps its own): every one of this
            # process is hooked; the layer is switched on once the seed is in.
            fidelity_client.install(dynamodb_endpoint)
            endpoint = _start_moto(moto_port, running)
            created_resources = resources.create_all(endpoint=endpoint, dynamodb_endpoint=dynamodb_endpoint)
            stack = Stack(endpoint=endpoint, api_url=f"http://{HOST}:{api_port}",
                          user_pool_id=created_resources.user_pool_id, client_id=created_resources.client_id,
                          cursor_signing_key=secrets.token_urlsafe(32), dynamodb_endpoint=dynamodb_endpoint,
                          portal_url=f"http://{HOST}:{portal_port}")
            stack.activate()
            created = seed.seed()
            tokens = {role: stack.id_token(email, seed.DEMO_PASSWORD) for role, email in seed.logins().items()}
            server = _local_server(api_port)
            running.callback(server.server.server_close)
            portal_site.start(HOST, portal_port, stack.api_url,
                              portal_site.page_config(stack.endpoint + "/", stack.client_id), running)
            stack.save()
            running.callback(_stack_file().unlink, missing_ok=True)
            _start_relay(running)  # the seed's events are delivered before the switches apply, as the seed was written
            fidelity_client.configure(switches)
            jobs = _start_jobs(server.app_object, running)
            _start_s3_notifications(server.app_object, running)
            _start_inbound_mail(server.app_object, running)
            print(_banner(stack, tokens, created, jobs, switches), flush=True)
            server.serve_forever()
        except KeyboardInterrupt:
            for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the teardown short
                signal.signal(number, signal.SIG_IGN)
            print("\nstopping the local stack…", flush=True)
            print(fidelity_client.summary(fidelity_client.layer.stats), flush=True)
    print("stopped.", flush=True)
