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
    # The timeline (timeline/reading.py): members reach their customers' entries, contractors the
    # entries of what is assigned to them, portal users their own customer's shared entries.
    "interactions:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A, "portal": C},
    "interactions:write": {"owner": A, "admin": A, "member": OWN},
    "interaction_types:write": {"owner": A, "admin": A},
    "timeline:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A, "portal": C},
    "activity:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A},
    "reports:activity": {"owner": A, "admin": A, "member": OWN, "readonly": A},
    # Follow-ups: members reach those assigned to them and those of their customers (followups/service.py);
    # contractors those assigned to them. Internal work: never the portal's.
    "followups:read": {"owner": A, "admin": A, "member": OWN, "contractor": S, "readonly": A},
    "followups:write": {"owner": A, "admin": A, "member": OWN},
    "followups:update": {"owner": A, "admin": A, "member": OWN, "contractor": S},
    "followups:report": {"owner": A, "admin": A, "readonly": A},
    # Forms: the team builds and shares them; portal users read and submit those assigned to
    # their company (forms/service.assigned_form: a submission needs the caller's customer, so
    # owners and admins pass the gate but have no form to submit); results are the team's.
    "forms:read": {"owner": A, "admin": A, "member": A, "readonly": A, "portal": C},
    "forms:write": {"owner": A, "admin": A, "member": A},
    "forms:share": {"owner": A, "admin": A, "member": A},
    "forms:submit": {"owner": A, "admin": A, "portal": C},
    "forms:results": {"owner": A, "admin": A, "member": A, "readonly": A},
    # Time (timekeeping/): members and contractors reach their own time (OWNED: their own
    # entries, timers and timesheets), owners and admins everyone's, readonly reads; contractors
    # never see rates or amounts (sees_financials); portal users nothing here.
    "time:read": {"owner": A, "admin": A, "member": OWN, "contractor": OWN, "readonly": A},
    "time:write": {"owner": A, "admin": A, "member": OWN, "contractor": OWN},
    "time:settings": {"owner": A, "admin": A},
    "time:rerate": {"owner": A, "admin": A},
    "rates:read": {"owner": A, "admin": A, "member": A, "readonly": A},
    "rates:write": {"owner": A, "admin": A},
    # Approving a week: owners and admins; a user their own week when the tenant's self_approval is on.
    "timesheets:approve": {"owner": A, "admin": A, "member": OWN, "contractor": OWN},
    "timesheets:reopen": {"owner": A, "admin": A},
    "reports:time": {"owner": A, "admin": A, "member": OWN, "contractor": OWN, "readonly": A},
    # Billing: owners and admins manage invoices, readonly reads them; members and contractors
    # see no invoices (contractors never see amounts; members' time is the time room's).
    "invoices:read": {"owner": A, "admin": A, "readonly": A},
    "invoices:write": {"owner": A, "admin": A},
    "invoices:settings": {"owner": A, "admin": A},
    "invoices:export": {"owner": A, "admin": A, "readonly": A},
    "reports:billing": {"owner": A, "admin": A, "readonly": A},
    # Mail triage and quarantine: unrouted mail belongs to no customer yet, so no customer reach.
    "mail:read": {"owner": A, "admin": A, "member": A, "readonly": A},
    "mail:write": {"owner": A, "admin": A, "member": A},
    # The customer portal (/portal/...): portal users only, over their own company's shared data;
    # the team grants and revokes a contact's access, brands the portal and reads its adoption.
    "portal:read": {"portal": C},
    "portal:write": {"portal": C},
    "portal:access": {"owner": A, "admin": A, "member": OWN},
    "portal:branding": {"owner": A, "admin": A},
    "portal:adoption": {"owner": A, "admin": A, "member": OWN, "readonly": A},
}

# Actions that change who may do what: each request re-asks the user check (one GetItem), so a
# demoted or deactivated owner/admin cannot use them while API Gateway still serves the
# authorizer's cached answer (core.settings.AUTHORIZER_CACHE_SECONDS). Everything else rides on
# the cache: a deactivated or demoted user keeps their old access for at most that long.
# Portal routes are rechecked too: revoking a contact's portal access refuses their next request.
RECHECKED = frozenset({"users:write", "tenant:write", "portal:read", "portal:write"})

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
