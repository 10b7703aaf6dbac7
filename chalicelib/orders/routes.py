"""Order routes: checkout, the order history, cancel, and refunds by admin or finance."""
from __future__ import annotations

from chalicelib.core.errors import NotFound
from chalicelib.core.ids import looks_like_id
from chalicelib.http.routing import Reply, Request, Router
from chalicelib.schemas import orders as schemas

router = Router("orders", tag="orders")
STAFF = ("admin", "finance")


def _order_id(req: Request) -> str:
    """The path's order id; anything that cannot be an id is simply not found (and never reaches DynamoDB)."""
    order_id = req.params["order_id"]
    if not looks_like_id(order_id):
        raise NotFound("No such order.")
    return order_id


@router.route(
    "/orders", "POST", summary="Order apps and bundles; answers the PaymentIntent to confirm with Stripe.js",
    body=schemas.ORDER_BODY, status=201, response=schemas.ORDER, errors=(402, 409),
)
def place_order(req: Request) -> Reply:
    from chalicelib.orders import placing

    answer = placing.place_order(user=req.user, body=req.body, headers=req.headers)
    return Reply(answer.body, answer.status, headers=answer.headers)


@router.route(
    "/orders", "GET", summary="The caller's orders, newest first (admin and finance: every order)",
    query=schemas.ORDERS_QUERY, response=schemas.ORDER_PAGE,
)
def list_orders(req: Request) -> dict:
    from chalicelib.orders import queries

    return queries.list_orders(user=req.user, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"),
                               customer=req.query.get("customer"))


@router.route("/orders/{order_id}", "GET", summary="One order with its lines and refunds",
              response=schemas.ORDER, errors=(404,))
def get_order(req: Request) -> dict:
    from chalicelib.orders import queries

    return queries.get_order(user=req.user, order_id=_order_id(req))


@router.route("/orders/{order_id}/cancel", "POST", summary="Cancel an unpaid order (its PaymentIntent too)",
              response=schemas.ORDER, errors=(404, 409))
def cancel_order(req: Request) -> dict:
    from chalicelib.orders import canceling

    return canceling.cancel_order(user=req.user, order_id=_order_id(req))


@router.route(
    "/admin/orders/{order_id}/refunds", "POST",
    summary="Refund part of an order (an amount, some lines, or both) or all that is left, through Stripe",
    auth=STAFF, body=schemas.REFUND_BODY, status=201, response=schemas.REFUND_RESPONSE, errors=(402, 404, 409),
)
def refund_order(req: Request) -> Reply:
    from chalicelib.orders import refunds

    answer = refunds.refund_order(actor=req.user, order_id=_order_id(req), body=req.body, headers=req.headers)
    return Reply(answer.body, answer.status, headers=answer.headers)
