"""Configuration read from environment variables, in one place, once per container."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

# How long API Gateway keeps the authorizer's answer for a token (its authorizer result cache):
# the window in which a deactivated or demoted user keeps the access the token had. The
# authorizer declares it (`ttl_seconds`, which `chalice package` gives API Gateway), and the
# local gateway caches for the same time.
AUTHORIZER_CACHE_SECONDS = 60
# API Gateway gives up on an integration after 29 s (a hard limit): the API's function stops
# before that, so a request never keeps writing after its client was answered 504. Work that
# can take longer runs as a job (`chalicelib.jobs`), whose function has its own, long timeout.
API_GATEWAY_TIMEOUT_SECONDS = 29
API_FUNCTION_TIMEOUT_SECONDS = 28
JOB_FUNCTION_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Settings:
    table_name: str
    idempotency_table_name: str
    event_bus_name: str
    files_bucket: str
    inbound_mail_bucket: str
    user_pool_id: str
    jwks_url: str
    jwt_issuer: str
    jwt_audience: str
    cursor_signing_key: str
    csat_signing_key: str
    portal_session_key: str
    portal_session_issuer: str
    service_name: str
    region: str
    mail_domain: str = ""
    mail_token_key: str = ""


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


@cache
def get_settings() -> Settings:
    return Settings(
        table_name=_required("TABLE_NAME"),
        idempotency_table_name=_required("IDEMPOTENCY_TABLE_NAME"),
        event_bus_name=_required("EVENT_BUS_NAME"),
        files_bucket=os.environ.get("FILES_BUCKET", ""),
        inbound_mail_bucket=os.environ.get("INBOUND_MAIL_BUCKET", ""),
        user_pool_id=_required("USER_POOL_ID"),
        jwks_url=_required("JWKS_URL"),
        jwt_issuer=_required("JWT_ISSUER"),
        jwt_audience=_required("JWT_AUDIENCE"),
        cursor_signing_key=_required("CURSOR_SIGNING_KEY"),
        # Read lazily by the CSAT survey links only, so an environment without it still serves the rest.
        csat_signing_key=os.environ.get("CSAT_SIGNING_KEY", ""),
        # Portal sessions (a magic link exchanged): HS256 tokens the authorizer accepts beside
        # Cognito's; without the key no such token is minted or accepted.
        portal_session_key=os.environ.get("PORTAL_SESSION_KEY", ""),
        portal_session_issuer=os.environ.get("PORTAL_SESSION_ISSUER", "bluehill-portal-session"),
        service_name=os.environ.get("POWERTOOLS_SERVICE_NAME", "bluehill"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        # The tenant-facing inbound domain (tenant addresses are <mailbox>@<tenant>.<domain>) and
        # the key that signs the ticket token of a Reply-To: read by the mail room only.
        mail_domain=os.environ.get("MAIL_DOMAIN", ""),
        mail_token_key=os.environ.get("MAIL_TOKEN_KEY", ""),
    )


def table_name() -> str:
    """The table name, read without requiring the rest of the settings (PynamoDB Meta)."""
    return os.environ.get("TABLE_NAME", "bluehill")


def job_function_name() -> str:
    """The job function's name: set by the stack on the functions that start jobs; empty
    locally, where jobs run in-process (`local_jobs_mode`)."""
    return os.environ.get("JOB_FUNCTION_NAME", "")


def local_jobs_mode() -> str:
    """`thread` (the default: the request is answered first, as in AWS) or `inline` (the job
    finishes before the 202 is answered: deterministic tests)."""
    return os.environ.get("BLUEHILL_LOCAL_JOBS", "thread")


def tenant_role_arn() -> str:
    """The role tenant-scoped credentials are assumed from (core.tenant_credentials): set by the
    stack on the functions that serve tenants; empty: calls use the function's own credentials."""
    return os.environ.get("TENANT_ROLE_ARN", "")
