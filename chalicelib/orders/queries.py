"""Reading orders: one order with its refunds, and the order history (the customer's, or staff's view of all)."""
from __future__ import annotations

from chalicelib.core.errors import NotFound
from chalicelib.core.identity import Principal
from chalicelib.orders import repository
from chalicelib.orders.model import Order
from chalicelib.orders.views import order_dict

STAFF = ("admin", "finance")


def _visible(order: Order | None, user: Principal) -> Order:
    if order is None or (order.customer_sub != user.sub and not user.has_any(STAFF)):
        raise NotFound("No such order.")
    return order


def get_order(*, user: Principal, order_id: str) -> dict:
    """One order with its refunds: the customer's own, or any for admin and finance."""
    order, refunds = repository.get_with_refunds(order_id)
    return order_dict(_visible(order, user), refunds)


def list_orders(*, user: Principal, limit: int, cursor: str | None, customer: str | None = None) -> dict:
    """The caller's orders; admin and finance see every order (or one customer's with `customer`)."""
    if user.has_any(STAFF):
        if customer:
            page = repository.list_for_customer(customer, limit=limit, cursor=cursor,
                                                scope=f"orders:staff:{customer}")
        else:
            page = repository.list_all(limit=limit, cursor=cursor, scope="orders:staff:*")
    else:
        if customer and customer != user.sub:
            raise NotFound("No such customer.")
        page = repository.list_for_customer(user.sub, limit=limit, cursor=cursor, scope=f"orders:{user.sub}")
    return {"items": [order_dict(order) for order in page.items], "next_cursor": page.next_cursor}
