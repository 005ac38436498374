"""What the customers room does on other rooms' events (see core/consumers.py): a submitted
form's mapped answers fill the customer's fields (typed by the forms room against
service.FORM_MAPPABLE_FIELDS; refused mappings are reported on the submission, not here); a
contact whose email bounced is marked `bouncing` (the mail room stops mailing it; a
champion-departure signal for health; marking twice is a no-op)."""

from __future__ import annotations

from chalicelib.core.auth import Principal
from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.forms.events import FormSubmitted
from chalicelib.mail.events import MailBounced

from . import service

AUTOMATION_USER = "automation"


@consumer("customers_fields_from_form", FormSubmitted)
def fields_from_form(event: Event) -> bool:
    """A submitted form's update_customer actions set the mapped customer fields."""
    submitted = event.data_as(FormSubmitted)
    changes: dict = {}
    for action in submitted.actions:
        if action.type == "update_customer" and action.changes:
            custom = {**changes.get("custom_fields", {}), **action.changes.get("custom_fields", {})}
            changes.update(action.changes)
            if custom:
                changes["custom_fields"] = custom
    if not changes or not submitted.customer_id:
        return False
    automation = Principal(tenant_id=event.tenant_id, user_id=AUTOMATION_USER, role="owner", email="")
    return service.apply_form_answers(automation, submitted.customer_id, changes) is not None


@consumer("customers_mail_bounced", MailBounced)
def mark_bouncing(event: Event) -> int:
    """A permanent bounce of mail we sent marks each failed recipient's contact `bouncing`."""
    bounced = event.data_as(MailBounced)
    if not bounced.permanent:
        return 0
    return sum(service.mark_email_bouncing(event.tenant_id, email, bounced.status) is not None
               for email in bounced.recipients)
