"""Mailbox connectors: a tenant's own mailbox (Gmail, Microsoft 365) synced into the same
pipeline as SES. A connector only lists raw RFC 5322 messages since a cursor; `sync` writes each
into the inbound bucket under `raw/` with the envelope line SES would add (the tenant's log
address, or its support address for a shared support mailbox), so the S3 event runs the same
handler, with the same exactly-once (Message-ID), routing and threading.

How the real ones plug in (their OAuth flows are out of scope offline):
- Gmail: `users.history.list(startHistoryId=cursor)` for new message ids, then
  `users.messages.get(format=raw)` (base64url of the RFC 5322 bytes); the cursor is the last
  historyId. Scope `gmail.readonly`, the refresh token kept per tenant in Secrets Manager.
- Microsoft Graph: `/me/mailFolders/inbox/messages/delta` (the cursor is the deltaLink), then
  `/me/messages/{id}/$value` (the MIME bytes). Scope `Mail.Read`, same secret handling.
A scheduled job per connected mailbox calls `sync` with the stored cursor and stores the next."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class MailboxConnector(Protocol):
    """A source of raw messages: `fetch(cursor)` → (messages since the cursor, the next cursor)."""

    name: str

    def fetch(self, cursor: str | None) -> tuple[Iterable[bytes], str | None]: ...


@dataclass
class SyncResult:
    keys: list[str]
    cursor: str | None


def envelope(raw: bytes, recipient: str, via: str) -> bytes:
    """The message with the Received line SES adds (the handler routes by its `for` clause)."""
    stamp = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return f"Received: by bluehill-{via}-connector for {recipient}; {stamp}\r\n".encode() + raw


def sync(connector: MailboxConnector, recipient: str, cursor: str | None,
         put_raw: Callable[[str, bytes], None]) -> SyncResult:
    """Write every message the connector has since `cursor` into the inbound bucket (`put_raw`
    is the S3 put); keys are content-addressed, so a re-synced message is the same object."""
    messages, next_cursor = connector.fetch(cursor)
    keys = []
    for raw in messages:
        key = f"raw/{connector.name}/{hashlib.sha256(raw).hexdigest()}"
        put_raw(key, envelope(raw, recipient, connector.name))
        keys.append(key)
    return SyncResult(keys, next_cursor)
