"""Bearer-token authentication with PyJWT, and the caller's identity and roles.

The local stage accepts only HS256 tokens signed with its own secret (`make token`). Every other stage
accepts only RS256 tokens whose key is found by `kid` in the issuer's JWKS (Cognito), fetched once and
cached across warm invocations. Signature, `exp`, `iss` and `aud` are always checked. Roles come from
`groups` or Cognito's `cognito:groups`; partner membership is not in the token but in storage.

A bearer value that starts with `mpk_` is a partner API key, not a JWT: it is resolved by the `KeyPort`
the composition root installs (`core.identity.use_keys`; the apikeys aggregate implements it), because the
edge may not import an aggregate. Without a port, keys are refused with 401.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.config import JWKS_TIMEOUT_SECONDS, Settings, get_settings
from chalicelib.core.errors import Forbidden, Unauthorized, UpstreamUnavailable
from chalicelib.core.identity import Principal, key_port

if TYPE_CHECKING:
    import jwt

KEY_PREFIX = "mpk_"


# PyJWT (and through it cryptography) costs ~70 ms to import: public routes never pay it.
_jwks_clients: dict[str, "jwt.PyJWKClient"] = {}


def _jwks_client(url: str) -> "jwt.PyJWKClient":
    import jwt

    client = _jwks_clients.get(url)
    if client is None:
        # Short: the first request of a container waits for it, inside API Gateway's 29 s (one attempt).
        client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=JWKS_TIMEOUT_SECONDS)
        _jwks_clients[url] = client
    return client


def _decode(token: str, settings: Settings) -> dict[str, Any]:
    import jwt

    options = {"require": ["exp", "sub", "iss", "aud"]}
    common = {"audience": settings.jwt_audience, "issuer": settings.jwt_issuer, "options": options}
    if settings.is_local:
        if not settings.jwt_local_secret:
            raise Unauthorized("The local stage has no token secret configured.")
        return jwt.decode(token, settings.jwt_local_secret, algorithms=["HS256"], **common)
    if not settings.jwks_url:
        raise Unauthorized("This stage has no token issuer configured.")
    try:
        key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError as exc:
        raise UpstreamUnavailable("The token issuer's keys could not be fetched.") from exc
    return jwt.decode(token, key.key, algorithms=["RS256"], **common)


def _groups(claims: dict[str, Any]) -> frozenset[str]:
    found: set[str] = set()
    for claim in ("groups", "cognito:groups"):
        value = claims.get(claim)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            found.update(g for g in value if isinstance(g, str))
    return frozenset(found)


def authenticate(authorization: str | None, settings: Settings | None = None) -> Principal:
    """Return the caller named by an `Authorization: Bearer` header, or raise Unauthorized."""
    settings = settings or get_settings()
    if not authorization:
        raise Unauthorized("Sign in: the Authorization header is missing.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    if token.strip().startswith(KEY_PREFIX):
        port = key_port()
        if port is None:
            raise Unauthorized("API keys are not accepted by this deployment.")
        return port.resolve(token.strip())
    import jwt

    try:
        claims = _decode(token.strip(), settings)
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise Unauthorized("The token is not valid: sign in again.") from exc
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("The token has no subject.")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    return Principal(sub=sub, email=email, groups=_groups(claims))


def require_roles(principal: Principal, roles: tuple[str, ...]) -> None:
    if not principal.has_any(roles):
        raise Forbidden(f"This needs the {' or '.join(roles)} role.")


def issue_local_token(
    *, sub: str, groups: list[str] | None = None, email: str | None = None, ttl_seconds: int = 12 * 3600,
    settings: Settings | None = None,
) -> str:
    """Sign an HS256 token the local stage accepts (for `make token`, the seed script and tests)."""
    import time

    import jwt

    settings = settings or get_settings()
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
        "iat": now, "exp": now + ttl_seconds, "groups": list(groups or []),
    }
    if email:
        claims["email"] = email
    return jwt.encode(claims, settings.jwt_local_secret, algorithm="HS256")
