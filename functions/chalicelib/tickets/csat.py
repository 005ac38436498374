"""CSAT survey tokens: signed (HMAC-SHA256 with CSAT_SIGNING_KEY), expiring, naming one
resolution of one ticket. Single use is enforced by the response item, not the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.settings import get_settings


@dataclass(frozen=True)
class SurveyToken:
    tenant_id: str
    ticket_id: str
    cycle: int
    expires_at: int  # epoch seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: bytes) -> bytes:
    key = get_settings().csat_signing_key
    if not key:
        raise RuntimeError("CSAT_SIGNING_KEY is not set")
    return hmac.new(key.encode(), payload, hashlib.sha256).digest()


def sign(token: SurveyToken) -> str:
    payload = json.dumps([token.tenant_id, token.ticket_id, token.cycle, token.expires_at],
                         separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_signature(payload))}"


def verify(text: str, now: datetime) -> SurveyToken | None:
    """The token's content if it is genuine and unexpired, else None."""
    try:
        encoded, signature = text.split(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), _signature(payload)):
            return None
        tenant_id, ticket_id, cycle, expires_at = json.loads(payload)
        token = SurveyToken(str(tenant_id), str(ticket_id), int(cycle), int(expires_at))
    except (ValueError, TypeError):
        return None
    return token if token.expires_at > now.timestamp() else None
