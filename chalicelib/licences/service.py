"""Licence use cases: issue one to a customer who holds an app, verify one for its partner, list holders.

A licence is a compact JWS (ES256, `signing.py`) with `iss`, `aud` = the app's partner id, `sub` = the
customer's id at that partner (`core.pseudonyms.customer_ref`, the same id partner events carry),
`listing_id`, `iat`, `exp` (`MARKET_LICENCE_TTL_SECONDS`, at most 24 h) and a `jti`. A partner verifies it
offline against `/.well-known/jwks.json`, or online here, where `active` also says whether the entitlement
is still held now (a refund deletes it; a licence already issued stays cryptographically valid until its
`exp`, which is why it is short-lived).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.catalog.ratings import get_listing_for_owner_check
from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import InvalidState, NotFound
from chalicelib.core.identity import Principal
from chalicelib.core.ids import looks_like_id, new_id
from chalicelib.core.pseudonyms import customer_ref
from chalicelib.entitlements import repository as entitlements
from chalicelib.licences import repository, signing
from chalicelib.partners.service import partner_of

REQUIRED_CLAIMS = ["iss", "aud", "sub", "listing_id", "iat", "exp"]


def issue(*, user: Principal, listing_id: str) -> dict:
    """A licence for an app the caller holds (directly, through a bundle or a subscription)."""
    held = entitlements.get(user.sub, listing_id) if looks_like_id(listing_id) else None
    if held is None:
        raise NotFound("You do not own this listing.")
    if held.listing_type != "app":
        raise InvalidState("A bundle has no licence of its own: ask for each of its apps' licences.")
    listing = get_listing_for_owner_check(listing_id)
    if listing is None:
        raise NotFound("You do not own this listing.")
    settings = get_settings()
    ref = customer_ref(listing.partner_id, user.sub)
    repository.remember(ref, partner_id=listing.partner_id, user_sub=user.sub)
    now = clock.now().replace(microsecond=0)
    expires = now + timedelta(seconds=settings.licence_ttl_seconds)
    if held.expires_at:  # held through a subscription: never beyond the access it has paid for
        expires = min(expires, clock.parse_iso(held.expires_at).replace(microsecond=0))
    claims = {"iss": settings.licence_issuer, "aud": listing.partner_id, "sub": ref, "listing_id": listing_id,
              "iat": int(now.timestamp()), "exp": int(expires.timestamp()), "jti": new_id("lic")}
    return {"licence": signing.compact_jws(claims, signing.signing_key()), "expires_at": clock.iso(expires)}


def _inactive(claims: dict | None = None, *, expires_at: str | None = None) -> dict:
    claims = claims or {}
    return {"active": False, "listing_id": claims.get("listing_id"), "customer": claims.get("sub"),
            "expires_at": expires_at}


def _claims(licence: str, audience: str) -> dict | None:
    """The claims, if the signature (one of our keys), `iss` and `aud` hold; `exp` is checked by the caller."""
    import jwt

    try:
        kid = jwt.get_unverified_header(licence).get("kid")
        jwk = next((k.jwk for k in signing.keys() if k.kid == kid), None)
        if jwk is None:
            return None
        return jwt.decode(licence, jwt.PyJWK(jwk).key, algorithms=[signing.ALG], audience=audience,
                          issuer=get_settings().licence_issuer,
                          options={"require": REQUIRED_CLAIMS, "verify_exp": False})
    except (jwt.InvalidTokenError, jwt.PyJWKError, ValueError, TypeError):
        return None


def verify(*, user: Principal, licence: str) -> dict:
    """`{active, listing_id, customer, expires_at}` for the caller's partner (another partner's: inactive, nulls)."""
    partner = partner_of(user)
    claims = _claims(licence, partner.partner_id)
    if claims is None or not isinstance(claims.get("exp"), int) or not isinstance(claims.get("sub"), str) \
            or not isinstance(claims.get("listing_id"), str):
        return _inactive()
    expires_at = clock.iso(datetime.fromtimestamp(claims["exp"], tz=timezone.utc))
    if claims["exp"] <= clock.now().timestamp():
        return _inactive(claims, expires_at=expires_at)
    user_sub = repository.user_of(claims["sub"], partner_id=partner.partner_id)
    held = user_sub is not None and looks_like_id(claims["listing_id"]) \
        and entitlements.get(user_sub, claims["listing_id"]) is not None
    return {"active": held, "listing_id": claims["listing_id"], "customer": claims["sub"], "expires_at": expires_at}


def holders(*, user: Principal, listing_id: str, limit: int, cursor: str | None) -> dict:
    """The customers who hold one of the caller's listings now, oldest grant first."""
    partner = partner_of(user)
    listing = get_listing_for_owner_check(listing_id) if looks_like_id(listing_id) else None
    if listing is None or listing.partner_id != partner.partner_id:
        raise NotFound("No such listing.")
    page = entitlements.holders_of(listing_id, limit=limit, cursor=cursor,
                                   scope=f"licences:{partner.partner_id}:{listing_id}")
    items = [{"customer": customer_ref(partner.partner_id, e.customer_sub), "listing_id": e.listing_id,
              "granted_at": e.granted_at, "via": "subscription" if e.subscription_id else "order"}
             for e in page.items]
    return {"items": items, "next_cursor": page.next_cursor}
