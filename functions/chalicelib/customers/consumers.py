"""What the customers room does on other rooms' events (see core/consumers.py): a contact whose
email bounced is marked `bouncing` (the mail room stops mailing it; a champion-departure signal
for health). Runs once per event id; marking twice is a no-op."""

from __future__ import annotations

from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.mail.events import MailBounced

from . import service


@consumer("customers_mail_bounced", MailBounced)
def mark_bouncing(event: Event) -> int:
    """A permanent bounce of mail we sent marks each failed recipient's contact `bouncing`."""
    bounced = event.data_as(MailBounced)
    if not bounced.permanent:
        return 0
    return sum(service.mark_email_bouncing(event.tenant_id, email, bounced.status) is not None
               for email in bounced.recipients)
