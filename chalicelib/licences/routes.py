"""Licence routes: a customer's licence for an app, the public JWKS, and a partner's verify and holder list."""
from __future__ import annotations

from chalicelib.http.routing import PUBLIC, Reply, Request, Router
from chalicelib.schemas import licences as schemas

router = Router("licences", tag="partner-pathways")
JWKS_CACHE = "public, max-age=300"  # a new key is published well before it signs (rotation: docs)


@router.route(
    "/me/entitlements/{listing_id}/licence", "GET",
    summary="A signed licence (ES256 JWS, valid up to 24 h) for an app the caller holds; a bundle's owner asks "
            "per app (409 for the bundle itself)",
    response=schemas.LICENCE, errors=(404, 409),
)
def get_my_licence(req: Request) -> dict:
    from chalicelib.licences import service

    return service.issue(user=req.user, listing_id=req.params["listing_id"])


@router.route(
    "/.well-known/jwks.json", "GET", summary="The public keys that sign licences (for offline verification)",
    auth=PUBLIC, response=schemas.JWKS,
)
def get_jwks(req: Request) -> Reply:
    from chalicelib.licences import signing

    return Reply(signing.jwks(), headers={"Cache-Control": JWKS_CACHE})


@router.route(
    "/partner/licences/verify", "POST",
    summary="Check a licence online: active only if signed by us, addressed to the caller, unexpired and the "
            "customer still holds the app (an invalid or foreign licence is inactive, with nulls)",
    body=schemas.VERIFY_BODY, response=schemas.VERIFIED, errors=(403, 404), key_scope="licences:read",
)
def verify_licence(req: Request) -> dict:
    from chalicelib.licences import service

    return service.verify(user=req.user, licence=req.body["licence"])


@router.route(
    "/partner/licences", "GET",
    summary="Who holds one of the caller's listings now (`listing_id` required), oldest grant first",
    query=schemas.HOLDERS_QUERY, response=schemas.HOLDER_PAGE, errors=(403, 404), key_scope="licences:read",
)
def list_licences(req: Request) -> dict:
    from chalicelib.licences import service

    return service.holders(user=req.user, listing_id=req.query["listing_id"], limit=req.query.get("limit", 20),
                           cursor=req.query.get("cursor"))
