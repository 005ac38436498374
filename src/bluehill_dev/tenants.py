"""A tenant with one user per role, made through the platform's own services (`create_tenant`,
then `invite_user` as its owner) — there is no sign-up route. The in-process harness, the local
stack and a deployed stack all provision test tenants with this one function; the caller has
pointed the app's settings (and boto3) at the AWS it means before calling it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ROLES = ("owner", "admin", "member", "contractor", "readonly", "portal")


@dataclass
class Provisioned:
    """Who was made: per role, the user id and the login email; the portal user's customer."""

    tenant_id: str
    users: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    portal_customer_id: str = ""

    def principal(self, role: str) -> Any:
        from chalicelib.core.auth import Principal

        return Principal(
            tenant_id=self.tenant_id, user_id=self.users[role], role=role, email=self.emails[role],
            customer_id=self.portal_customer_id if role == "portal" else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def provision(tenant_id: str, password: str, roles: tuple[str, ...] = ROLES) -> Provisioned:
    """Create `tenant_id` with its owner and a user of each other role in `roles` (the portal
    user belongs to a customer made for it), all logging in with `password`."""
    from chalicelib.core.scope import tenant_scope
    from chalicelib.customers import service as customers
    from chalicelib.team import service as team

    made = Provisioned(tenant_id)
    with tenant_scope(tenant_id):
        owner_email = f"owner@{tenant_id}.example"
        owner = team.create_tenant(tenant_id, f"Tenant {tenant_id}", owner_email, "Olive Owner", password)
        made.users["owner"], made.emails["owner"] = owner.id, owner_email
        for role in roles:
            if role == "owner":
                continue
            if role == "portal":
                # shares its tickets with all its people (a portal customer's default is `own`)
                made.portal_customer_id = customers.create_customer(
                    made.principal("owner"), {"name": "Portal Co", "portal_ticket_sharing": "company"}).id
            email = f"{role}@{tenant_id}.example"
            user = team.invite_user(
                made.principal("owner"),
                {"email": email, "name": role.title(), "role": role,
                 "customer_id": made.portal_customer_id if role == "portal" else None},
                password=password,
            )
            made.users[role], made.emails[role] = user.id, email
    return made
