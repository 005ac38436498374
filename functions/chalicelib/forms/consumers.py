"""What the forms room does on events (see core/consumers.py): seed a new tenant's default
forms, and count each submission's answers for the form's analytics (once per event: the
counting commits guard items named after the event)."""

from __future__ import annotations

from chalicelib.core.auth import Principal
from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.team.events import TenantCreated

from . import library, stats
from .events import FormSubmitted


@consumer("forms_seed_defaults", TenantCreated)
def seed_defaults(event: Event) -> bool:
    """A new tenant starts with the default forms: intake, requirements, feedback, issue report, change request."""
    created = event.data_as(TenantCreated)
    founder = Principal(tenant_id=event.tenant_id, user_id=created.owner_id, role="owner", email="")
    return library.seed_defaults(founder, event.id)


@consumer("forms_count_answers", FormSubmitted)
def count_answers(event: Event) -> int:
    """A submission's answers count in its form version's analytics (answered/blank, values)."""
    submitted = event.data_as(FormSubmitted)
    return stats.count_answers(event.tenant_id, submitted.form_id, submitted.submission_id, event.id)
