"""Signed form links: `<payload>.<signature>`, the payload naming tenant, form, link and expiry,
signed with HMAC-SHA256 under a key derived from the deployment's signing secret
(CSAT_SIGNING_KEY) for this purpose only. The token is the credential of a public route: a
forged, altered or expired one is refused like an unknown one. Single use and revocation live
on the link's item, not in the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from chalicelib.core.settings import get_settings

PURPOSE = b"bluehill.forms.links.v1"


@dataclass(frozen=True)
class LinkToken:
    tenant_id: str
    form_id: str
    link_id: str
    expires_at: int  # epoch seconds


def _key() -> bytes:
    secret = get_settings().csat_signing_key
    if not secret:
        raise RuntimeError("CSAT_SIGNING_KEY is not set")
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def _mac(payload: str) -> str:
    digest = hmac.new(_key(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(token: LinkToken) -> str:
    raw = json.dumps([token.tenant_id, token.form_id, token.link_id, token.expires_at], separators=(",", ":"))
    payload = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{payload}.{_mac(payload)}"


def verify(text: str, now: float) -> LinkToken | None:
    """The token's content when genuine and unexpired; None otherwise."""
    payload, _, signature = text.partition(".")
    if not payload or len(text) > 512 or not hmac.compare_digest(signature.encode(), _mac(payload).encode()):
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        tenant_id, form_id, link_id, expires_at = json.loads(raw)
        token = LinkToken(str(tenant_id), str(form_id), str(link_id), int(expires_at))
    except (ValueError, TypeError):
        return None
    return token if token.expires_at > now else None
