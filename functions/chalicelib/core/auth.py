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
