"""Orders as pure values: what was bought, at which frozen prices, split and commissions, and its status rules.

An order freezes, at creation, each line's price, the partner part(s) that price is split into (a bundle
line is split over its component apps with the bundle's `split`, largest remainder) and the commission
rate in force for each partner that day. Everything later (payment, refunds, disputes, the ledger) reads
these frozen numbers, never the live catalog. Nothing here touches storage, Stripe or HTTP.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from chalicelib.core.errors import ValidationFailed
from chalicelib.core.money import Component, split_bundle
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

PUBLISHED = "published"
TRANSACTION_LIMIT = 100  # DynamoDB's TransactWriteItems maximum
# A refund's line allocation travels in its Stripe metadata as `line_<line_id>: <amount>`.
ALLOC_PREFIX = "line_"


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


def deterministic_id(prefix: str, *parts: str) -> str:
    """An id derived from a caller's idempotency key: two racing retries build the same order (or refund)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return f"{prefix}_" + base64.b32encode(digest).decode("ascii")[:26]


# --- placing an order ------------------------------------------------------------------------------
def grants_of_listing(listing: Any) -> list[str]:
    """The listings buying `listing` entitles to: itself and, for a bundle, each of its apps."""
    return [listing.listing_id, *(c.listing_id for c in listing.components)]


def sellers_of(listings: Iterable[Any]) -> set[str]:
    """Every partner whose app is among `listings` (a bundle's components included)."""
    return {p for listing in listings for p in (listing.partner_id, *(c.partner_id for c in listing.components))}


def validate_items(listing_ids: list[str], live: Mapping[str, Any]) -> tuple[str, list]:
    """The order's currency and its listings, or a 400 naming each unusable item."""
    problems = []
    listings = []
    for index, listing_id in enumerate(listing_ids):
        listing = live.get(listing_id)
        if listing is None or listing.status != PUBLISHED:
            problems.append({"field": f"items.{index}.listing_id", "in": "body",
                             "message": f"{listing_id} is not a published listing"})
        elif getattr(listing, "interval", None):  # sold by subscription only (POST /subscriptions)
            problems.append({"field": f"items.{index}.listing_id", "in": "body",
                             "message": f"{listing_id} is sold by subscription: use POST /subscriptions"})
        else:
            listings.append(listing)
    if problems:
        raise ValidationFailed("Some items cannot be ordered.", problems)
    currencies = sorted({listing.price.currency for listing in listings})
    if len(currencies) > 1:
        raise ValidationFailed("All items of an order must be priced in one currency.", [
            {"field": "items", "in": "body", "message": f"mixes currencies {', '.join(currencies)}"}])
    # A listing may reach the order twice: an app and a bundle holding it, or two bundles sharing an app.
    seen: dict[str, str] = {}
    for listing in listings:
        for granted in grants_of_listing(listing):
            if granted in seen:
                raise ValidationFailed("An app would be bought twice in this order.", [
                    {"field": "items", "in": "body",
                     "message": f"{granted} is in both {seen[granted]} and {listing.listing_id}"}])
            seen[granted] = listing.listing_id
    return currencies[0], listings


def build_lines(listings: list, commission_bps: Mapping[str, int]) -> tuple[OrderLine, ...]:
    """Freeze each listing's price, split (bundles) and its partners' commission rates into order lines."""
    def bps(partner_id: str) -> int:
        if partner_id not in commission_bps:
            raise ValidationFailed(f"The seller {partner_id} of an item no longer exists.")
        return commission_bps[partner_id]

    lines = []
    for number, listing in enumerate(listings, start=1):
        price = listing.price.amount
        if listing.type == "bundle":
            comps = [Component(c.listing_id, c.partner_id, c.list_price) for c in listing.components]
            parts = tuple(LinePart(p.listing_id, p.partner_id, p.amount, bps(p.partner_id))
                          for p in split_bundle(price, comps, dict(listing.split or {"method": "pro_rata"})))
        else:
            parts = (LinePart(listing.listing_id, listing.partner_id, price, bps(listing.partner_id)),)
        lines.append(OrderLine(f"L{number}", listing.listing_id, listing.type, listing.name, price, parts))
    return tuple(lines)


def fits_one_transaction(lines: tuple[OrderLine, ...]) -> None:
    """Paying (or refunding) an order is one transaction of at most 100 rows: refuse orders that cannot fit.

    Rows: the order, the event marker or idempotency record, the audit record, the refund and its guard,
    one entitlement per granted listing, the ledger's 6 + 3 per partner, and each partner's event and
    event counter (partner_feed.outbox): 5 per partner.
    """
    grants = sum(len(line.grants) for line in lines)
    partners = len({p.partner_id for line in lines for p in line.parts})
    if grants + 5 * partners + 12 > TRANSACTION_LIMIT:
        raise ValidationFailed("This order is too large to be paid in one step; split it into smaller orders.", [
            {"field": "items", "in": "body", "message": f"grants {grants} listings from {partners} partners"}])


def new_order(*, order_id: str, customer_sub: str, currency: str, lines: tuple[OrderLine, ...], at: str) -> Order:
    """A fresh order awaiting its payment (the caller marks a free one paid at once)."""
    return Order(order_id=order_id, customer_sub=customer_sub, currency=currency, total=order_total(lines),
                 status=PENDING_PAYMENT, lines=lines, payment_intent_id=None, created_at=at, updated_at=at)


# --- refunds ---------------------------------------------------------------------------------------
def allocation_metadata(line_amounts: dict[str, int]) -> dict[str, str]:
    """A refund's line allocation as Stripe metadata, so its webhook counts it with the same split."""
    return {f"{ALLOC_PREFIX}{line_id}": str(amount) for line_id, amount in line_amounts.items()}


def allocation_from(metadata: dict[str, str], order: Order, amount: int) -> dict[str, int] | None:
    """The allocation a refund of ours carried, if it still fits the order; else None (spread it)."""
    alloc = {k[len(ALLOC_PREFIX):]: int(v) for k, v in metadata.items()
             if k.startswith(ALLOC_PREFIX) and v.isdigit()}
    if not alloc or sum(alloc.values()) != amount:
        return None
    try:
        if any(order.line(line_id).refundable < share for line_id, share in alloc.items()):
            return None
    except KeyError:
        return None
    return alloc
