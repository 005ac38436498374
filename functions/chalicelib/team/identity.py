"""The Cognito user pool, behind three calls: the only place the team room touches boto3."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.core.errors import Conflict
from chalicelib.core.settings import get_settings


@cache
def _client() -> Any:
    import boto3

    return boto3.client("cognito-idp")


def _attributes(tenant_id: str, role: str, customer_id: str | None) -> list[dict[str, str]]:
    return [
        {"Name": "custom:tenant_id", "Value": tenant_id},
        {"Name": "custom:role", "Value": role},
        {"Name": "custom:customer_id", "Value": customer_id or ""},
    ]


def create_login(email: str, name: str, tenant_id: str, role: str, customer_id: str | None,
                 password: str | None = None) -> str:
    """Create the Cognito user (Cognito emails the invitation) and return its `sub`."""
    client = _client()
    pool = get_settings().user_pool_id
    try:
        created = client.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name},
                *_attributes(tenant_id, role, customer_id),
            ],
            **({"MessageAction": "SUPPRESS", "TemporaryPassword": password} if password else {}),
        )
    except client.exceptions.UsernameExistsException as taken:
        raise Conflict(f"a user with email {email} already exists") from taken
    if password:
        client.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    return next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")


def delete_login(email: str) -> None:
    _client().admin_delete_user(UserPoolId=get_settings().user_pool_id, Username=email)


def update_login(email: str, tenant_id: str, role: str, customer_id: str | None, enabled: bool) -> None:
    client = _client()
    pool = get_settings().user_pool_id
    client.admin_update_user_attributes(
        UserPoolId=pool, Username=email, UserAttributes=_attributes(tenant_id, role, customer_id)
    )
    if enabled:
        client.admin_enable_user(UserPoolId=pool, Username=email)
    else:
        client.admin_disable_user(UserPoolId=pool, Username=email)
