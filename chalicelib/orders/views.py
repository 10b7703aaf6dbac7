"""The API's order, line and refund dicts, built from the pure models (shared by every order use case)."""
from __future__ import annotations

from chalicelib.orders import model
from chalicelib.orders.model import Order, OrderLine, Refund


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def line_dict(line: OrderLine, currency: str) -> dict:
    return {
        "line_id": line.line_id, "listing_id": line.listing_id, "type": line.type, "name": line.name,
        "price": money(line.price, currency), "refunded": money(line.refunded, currency),
        "parts": [{"listing_id": p.listing_id, "partner_id": p.partner_id, "amount": money(p.amount, currency),
                   "commission_bps": p.commission_bps} for p in line.parts],
    }


def refund_dict(refund: Refund, currency: str) -> dict:
    return {
        "refund_id": refund.refund_id, "order_id": refund.order_id, "amount": money(refund.amount, currency),
        "lines": [{"line_id": k, "amount": money(v, currency)} for k, v in sorted(refund.line_amounts.items())],
        "stripe_refund_id": refund.stripe_refund_id, "reason": refund.reason, "created_at": refund.created_at,
    }


def order_dict(order: Order, refunds: list[Refund] | None = None) -> dict:
    payment = None
    if order.payment_intent_id:
        # The client secret lets the buyer (re)confirm with Stripe.js; it is useless once paid.
        payment = {"payment_intent_id": order.payment_intent_id,
                   "client_secret": order.client_secret if order.status in model.PAYABLE else None}
    out = {
        "order_id": order.order_id, "status": order.status, "customer_sub": order.customer_sub,
        "currency": order.currency, "total": money(order.total, order.currency),
        "refunded": money(order.refunded, order.currency),
        "lines": [line_dict(line, order.currency) for line in order.lines],
        "payment": payment, "created_at": order.created_at, "paid_at": order.paid_at,
        "updated_at": order.updated_at, "failure_reason": order.failure_reason,
    }
    if refunds is not None:
        out["refunds"] = [refund_dict(r, order.currency) for r in refunds]
    return out
