"""Threading rules, pure: tenant addresses, the signed plus-address ticket token, the subject
token and the normalised subject. The pipeline (service.py) tries, in order: (1) In-Reply-To /
References against the Message-IDs we stored or sent, (2) the signed token in the recipient
(`support+t.<token>@…`), (3) the subject token `[#T-<number>]`, (4) the normalised subject from
the same sender within `SUBJECT_WINDOW`; the method that matched is stored on the message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

SUPPORT_LOCALPART = "support"
LOG_LOCALPART = "log"
TOKEN_TAG = "t."
SUBJECT_WINDOW = timedelta(days=30)
TOKEN_MAC_BYTES = 8

METHODS = ("message_id", "address_token", "subject_token", "subject")

# Reply and forward prefixes in the languages mail clients write them: Re, RE[2], Re(2), AW
# (German), SV (Nordic), VS (Finnish), Antw (Dutch), Fwd/Fw, WG (German), TR (French), RV (Spanish).
_PREFIX = re.compile(r"^\s*(?:re|aw|sv|vs|antw|antwort|fwd?|wg|tr|rv|r|ynt|odp)\s*(?:\[\d+\]|\(\d+\))?\s*[:\uff1a]\s*",
                     re.IGNORECASE)
_BRACKET_TAG = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")
_SUBJECT_TOKEN = re.compile(r"\[#T-(\d{1,12})\]", re.IGNORECASE)


@dataclass(frozen=True)
class Address:
    """A recipient on the inbound domain: whose tenant, which mailbox, and its plus tag."""

    tenant_id: str
    mailbox: str  # "support" or "log"
    tag: str | None


def support_address(tenant_id: str, domain: str, tag: str | None = None) -> str:
    local = f"{SUPPORT_LOCALPART}+{tag}" if tag else SUPPORT_LOCALPART
    return f"{local}@{tenant_id}.{domain}"


def log_address(tenant_id: str, domain: str) -> str:
    return f"{LOG_LOCALPART}@{tenant_id}.{domain}"


def parse_address(address: str, domain: str) -> Address | None:
    """`support[+tag]@<tenant>.<domain>` or `log@<tenant>.<domain>`, else None."""
    local, _, host = address.lower().rpartition("@")
    suffix = "." + domain.lower()
    if not host.endswith(suffix):
        return None
    tenant_id = host[: -len(suffix)]
    if not tenant_id or "." in tenant_id:
        return None
    mailbox, _, tag = local.partition("+")
    if mailbox not in (SUPPORT_LOCALPART, LOG_LOCALPART):
        return None
    return Address(tenant_id, mailbox, tag or None)


def _mac(key: bytes, tenant_id: str, ticket_id: str) -> str:
    digest = hmac.new(key, f"{tenant_id}:{ticket_id}".encode(), hashlib.sha256).digest()[:TOKEN_MAC_BYTES]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def ticket_token(key: bytes, tenant_id: str, ticket_id: str) -> str:
    """The plus tag that names a ticket in a Reply-To: `t.<ticket id>.<mac>` (a mail address's
    local part is case-insensitive in practice: ids (core.ids) and macs are lower case)."""
    return f"{TOKEN_TAG}{ticket_id.lower()}.{_mac(key, tenant_id, ticket_id.lower())}"


def ticket_from_token(key: bytes, tenant_id: str, tag: str | None) -> str | None:
    """The ticket id a plus tag names, when its signature holds for this tenant."""
    if not tag or not tag.startswith(TOKEN_TAG):
        return None
    ticket_id, _, mac = tag[len(TOKEN_TAG):].rpartition(".")
    if not ticket_id or not hmac.compare_digest(mac, _mac(key, tenant_id, ticket_id)):
        return None
    return ticket_id


def subject_token(number: int) -> str:
    return f"[#T-{number}]"


def reply_subject(subject: str, number: int) -> str:
    """The subject of a reply we send: `Re: <subject without prefixes or token> [#T-<n>]`."""
    text = _SUBJECT_TOKEN.sub(" ", subject)
    while True:
        stripped = _PREFIX.sub("", text)
        if stripped == text:
            break
        text = stripped
    return f"Re: {' '.join(text.split()) or 'your request'} {subject_token(number)}"


def number_in_subject(subject: str) -> int | None:
    found = _SUBJECT_TOKEN.search(subject)
    return int(found.group(1)) if found else None


def normalise_subject(subject: str) -> str:
    """The subject with reply/forward prefixes (any language, any depth), leading list tags and
    the subject token removed, whitespace collapsed and case folded."""
    text = _SUBJECT_TOKEN.sub(" ", subject)
    while True:
        stripped = _BRACKET_TAG.sub("", _PREFIX.sub("", text))
        if stripped == text:
            break
        text = stripped
    return " ".join(text.split()).casefold()


def subject_key(subject: str) -> str | None:
    """What the subject method matches on (a hash of the normalised subject), or None when the
    subject is too generic to thread by (empty, or under 4 characters)."""
    normal = normalise_subject(subject)
    if len(normal) < 4:
        return None
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


def message_id_key(message_id: str) -> str:
    """A Message-ID as an item key part (hashed: ids carry any character and run long)."""
    return hashlib.sha256(message_id.strip("<>").lower().encode()).hexdigest()[:40]
