"""The forms every new tenant starts with (published as version 1, theirs to edit): customer
intake, requirements gathering, feedback (CSAT + NPS + CES), issue report, change request."""

from __future__ import annotations

from typing import Any

from chalicelib.core.auth import Principal
from chalicelib.core.errors import Conflict
from chalicelib.core.table import Transaction

from . import fields as field_rules
from . import service


def _f(key: str, kind: str, label: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "type": kind, "label": label, **more}


LIBRARY: list[dict[str, Any]] = [
    {"library_key": "customer_intake", "name": "Customer intake",
     "description": "Who you are and how to reach you, so onboarding can start.",
     "fields": [
         _f("company", "short_text", "Company name", required=True, max_length=200),
         _f("website", "url", "Website"),
         _f("main_contact", "short_text", "Main contact's full name", required=True),
         _f("email", "email", "Main contact's email", required=True),
         _f("phone", "phone", "Phone"),
         _f("address", "address", "Billing address"),
         _f("start_date", "date", "When would you like to start?"),
         _f("goals", "long_text", "What should we achieve together in the first 90 days?"),
         _f("terms", "consent", "I agree to the terms of service", required=True),
     ]},
    {"library_key": "requirements", "name": "Requirements gathering",
     "description": "What you need, by when, and what success looks like.",
     "fields": [
         _f("project_summary", "long_text", "Describe the project", required=True),
         _f("must_haves", "checkboxes", "Must-haves",
            options=["Integrations", "Reporting", "Single sign-on", "Data migration", "Training"]),
         _f("deadline", "date", "Hard deadline, if any"),
         _f("budget", "currency", "Budget", currency="USD"),
         _f("has_it_team", "yes_no", "Do you have an in-house IT team?"),
         _f("it_contact", "email", "IT contact's email",
            show_if={"field": "has_it_team", "op": "equals", "value": True}),
         _f("attachments", "file_upload", "Existing specs or documents", max_files=5,
            accept=["application/pdf", "image/*", "text/plain"]),
     ]},
    {"library_key": "feedback", "name": "Feedback", "description": "How are we doing?",
     "fields": [
         _f("csat", "csat", "How satisfied are you with our service?", required=True),
         _f("nps", "nps", "How likely are you to recommend us to a friend or colleague?", required=True),
         _f("ces", "ces", "How easy was it to get what you needed from us?"),
         _f("why", "long_text", "What is the main reason for your score?"),
         _f("follow_up", "yes_no", "May we follow up with you?"),
     ]},
    {"library_key": "issue_report", "name": "Issue report", "description": "Tell us what went wrong.",
     "fields": [
         _f("summary", "short_text", "Summary", required=True, max_length=200),
         _f("severity", "radio", "Severity", required=True, options=["Low", "Medium", "High", "Critical"]),
         _f("occurred_on", "date", "When did it happen?"),
         _f("steps", "long_text", "Steps to reproduce"),
         _f("impact", "long_text", "Business impact",
            require_if={"field": "severity", "op": "in", "value": ["High", "Critical"]}),
         _f("screenshots", "file_upload", "Screenshots", max_files=5, accept=["image/*"]),
     ]},
    {"library_key": "change_request", "name": "Change request", "description": "Ask for a change of scope.",
     "fields": [
         _f("title", "short_text", "What should change?", required=True),
         _f("details", "long_text", "Details", required=True),
         _f("priority", "dropdown", "Priority", options=["Low", "Normal", "High"]),
         _f("needed_by", "date", "Needed by"),
         _f("approval", "signature", "Approved by (type your full name)", required=True),
     ]},
]

for _definition in LIBRARY:  # a library form that its own rules refuse is a bug caught at import
    field_rules.check_form_fields([field_rules.FieldDef.model_validate(f) for f in _definition["fields"]])


def seed_defaults(founder: Principal, seed: str) -> bool:
    """For a new tenant (on Tenant.Created): the library's forms, published, in one transaction.
    Their ids derive from `seed` (the event id), so a second run is refused by the first copy's
    conditions: False, nothing written."""
    tx = Transaction()
    for index, definition in enumerate(LIBRARY):
        fields = {k: v for k, v in definition.items() if k != "library_key"}
        form = service.new_form(founder.tenant_id, f"{seed[:-2]}{index:02d}", fields, definition["library_key"])
        service.add_version(tx, form, founder.user_id)
        form.published_version = 1
        tx.create(form, lambda: Conflict("default forms already seeded"))
    try:
        tx.commit()
    except Conflict:
        return False
    return True
