"""Builders of orders and refunds for the money tests (overridable defaults, frozen like checkout's)."""
from __future__ import annotations

import itertools

from chalicelib.orders.model import LinePart, Order, OrderLine, Refund

_seq = itertools.count(1)


def part(partner_id: str = "ptn_a", amount: int = 1000, bps: int = 2000, listing_id: str | None = None) -> LinePart:
    return LinePart(listing_id or f"lst_{next(_seq)}", partner_id, amount, bps)


def line(*parts: LinePart, line_id: str | None = None, listing_id: str | None = None, refunded: int = 0) -> OrderLine:
    parts = parts or (part(),)
    kind = "bundle" if len(parts) > 1 else "app"
    listing = listing_id or (parts[0].listing_id if kind == "app" else f"lst_b{next(_seq)}")
    return OrderLine(line_id or f"ln_{next(_seq)}", listing, kind, f"Item {listing}",
                     sum(p.amount for p in parts), tuple(parts), refunded)


def order(*lines: OrderLine, order_id: str | None = None, currency: str = "usd", pi: str | None = "auto") -> Order:
    lines = lines or (line(),)
    oid = order_id or f"ord_{next(_seq)}"
    return Order(oid, "cust-1", currency, sum(ln.price for ln in lines), "paid", tuple(lines),
                 f"pi_{oid}" if pi == "auto" else pi, "2026-11-22T10:00:00.000Z", "2026-11-22T10:00:01.000Z")


def refund(o: Order, line_amounts: dict[str, int], refund_id: str | None = None, stripe: str | None = "auto") -> Refund:
    rid = refund_id or f"rfd_{next(_seq)}"
    return Refund(rid, o.order_id, sum(line_amounts.values()), dict(line_amounts),
                  f"re_{rid}" if stripe == "auto" else stripe, "requested_by_customer", "2026-11-22T11:00:00.000Z")


def cross_partner_bundle(price: int = 2999, currency: str = "usd") -> Order:
    """A bundle of two partners' apps plus a single app of the first partner."""
    bundle = line(part("ptn_a", 750, 2000), part("ptn_b", price - 750, 1500))
    app = line(part("ptn_a", 1000, 2000))
    return order(bundle, app, currency=currency)
