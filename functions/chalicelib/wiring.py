"""Process-wide setup every Lambda entry point shares: the API (`app.app`), the authorizer and
each job. Chalice deploys a blueprint's function with its own module as the handler, so a job's
or the authorizer's Lambda never imports `app.py`: each imports this instead.

- The tenant guard on every botocore client (boto3's, PynamoDB's).
- The authorizer's check that a token's user is still active with the token's role (asked of
  the team room, which `core` must not import)."""

from __future__ import annotations

from chalicelib.core import auth
from chalicelib.core.tenant_guard import install_tenant_guard
from chalicelib.team import service as team

install_tenant_guard()
auth.set_user_check(team.user_is_current)
