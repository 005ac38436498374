"""Who is calling: token verification (RS256 against the configured JWKS, issuer, audience,
expiry) and the principal built from the verified claims — nothing else decides identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from chalice import AuthResponse
from chalice.app import AuthRequest

from chalicelib.core.errors import Unauthenticated
from chalicelib.core.scope import tenant_scope
from chalicelib.core.settings import get_settings

ROLES = ("owner", "admin", "member", "contractor", "portal", "readonly")
JWKS_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    user_id: str
    role: str
    email: str
    customer_id: str | None = None

    def context(self) -> dict[str, str]:
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "role": self.role,
            "email": self.email,
            "customer_id": self.customer_id or "",
        }

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> Principal:
        return cls(
            tenant_id=context["tenant_id"],
            user_id=context["user_id"],
            role=context["role"],
            email=context.get("email", ""),
            customer_id=context.get("customer_id") or None,
        )


@cache
def _jwks_client() -> Any:
    import jwt  # imported on first verification only: keeps crypto off the cold-start path

    return jwt.PyJWKClient(get_settings().jwks_url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS)


def verify_token(token: str) -> Principal:
    import jwt

    settings = get_settings()
    if token.lower().startswith("bearer "):
        token = token[7:]
    try:
        if _is_portal_session(token):
            claims = _portal_session_claims(token)
        else:
            signing_key = _jwks_client().get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=["RS256"],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
    except (jwt.PyJWTError, ValueError) as error:
        raise Unauthenticated("Unauthorized") from error
    if claims.get("token_use") not in (None, "id"):
        raise Unauthenticated("Unauthorized")
    tenant_id, role = claims.get("custom:tenant_id"), claims.get("custom:role")
    if not tenant_id or role not in ROLES:
        raise Unauthenticated("Unauthorized")
    customer_id = claims.get("custom:customer_id") or None
    if role == "portal" and not customer_id:
        raise Unauthenticated("Unauthorized")
    return Principal(
        tenant_id=tenant_id,
        user_id=claims["sub"],
        role=role,
        email=claims.get("email", ""),
        customer_id=customer_id,
    )


# Portal sessions: a magic link exchanged (the portal room) becomes an HS256 token signed with
# PORTAL_SESSION_KEY and issued by PORTAL_SESSION_ISSUER (settings, never the token, choose
# both). The unverified `iss` only picks which verification runs; each pins its algorithm, so a
# token cannot pass one check by claiming the other's issuer. It carries the claims a Cognito id
# token does, for the portal role only, and meets the same user check.
PORTAL_SESSION_SECONDS = 8 * 3600


def _is_portal_session(token: str) -> bool:
    import jwt

    settings = get_settings()
    if not settings.portal_session_key:
        return False
    unverified = jwt.decode(token, options={"verify_signature": False})
    return unverified.get("iss") == settings.portal_session_issuer


def _portal_session_claims(token: str) -> dict[str, Any]:
    import jwt

    settings = get_settings()
    claims: dict[str, Any] = jwt.decode(
        token, settings.portal_session_key, algorithms=["HS256"], audience=settings.jwt_audience,
        issuer=settings.portal_session_issuer, options={"require": ["exp", "iss", "aud", "sub", "iat"]})
    if claims.get("custom:role") != "portal":
        raise ValueError("a portal session is for portal users only")
    return claims


def mint_portal_session(principal: Principal, now: int) -> tuple[str, int]:
    """A portal session token for a portal user (the caller has checked who they are) and its
    expiry (epoch seconds)."""
    import jwt

    settings = get_settings()
    if not settings.portal_session_key or principal.role != "portal" or not principal.customer_id:
        raise RuntimeError("portal sessions need PORTAL_SESSION_KEY and a portal user")
    expires = now + PORTAL_SESSION_SECONDS
    claims = {"iss": settings.portal_session_issuer, "aud": settings.jwt_audience, "sub": principal.user_id,
              "iat": now, "exp": expires, "token_use": "id", "email": principal.email,
              "custom:tenant_id": principal.tenant_id, "custom:role": "portal",
              "custom:customer_id": principal.customer_id}
    return jwt.encode(claims, settings.portal_session_key, algorithm="HS256"), expires


# The team room answers whether the user behind a verified token is still active with the
# token's role; each entry point wires it in (chalicelib.wiring) so core does not depend on a room.
UserIsCurrent = Callable[[Principal], bool]
_user_is_current: UserIsCurrent | None = None


def set_user_check(check: UserIsCurrent | None) -> None:
    global _user_is_current
    _user_is_current = check


def require_current_user(principal: Principal) -> None:
    """Refuse a token whose user is no longer active with the token's role. Fails closed: a
    process whose entry point never wired the check refuses everyone (and says why in its log)
    rather than letting every well-signed token through."""
    check = _user_is_current
    if check is None:
        from chalicelib.core.observability import logger

        logger().error("the user check was never wired (chalicelib.wiring): every token is refused")
        raise Unauthenticated("Unauthorized")
    with tenant_scope(principal.tenant_id):
        if not check(principal):
            raise Unauthenticated("Unauthorized")


def authorize(auth_request: AuthRequest) -> AuthResponse:
    """The built-in authorizer. Raising 'Unauthorized' is how API Gateway is told to answer
    401; the local gateway maps it the same way. API Gateway caches the answer for
    AUTHORIZER_CACHE_SECONDS per token (see core.settings)."""
    principal = verify_token(auth_request.token or "")
    require_current_user(principal)
    return AuthResponse(routes=["*"], principal_id=principal.user_id, context=principal.context())
