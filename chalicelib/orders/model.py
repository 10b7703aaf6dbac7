"""Orders as pure values: what was bought, at which frozen prices, split and commissions, and its status rules.

An order freezes, at creation, each line's price, the partner part(s) that price is split into (a bundle
line is split over its component apps with the bundle's `split`, largest remainder) and the commission
rate in force for each partner that day. Everything later (payment, refunds, disputes, the ledger) reads
these frozen numbers, never the live catalog. Nothing here touches storage, Stripe or HTTP.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from chalicelib.core.vocabulary import (  # noqa: F401 - order statuses and limits, fixed by the contract
    CANCELED, DISPUTED, FAILED, MAX_ORDER_LINES as MAX_LINES, ORDER_STATUSES as STATUSES, PAID, PARTIALLY_REFUNDED,
    PENDING_PAYMENT, REFUNDED,
)

# A failed attempt is not the end: Stripe lets the customer retry the same PaymentIntent, so a later
# success still pays the order. Nothing else may become paid.
PAYABLE = frozenset({PENDING_PAYMENT, FAILED})
CANCELABLE = frozenset({PENDING_PAYMENT, FAILED})
# Money has been taken and not wholly returned: refunds and disputes apply.
REFUNDABLE = frozenset({PAID, PARTIALLY_REFUNDED})
DISPUTABLE = frozenset({PAID, PARTIALLY_REFUNDED, REFUNDED})



@dataclass(frozen=True)
class LinePart:
    """The share of a line's price that belongs to one partner's app, with the rate frozen for it."""

    listing_id: str
    partner_id: str
    amount: int
    commission_bps: int


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    listing_id: str
    type: str  # "app" | "bundle"
    name: str
    price: int
    parts: tuple[LinePart, ...]
    refunded: int = 0

    @property
    def grants(self) -> tuple[str, ...]:
        """The listings this line entitles its buyer to: an app itself, or a bundle and each of its apps."""
        if self.type == "bundle":
            return (self.listing_id, *(p.listing_id for p in self.parts))
        return (self.listing_id,)

    @property
    def refundable(self) -> int:
        return self.price - self.refunded

    @property
    def fully_refunded(self) -> bool:
        return self.price > 0 and self.refunded >= self.price


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_sub: str
    currency: str
    total: int
    status: str
    lines: tuple[OrderLine, ...]
    payment_intent_id: str | None
    created_at: str
    paid_at: str | None = None
    refunded: int = 0
    updated_at: str | None = None
    client_secret: str | None = None
    failure_reason: str | None = None
    # The status to go back to when an open dispute closes in our favour.
    status_before_dispute: str | None = None
    # Stripe refunds already counted in `refunded` (whichever path recorded them: the API or a webhook).
    stripe_refund_ids: tuple[str, ...] = ()
    # dispute_id -> "open" | "won" | "lost", as last recorded.
    disputes: dict[str, str] = field(default_factory=dict)
    # Optimistic concurrency: every write is conditioned on the version it read.
    version: int = 0

    @property
    def refundable(self) -> int:
        return self.total - self.refunded

    def line(self, line_id: str) -> OrderLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)

    def partner_ids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for line in self.lines:
            for part in line.parts:
                seen.setdefault(part.partner_id, None)
        return tuple(seen)


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    amount: int
    line_amounts: dict[str, int]
    stripe_refund_id: str | None
    reason: str
    created_at: str
    actor: str = "system"


def order_total(lines: Iterable[OrderLine]) -> int:
    return sum(line.price for line in lines)


def status_after_refund(order: Order, amount: int) -> str:
    """`refunded` once every minor unit has gone back, else `partially_refunded` (disputes keep theirs)."""
    if order.status == DISPUTED:
        return DISPUTED
    return REFUNDED if order.refunded + amount >= order.total else PARTIALLY_REFUNDED


def apply_refund(order: Order, refund: Refund, *, at: str) -> Order:
    """The order after `refund`: line and order totals raised, status moved on."""
    lines = tuple(
        replace(line, refunded=line.refunded + refund.line_amounts.get(line.line_id, 0)) for line in order.lines
    )
    return replace(
        order, lines=lines, refunded=order.refunded + refund.amount,
        status=status_after_refund(order, refund.amount), updated_at=at,
    )


def lines_completed_by(order: Order, refund: Refund) -> tuple[OrderLine, ...]:
    """Lines that `refund` refunds in full (their entitlements end with it)."""
    done = []
    for line in order.lines:
        add = refund.line_amounts.get(line.line_id, 0)
        if add and line.refunded < line.price <= line.refunded + add:
            done.append(line)
    return tuple(done)


def granted_listings(order: Order) -> dict[str, str]:
    """listing_id -> line_id for every listing the order entitles its buyer to."""
    out: dict[str, str] = {}
    for line in order.lines:
        for listing_id in line.grants:
            out.setdefault(listing_id, line.line_id)
    return out


def with_status(order: Order, status: str, *, at: str, **changes) -> Order:
    return replace(order, status=status, updated_at=at, **changes)

