"""The built-in library every new tenant starts with, as editable copies of these definitions."""

from __future__ import annotations

from typing import Any


def _task(key: str, title: str, day: int, duration_days: int = 1, **fields: Any) -> dict[str, Any]:
    return {"key": key, "title": title, "day": day, "duration_days": duration_days, **fields}


def _milestone(key: str, title: str, day: int, **fields: Any) -> dict[str, Any]:
    return _task(key, title, day, is_milestone=True, weight=3, portal_visible=True, **fields)


ONBOARDING_ROLES = ["csm", "implementation_lead", "customer_admin"]

SAAS_ONBOARDING = {
    "library_key": "saas-onboarding-14-days",
    "name": "SaaS onboarding — 14 days",
    "category": "onboarding",
    "description": "From signed contract to first value in two weeks: kickoff on Day 3, admin ready on Day 7, "
                   "go-live on Day 14.",
    "roles": ONBOARDING_ROLES,
    "tasks": [
        _task("welcome-email", "Send the welcome email", 1, assignee_role="csm", task_type="onboarding"),
        _task("schedule-kickoff", "Schedule the kickoff call", 1, assignee_role="csm", task_type="onboarding"),
        _task("provision-account", "Provision the account", 1, assignee_role="implementation_lead",
              task_type="onboarding"),
        _milestone("kickoff-call", "Kickoff call", 3, assignee_role="csm", task_type="onboarding",
                   depends_on=["schedule-kickoff"]),
        _task("data-import", "Import the customer's data", 4, 3, assignee_role="implementation_lead",
              task_type="onboarding", depends_on=["kickoff-call", "provision-account"]),
        _task("integrations", "Connect the integrations", 4, 3, assignee_role="implementation_lead",
              task_type="onboarding", depends_on=["kickoff-call"]),
        _task("first-admin-trained", "Train the first admin", 5, assignee_role="csm", task_type="onboarding",
              depends_on=["kickoff-call"]),
        _task("workflows-configured", "Configure the workflows", 6, assignee_role="customer_admin",
              task_type="onboarding", portal_visible=True, depends_on=["first-admin-trained"]),
        _milestone("admin-readiness-check", "Admin readiness check", 7, assignee_role="csm",
                   task_type="onboarding", depends_on=["workflows-configured", "data-import"]),
        _task("end-user-training", "End-user training", 10, assignee_role="csm", task_type="onboarding",
              portal_visible=True, depends_on=["admin-readiness-check"]),
        _milestone("go-live", "Go-live and first value", 14, assignee_role="csm", task_type="onboarding",
                   depends_on=["end-user-training"]),
        _task("exec-status-update", "Status update to the exec sponsor", 14, assignee_role="csm",
              task_type="onboarding", depends_on=["go-live"]),
        _task("schedule-30-day-check-in", "Schedule the 30-day check-in", 14, assignee_role="csm",
              task_type="onboarding", depends_on=["go-live"]),
    ],
}

AGENCY_ONBOARDING = {
    "library_key": "agency-client-onboarding-4-weeks",
    "name": "Agency client onboarding — 4 weeks",
    "category": "onboarding",
    "description": "Four weekly milestones — kickoff, discovery, strategy, first deliverables — with the work "
                   "between them.",
    "roles": ["account_lead", "strategist", "customer_admin"],
    "tasks": [
        _milestone("kickoff", "Client kickoff", 1, assignee_role="account_lead", task_type="onboarding"),
        _task("access-and-assets", "Collect access and brand assets", 2, 3, assignee_role="customer_admin",
              task_type="onboarding", portal_visible=True, depends_on=["kickoff"]),
        _task("stakeholder-interviews", "Stakeholder interviews", 2, 4, assignee_role="strategist",
              task_type="onboarding", depends_on=["kickoff"]),
        _task("audit-current-state", "Audit the current channels", 3, 4, assignee_role="strategist",
              task_type="onboarding", depends_on=["kickoff"]),
        _milestone("discovery-complete", "Discovery complete", 7, assignee_role="strategist",
                   task_type="onboarding", depends_on=["stakeholder-interviews", "audit-current-state"]),
        _task("draft-strategy", "Draft the strategy and plan", 8, 4, assignee_role="strategist",
              task_type="onboarding", depends_on=["discovery-complete"]),
        _task("review-strategy", "Review the strategy with the client", 12, 2, assignee_role="account_lead",
              task_type="onboarding", depends_on=["draft-strategy"]),
        _milestone("strategy-approved", "Strategy approved", 14, assignee_role="account_lead",
                   task_type="onboarding", depends_on=["review-strategy"]),
        _task("produce-deliverables", "Produce the first deliverables", 15, 10, assignee_role="strategist",
              task_type="onboarding", depends_on=["strategy-approved"]),
        _task("client-review", "Client review of the deliverables", 25, 2, assignee_role="customer_admin",
              task_type="onboarding", portal_visible=True, depends_on=["produce-deliverables"]),
        _milestone("first-deliverables-live", "First deliverables live", 28, assignee_role="account_lead",
                   task_type="onboarding", depends_on=["client-review"]),
    ],
}

