"""Entitlement routes: what the signed-in customer owns."""
from __future__ import annotations

from chalicelib.core.errors import NotFound
from chalicelib.core.ids import looks_like_id
from chalicelib.http.routing import Request, Router
from chalicelib.schemas import orders as schemas

router = Router("entitlements", tag="entitlements")


@router.route("/me/entitlements", "GET", summary="What the caller owns (a bundle and each of its apps)",
              query=schemas.ENTITLEMENTS_QUERY, response=schemas.ENTITLEMENT_PAGE)
def list_my_entitlements(req: Request) -> dict:
    from chalicelib.entitlements import repository

    page = repository.list_for(req.user.sub, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"),
                               scope=f"entitlements:{req.user.sub}")
    return {"items": [e.to_dict() for e in page.items], "next_cursor": page.next_cursor}


@router.route("/me/entitlements/{listing_id}", "GET", summary="Whether the caller owns a listing (404 if not)",
              response=schemas.ENTITLEMENT, errors=(404,))
def get_my_entitlement(req: Request) -> dict:
    from chalicelib.entitlements import repository

    listing_id = req.params["listing_id"]
    found = repository.get(req.user.sub, listing_id) if looks_like_id(listing_id) else None
    if found is None:
        raise NotFound("You do not own this listing.")
    return found.to_dict()
