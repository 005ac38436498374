"""The one table that decides what each role may do, and over which records.

Handlers and services ask `require(principal, action)`; nobody re-implements a role check.
The scope it returns says which records the action reaches for that role; services turn the
scope into a key choice or a write condition."""

from __future__ import annotations

from enum import Enum

from chalicelib.core.auth import ROLES, Principal
from chalicelib.core.errors import Forbidden


class Reach(Enum):
    ALL = "all"  # every record of the tenant
    OWNED = "owned"  # customers the user owns or is on the team of
    ASSIGNED = "assigned"  # customers/projects/tasks the user is assigned to
    OWN_COMPANY = "own_company"  # the portal user's own customer, shared data only


A, OWN, S, C = Reach.ALL, Reach.OWNED, Reach.ASSIGNED, Reach.OWN_COMPANY

PERMISSIONS: dict[str, dict[str, Reach]] = {
    "me:read": {role: A for role in ROLES},
    "tenant:read": {"owner": A, "admin": A, "member": A, "contractor": A, "readonly": A},
    "tenant:write": {"owner": A},
    "users:read": {"owner": A, "admin": A, "member": A, "contractor": A, "readonly": A},
    "users:write": {"owner": A, "admin": A},
    "audit:read": {"owner": A, "admin": A},
    "events:catalog": {"owner": A, "admin": A},
    "holidays:read": {"owner": A, "admin": A, "member": A, "contractor": A, "readonly": A},
    "holidays:write": {"owner": A, "admin": A},
    "templates:read": {"owner": A, "admin": A, "member": A, "readonly": A},
    "templates:write": {"owner": A, "admin": A, "member": A},
    "templates:apply": {"owner": A, "admin": A, "member": OWN},
    "customers:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A, "portal": C},
    "customers:write": {"owner": A, "admin": A, "member": OWN},
    "contacts:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A, "portal": C},
    "contacts:write": {"owner": A, "admin": A, "member": OWN},
    # Tickets: members reach the tickets of their customers, those assigned to them and those of
    # the queues they work (tickets/access.py); contractors only tickets assigned to them.
    "tickets:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A, "portal": C},
    "tickets:create": {"owner": A, "admin": A, "member": OWN, "portal": C},
    "tickets:update": {"owner": A, "admin": A, "member": OWN, "contractor": S},
    "tickets:reply": {"owner": A, "admin": A, "member": OWN, "contractor": S, "portal": C},
    "tickets:sla": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A},
    "tickets:csat": {"owner": A, "admin": A, "member": OWN},
    "sla:read": {"owner": A, "admin": A, "member": A, "contractor": A, "readonly": A},
    "sla:write": {"owner": A, "admin": A},
    "queues:read": {"owner": A, "admin": A, "member": A, "contractor": A, "readonly": A},
    "queues:write": {"owner": A, "admin": A},
    "canned:read": {"owner": A, "admin": A, "member": A, "contractor": A, "readonly": A},
    "canned:write": {"owner": A, "admin": A, "member": A},
    # Projects and tasks: members reach the projects of their customers (and tasks assigned to
    # them); contractors the projects naming them and the tasks assigned to them.
    "projects:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A},
    "projects:write": {"owner": A, "admin": A, "member": OWN},
    "tasks:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A},
    "tasks:write": {"owner": A, "admin": A, "member": OWN},
    "tasks:update": {"owner": A, "admin": A, "member": OWN, "contractor": S},
    "views:read": {"owner": A, "admin": A, "member": A, "contractor": A, "readonly": A},
    "views:write": {"owner": A, "admin": A, "member": A, "contractor": A},
    "views:share": {"owner": A, "admin": A, "member": A},
    # Files: reach follows the file's customer; portal users see (and upload) only their own
    # customer's portal-visible files (files/service.py).
    "files:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A, "portal": C},
    "files:create": {"owner": A, "admin": A, "member": OWN, "portal": C},
    "files:write": {"owner": A, "admin": A, "member": OWN},
    # Jobs (202 Accepted): owners and admins see the tenant's; members the jobs they started.
    "jobs:read": {"owner": A, "admin": A, "member": OWN},
    # Mail triage and quarantine: unrouted mail belongs to no customer yet, so no customer reach.
    "mail:read": {"owner": A, "admin": A, "member": A, "readonly": A},
    "mail:write": {"owner": A, "admin": A, "member": A},
}

# Actions that change who may do what: each request re-asks the user check (one GetItem), so a
# demoted or deactivated owner/admin cannot use them while API Gateway still serves the
# authorizer's cached answer (core.settings.AUTHORIZER_CACHE_SECONDS). Everything else rides on
# the cache: a deactivated or demoted user keeps their old access for at most that long.
RECHECKED = frozenset({"users:write", "tenant:write"})

# Fields that carry money: never shown to contractors or portal users.
FINANCIAL_VIEWERS = frozenset({"owner", "admin", "member", "readonly"})


def roles_allowed(action: str) -> frozenset[str]:
    return frozenset(PERMISSIONS[action])


def require(principal: Principal, action: str) -> Reach:
    reach = PERMISSIONS[action].get(principal.role)
    if reach is None:
        raise Forbidden(f"role '{principal.role}' may not {action.replace(':', ' ')}")
    return reach


def sees_financials(principal: Principal) -> bool:
    return principal.role in FINANCIAL_VIEWERS