KICKOFF_AGENDA = (
    ("recap-why", "Recap why they bought"),
    ("success-criteria", "Agree the success criteria"),
    ("workplan", "Walk the workplan with owners and dates"),
    ("risks", "Name the risks"),
    ("cadence", "Set the meeting cadence"),
    ("next-steps", "Confirm the next steps"),
)

CUSTOMER_KICKOFF = {
    "library_key": "customer-kickoff",
    "name": "Customer kickoff",
    "category": "kickoff",
    "description": "The kickoff meeting on Day 1 with its agenda as subtasks, and the recap email the same day.",
    "roles": ["csm", "customer_admin"],
    "tasks": [
        _task("prepare-deck", "Prepare the kickoff deck", -2, 2, assignee_role="csm", task_type="kickoff"),
        _milestone("kickoff-meeting", "Kickoff meeting", 1, assignee_role="csm", task_type="kickoff",
                   depends_on=["prepare-deck"]),
        *(_task(key, title, 1, assignee_role="csm", task_type="kickoff", parent_key="kickoff-meeting")
          for key, title in KICKOFF_AGENDA),
        _task("recap-email", "Send the recap email", 1, assignee_role="csm", task_type="kickoff",
              portal_visible=True, depends_on=["kickoff-meeting"]),
    ],
}

QBR_PREPARATION = {
    "library_key": "qbr-preparation",
    "name": "QBR preparation",
    "category": "qbr",
    "description": "Anchored on the QBR date: the value scorecard, wins and gaps, next-quarter focus, risks and "
                   "asks, ready before the meeting.",
    "roles": ["csm", "exec_sponsor"],
    "tasks": [
        _task("value-scorecard", "Build the value scorecard", -10, 3, assignee_role="csm", task_type="qbr"),
        _task("wins-and-gaps", "List the wins and gaps", -7, 2, assignee_role="csm", task_type="qbr",
              depends_on=["value-scorecard"]),
        _task("next-quarter-focus", "Propose the next-quarter focus", -5, 2, assignee_role="csm", task_type="qbr",
              depends_on=["wins-and-gaps"]),
        _task("risks-and-asks", "Write down the risks and asks", -5, 2, assignee_role="csm", task_type="qbr",
              depends_on=["wins-and-gaps"]),
        _task("internal-review", "Internal review with the exec sponsor", -2, assignee_role="exec_sponsor",
              task_type="qbr", depends_on=["next-quarter-focus", "risks-and-asks"]),
        _milestone("qbr-meeting", "QBR meeting", 1, assignee_role="csm", task_type="qbr",
                   depends_on=["internal-review"]),
        _task("qbr-follow-up", "Send the QBR follow-up", 2, assignee_role="csm", task_type="qbr",
              portal_visible=True, depends_on=["qbr-meeting"]),
    ],
}

LIBRARY: tuple[dict[str, Any], ...] = (SAAS_ONBOARDING, AGENCY_ONBOARDING, CUSTOMER_KICKOFF, QBR_PREPARATION)
