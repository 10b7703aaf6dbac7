"""Catalog routes: a partner's listings, the admin review queue and decisions, and the public catalog."""
from __future__ import annotations

from chalicelib.http.routing import PUBLIC, Request, Router
from chalicelib.schemas import catalog as schemas

router = Router("catalog", tag="catalog")
ADMIN = ("admin",)


# --- partner ---------------------------------------------------------------------------------------
@router.route(
    "/partner/listings", "POST", summary="Create a draft app or bundle (approved partners)",
    body=schemas.CREATE_BODY, status=201, response=schemas.PRIVATE_LISTING, errors=(404, 409),
    key_scope="listings:write",
)
def create_listing(req: Request) -> dict:
    from chalicelib.catalog import lifecycle

    return lifecycle.create_listing(user=req.user, body=req.body)


@router.route(
    "/partner/listings", "GET", summary="The caller's listings in every state, oldest first",
    query=schemas.PARTNER_LIST_QUERY, response=schemas.PRIVATE_PAGE, errors=(404,), key_scope="listings:read",
)
def list_my_listings(req: Request) -> dict:
    from chalicelib.catalog import lifecycle

    return lifecycle.list_mine(
        user=req.user, status=req.query.get("status"), limit=req.query.get("limit", 20),
        cursor=req.query.get("cursor"),
    )


@router.route(
    "/partner/listings/{listing_id}", "GET", summary="One of the caller's listings, with its pending revision",
    response=schemas.PRIVATE_LISTING, errors=(404,), key_scope="listings:read",
)
def get_my_listing(req: Request) -> dict:
    from chalicelib.catalog import lifecycle

    return lifecycle.get_mine(user=req.user, listing_id=req.params["listing_id"])


@router.route(
    "/partner/listings/{listing_id}", "PATCH",
    summary="Edit a draft or rejected listing, or propose a revision of a published one",
    body=schemas.UPDATE_BODY, response=schemas.PRIVATE_LISTING, errors=(404, 409), key_scope="listings:write",
)
def update_my_listing(req: Request) -> dict:
    from chalicelib.catalog import lifecycle

    return lifecycle.update_listing(user=req.user, listing_id=req.params["listing_id"], changes=req.body)


def _partner_action(action: str, summary: str) -> None:
    def handler(req: Request) -> dict:
        from chalicelib.catalog import lifecycle

        return lifecycle.partner_action(user=req.user, listing_id=req.params["listing_id"], action=action)

    handler.__name__ = f"{action}_my_listing"
    router.route(
        f"/partner/listings/{{listing_id}}/{action}", "POST", summary=summary, body=schemas.EMPTY,
        response=schemas.PRIVATE_LISTING, errors=(404, 409), key_scope="listings:write",
    )(handler)


_partner_action("submit", "Submit a draft for review")
_partner_action("withdraw", "Withdraw a submission (back to draft) or a published listing's pending revision")
_partner_action("unlist", "Take a published listing out of the catalog")


# --- admin -----------------------------------------------------------------------------------------
@router.route(
    "/admin/review-queue", "GET", summary="Submitted listings and pending revisions, oldest first, with changes",
    auth=ADMIN, query=schemas.QUEUE_QUERY, response=schemas.QUEUE_PAGE,
)
def review_queue(req: Request) -> dict:
    from chalicelib.catalog import decisions

    return decisions.review_queue(limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))


@router.route(
    "/admin/listings/{listing_id}", "GET", summary="Any listing in any state, with its revision", auth=ADMIN,
    response=schemas.PRIVATE_LISTING, errors=(404,),
)
def get_listing_as_admin(req: Request) -> dict:
    from chalicelib.catalog import decisions

    return decisions.get_listing_admin(listing_id=req.params["listing_id"])


@router.route(
    "/admin/listings/{listing_id}/approve", "POST",
    summary="Approve a submission (publish it) or a published listing's pending revision", auth=ADMIN,
    body=schemas.EMPTY_OR_REASON, response=schemas.PRIVATE_LISTING, errors=(404, 409),
)
def approve_listing(req: Request) -> dict:
    from chalicelib.catalog import decisions

    return decisions.decide(admin=req.user, listing_id=req.params["listing_id"], action="approve",
                          reason=req.body.get("reason"))


@router.route(
    "/admin/listings/{listing_id}/reject", "POST",
    summary="Reject a submission or a pending revision, with a reason", auth=ADMIN, body=schemas.REASON_BODY,
    response=schemas.PRIVATE_LISTING, errors=(404, 409),
)
def reject_listing(req: Request) -> dict:
    from chalicelib.catalog import decisions

    return decisions.decide(admin=req.user, listing_id=req.params["listing_id"], action="reject",
                          reason=req.body["reason"])


@router.route(
    "/admin/listings/{listing_id}/suspend", "POST", summary="Suspend a published listing, with a reason",
    auth=ADMIN, body=schemas.REASON_BODY, response=schemas.PRIVATE_LISTING, errors=(404, 409),
)
def suspend_listing(req: Request) -> dict:
    from chalicelib.catalog import decisions

    return decisions.decide(admin=req.user, listing_id=req.params["listing_id"], action="suspend",
                          reason=req.body["reason"])


@router.route(
    "/admin/listings/{listing_id}/relist", "POST",
    summary="Relist a suspended listing (back in the catalog), with a reason; its partner must be approved",
    auth=ADMIN, body=schemas.REASON_BODY, response=schemas.PRIVATE_LISTING, errors=(404, 409),
)
def relist_listing(req: Request) -> dict:
    from chalicelib.catalog import decisions

    return decisions.relist(admin=req.user, listing_id=req.params["listing_id"], reason=req.body["reason"])


@router.route(
    "/admin/bundles", "POST", summary="Create and publish a cross-partner bundle owned by the marketplace",
    auth=ADMIN, body=schemas.ADMIN_BUNDLE_BODY, status=201, response=schemas.PRIVATE_LISTING, errors=(409,),
)
def create_admin_bundle(req: Request) -> dict:
    from chalicelib.catalog import decisions

    return decisions.create_admin_bundle(admin=req.user, body=req.body)


# --- public ----------------------------------------------------------------------------------------
@router.route("/categories", "GET", summary="The catalog's categories", auth=PUBLIC, response=schemas.CATEGORIES)
def list_categories(req: Request) -> dict:
    from chalicelib.catalog import queries

    return {"items": queries.categories()}


@router.route(
    "/listings", "GET", summary="Browse published listings: filter by category, type, partner, words; sort",
    auth=PUBLIC, query=schemas.CATALOG_QUERY, response=schemas.CARD_PAGE,
)
def browse_listings(req: Request) -> dict:
    from chalicelib.catalog import browse

    query = req.query
    return browse.browse(
        category=query.get("category"), listing_type=query.get("type"), partner_id=query.get("partner_id"),
        q=query.get("q"), sort=query.get("sort", "newest"), limit=query.get("limit", 20), cursor=query.get("cursor"),
    )


@router.route(
    "/listings/{listing_id}", "GET", summary="A published listing by id or slug, with rating and partner name",
    auth=PUBLIC, response=schemas.PUBLIC_LISTING, errors=(404,),
)
def get_public_listing(req: Request) -> dict:
    from chalicelib.catalog import queries

    return queries.public_listing(req.params["listing_id"])
