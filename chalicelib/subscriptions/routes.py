"""Subscription routes: subscribe, list and read, cancel at period end, and staff refunds of an invoice."""
from __future__ import annotations

from chalicelib.core.errors import NotFound
from chalicelib.core.ids import looks_like_id
from chalicelib.http.routing import Reply, Request, Router
from chalicelib.schemas import subscriptions as schemas

router = Router("subscriptions", tag="subscriptions")
STAFF = ("admin", "finance")


def _subscription_id(req: Request) -> str:
    """The path's id; anything that cannot be an id is simply not found (and never reaches DynamoDB)."""
    subscription_id = req.params["subscription_id"]
    if not looks_like_id(subscription_id):
        raise NotFound("No such subscription.")
    return subscription_id


@router.route(
    "/subscriptions", "POST",
    summary="Subscribe to a listing sold by the month or year; answers the first invoice's PaymentIntent to "
            "confirm with Stripe.js (null for a trial)",
    body=schemas.SUBSCRIBE_BODY, status=201, response=schemas.SUBSCRIPTION, errors=(402, 409),
)
def subscribe(req: Request) -> Reply:
    from chalicelib.subscriptions import subscribing

    answer = subscribing.subscribe(user=req.user, body=req.body, headers=req.headers)
    return Reply(answer.body, answer.status, headers=answer.headers)


@router.route("/subscriptions", "GET",
              summary="The caller's subscriptions, newest first, with their latest invoices (admin and finance: all)",
              query=schemas.SUBSCRIPTIONS_QUERY, response=schemas.SUBSCRIPTION_PAGE)
def list_subscriptions(req: Request) -> dict:
    from chalicelib.subscriptions import manage

    return manage.list_subscriptions(user=req.user, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))


@router.route("/subscriptions/{subscription_id}", "GET", summary="One subscription with every invoice it was billed",
              response=schemas.SUBSCRIPTION, errors=(404,))
def get_subscription(req: Request) -> dict:
    from chalicelib.subscriptions import manage

    return manage.get_subscription(user=req.user, subscription_id=_subscription_id(req))


@router.route("/subscriptions/{subscription_id}/cancel", "POST",
              summary="Cancel at the period's end: access lasts until `current_period_end` (an unpaid one ends now)",
              response=schemas.SUBSCRIPTION, errors=(402, 404, 409))
def cancel_subscription(req: Request) -> dict:
    from chalicelib.subscriptions import manage

    return manage.cancel(user=req.user, subscription_id=_subscription_id(req))


@router.route(
    "/admin/subscriptions/{subscription_id}/refunds", "POST",
    summary="Refund part or all of one paid invoice through Stripe, reversed like an order refund",
    auth=STAFF, body=schemas.REFUND_BODY, status=201, response=schemas.REFUND_RESPONSE, errors=(402, 404, 409),
)
def refund_invoice(req: Request) -> Reply:
    from chalicelib.subscriptions import refunds

    answer = refunds.refund_invoice(actor=req.user, subscription_id=_subscription_id(req), body=req.body,
                                    headers=req.headers)
    return Reply(answer.body, answer.status, headers=answer.headers)
