"""Review routes: customers review what they own, partners reply, anyone flags, admins moderate."""
from __future__ import annotations

from chalicelib.http.routing import PUBLIC, Request, Router
from chalicelib.schemas import reviews as schemas

router = Router("reviews", tag="reviews")
ADMIN = ("admin",)

# The catalog names this path segment; API Gateway needs one name per position in the path tree.
LISTING = "/listings/{listing_id}"


@router.route(
    f"{LISTING}/reviews", "GET", summary="Visible reviews of a published listing, with the partner's replies",
    auth=PUBLIC, query=schemas.LIST_QUERY, response=schemas.REVIEW_PAGE,
)
def list_listing_reviews(req: Request) -> dict:
    from chalicelib.reviews import service

    page = service.list_reviews(
        listing_id=req.params["listing_id"], sort=req.query.get("sort", "newest"),
        limit=req.query.get("limit", 20), cursor=req.query.get("cursor"),
    )
    return {"items": [r.to_dict() for r in page.items], "next_cursor": page.next_cursor}


@router.route(
    f"{LISTING}/reviews", "POST",
    summary="Review a listing you own (directly or through a bundle); one review per customer",
    body=schemas.REVIEW_BODY, status=201, response=schemas.REVIEW, errors=(403, 409),
)
def create_review(req: Request) -> dict:
    from chalicelib.reviews import service

    return service.create_review(user=req.user, listing_id=req.params["listing_id"], **req.body).to_dict(private=True)


@router.route(
    f"{LISTING}/reviews/mine", "GET", summary="Your review of a listing, with its moderation status",
    response=schemas.REVIEW,
)
def get_my_review(req: Request) -> dict:
    from chalicelib.reviews import service

    return service.my_review(user=req.user, listing_id=req.params["listing_id"]).to_dict(private=True)


@router.route(
    f"{LISTING}/reviews/mine", "PUT", summary="Replace your review (rating, title, body)",
    body=schemas.REVIEW_BODY, response=schemas.REVIEW, errors=(409,),
)
def edit_my_review(req: Request) -> dict:
    from chalicelib.reviews import service

    return service.edit_my_review(user=req.user, listing_id=req.params["listing_id"], **req.body).to_dict(private=True)


@router.route(
    f"{LISTING}/reviews/mine", "DELETE", summary="Delete your review", response=schemas.DELETED, errors=(409,),
)
def delete_my_review(req: Request) -> dict:
    from chalicelib.reviews import service

    review = service.delete_my_review(user=req.user, listing_id=req.params["listing_id"])
    return {"review_id": review.review_id, "deleted": True}


@router.route(
    "/partner/reviews/{review_id}/reply", "POST", summary="Reply to a review of one of your listings (once)",
    body=schemas.REPLY_BODY, status=201, response=schemas.REVIEW, errors=(409,),
)
def reply_to_review(req: Request) -> dict:
    from chalicelib.reviews import service

    return service.reply(user=req.user, review_id=req.params["review_id"], body=req.body["body"], edit=False).to_dict()


@router.route(
    "/partner/reviews/{review_id}/reply", "PUT", summary="Edit your reply to a review",
    body=schemas.REPLY_BODY, response=schemas.REVIEW,
)
def edit_review_reply(req: Request) -> dict:
    from chalicelib.reviews import service

    return service.reply(user=req.user, review_id=req.params["review_id"], body=req.body["body"], edit=True).to_dict()


@router.route(
    "/reviews/{review_id}/flag", "POST", summary="Report a review to the moderators (once per user)",
    body=schemas.FLAG_BODY, status=201, response=schemas.FLAG_RESPONSE, errors=(403, 409),
)
def flag_review(req: Request) -> dict:
    from chalicelib.reviews import service

    service.flag(user=req.user, review_id=req.params["review_id"], reason=req.body["reason"])
    return {"review_id": req.params["review_id"], "flagged": True}


@router.route(
    "/admin/flagged-reviews", "GET", summary="Reviews with unresolved flags, the longest-waiting first",
    auth=ADMIN, query=schemas.FLAGGED_QUERY, response=schemas.FLAGGED_PAGE,
)
def list_flagged_reviews(req: Request) -> dict:
    from chalicelib.reviews import service

    page = service.flagged_reviews(limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))
    return {
        "items": [{"review": review.to_dict(private=True), **handle.moderation_dict()} for handle, review in page.items],
        "next_cursor": page.next_cursor,
    }


@router.route(
    "/admin/reviews/{review_id}/hide", "POST",
    summary="Hide a review with a reason: it leaves the lists and the listing's rating", auth=ADMIN,
    body=schemas.HIDE_BODY, response=schemas.REVIEW, errors=(409,),
)
def hide_review(req: Request) -> dict:
    from chalicelib.reviews import service

    return service.hide(admin=req.user, review_id=req.params["review_id"], reason=req.body["reason"]).to_dict(
        private=True)


@router.route(
    "/admin/reviews/{review_id}/restore", "POST",
    summary="Restore a hidden review, or keep a flagged one and clear its flags", auth=ADMIN,
    body=schemas.RESTORE_BODY, response=schemas.REVIEW, errors=(409,),
)
def restore_review(req: Request) -> dict:
    from chalicelib.reviews import service

    return service.restore(admin=req.user, review_id=req.params["review_id"], reason=req.body.get("reason")).to_dict(
        private=True)
