"""What the files room does on other rooms' events (see core/consumers.py).

- Mail.Received: each attachment the mail room stored (under the tenant's prefix in the files
  bucket) becomes a file on the customer, linked to the ticket, not portal-visible — checked
  like an upload (real size, leading bytes), so an executable attachment is `rejected` and its
  bytes removed. One file per stored object whatever the deliveries (its id derives from the key).

A virus scanner hooks in here too: a consumer of File.Uploaded (published when an upload or an
attachment passed the checks, and for links with `source: link`):

    @consumer("files_virus_check", FileUploaded)
    def check_for_viruses(event: Event) -> None:
        data = event.data_as(FileUploaded)
        if data.source != "link":
            verdict = antivirus.verdict(bucket, key_of(data.file_id))   # ClamAV, GuardDuty tags…
            if verdict.infected:
                service.quarantine(event.tenant_id, data.file_id, verdict.name)

`quarantine` (to add next to `check_upload`) would move the file to `rejected` with the
scanner's reason in one conditional write publishing File.Rejected, and remove its bytes; a
deployment that must not serve unscanned bytes adds a `scanned_at` condition to the download
link in `file_view`. None of this ships: there is no scanner to call offline."""

from __future__ import annotations

from chalicelib.core.consumers import consumer
from chalicelib.core.events import Event
from chalicelib.mail.events import MailReceived

from . import service


@consumer("files_mail_attachments", MailReceived)
def record_mail_attachments(event: Event) -> list[str]:
    """A received message's attachments become files on its customer and ticket."""
    mail = event.data_as(MailReceived)
    return service.record_mail_attachments(
        event.tenant_id, mail.customer_id, mail.ticket_id, [ref.model_dump() for ref in mail.attachments],
        actor_id=None)
