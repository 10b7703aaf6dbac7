"""Entitlement routes: what the signed-in customer owns."""
from __future__ import annotations

import re

from chalicelib.core.errors import NotFound
from chalicelib.http.routing import Request, Router
from chalicelib.schemas import orders as schemas

router = Router("entitlements", tag="entitlements")
# Listing ids are short opaque tokens; anything else is not owned and never reaches DynamoDB.
_LISTING_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
    found = repository.get(req.user.sub, listing_id) if _LISTING_ID.match(listing_id) else None
    if found is None:
        raise NotFound("You do not own this listing.")
    return found.to_dict()
