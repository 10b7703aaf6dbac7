"""Subscriptions as pure values: the frozen price and split, the status rules, access, MRR and invoice sales.

A subscription freezes, when it is created, the listing version's price, interval and trial and the
partner parts that price is split into (a bundle over its apps with the bundle's `split`, largest
remainder), as an order line does. The commission is *not* frozen: each paid invoice is a sale at the
rate in force on the invoice's date. Status follows what Stripe says the subscription is now (re-read,
never taken from an event body), except that `canceled` is final. Access (the entitlement) follows the
status: held while `trialing` / `active` (until the period's end plus the grace days, so a renewal that
is a little late does not interrupt it), while `past_due` for at most `GRACE_DAYS` after it became so,
and after a cancel only until the period ends. Nothing here touches storage, Stripe or HTTP.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.money import Component, commission_fee, largest_remainder, split_bundle
from chalicelib.core.vocabulary import (  # noqa: F401 - the contract's statuses
    ACTIVE, INCOMPLETE, MONTH, PAST_DUE, SUB_CANCELED as CANCELED, SUBSCRIPTION_STATUSES as STATUSES, TRIALING,
    YEAR,
)

# Statuses that hold the listing (a second subscription to it is `already_owned`).
HOLDING = frozenset({TRIALING, ACTIVE, PAST_DUE})
# Statuses whose price counts in the partners' monthly recurring revenue (trials excluded).
RECURRING = frozenset({ACTIVE, PAST_DUE})
CANCELABLE = frozenset({INCOMPLETE, TRIALING, ACTIVE, PAST_DUE})

# Stripe's subscription statuses in the contract's words (unpaid/paused: Stripe stopped collecting; the
# grace that started at past_due runs out as it would).
_FROM_STRIPE = {
    "incomplete": INCOMPLETE, "incomplete_expired": CANCELED, "trialing": TRIALING, "active": ACTIVE,
    "past_due": PAST_DUE, "unpaid": PAST_DUE, "paused": PAST_DUE, "canceled": CANCELED,
}
RECENT_INVOICES = 12  # invoices kept on the subscription row for lists; GET /subscriptions/{id} has all
LINE_ID = "L1"  # a subscription's invoice is one line (the listing), split into partner parts


@dataclass(frozen=True)
class Part:
    """One partner's app and its share of the subscription price (frozen at creation)."""

    listing_id: str
    partner_id: str
    amount: int


@dataclass(frozen=True)
class InvoiceSummary:
    invoice_id: str
    amount: int
    paid_at: str | None
    refunded: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    customer_sub: str
    listing_id: str
    listing_type: str
    name: str
    listing_version: int
    currency: str
    price: int
    interval: str
    trial_days: int
    parts: tuple[Part, ...]
    status: str
    stripe_customer_id: str
    stripe_subscription_id: str
    created_at: str
    updated_at: str
    current_period_end: str | None = None
    cancel_at_period_end: bool = False
    past_due_since: str | None = None
    canceled_at: str | None = None
    payment_intent_id: str | None = None
    client_secret: str | None = None
    started: bool = False  # `subscription.started` announced (first trialing or active)
    cancel_announced: bool = False  # `subscription.canceled` announced (cancel requested or ended)
    recent_invoices: tuple[InvoiceSummary, ...] = ()
    rev: int = 0  # every write is conditioned on the revision read

    @property
    def grants(self) -> tuple[tuple[str, str, str | None], ...]:
        """(listing_id, type, via_bundle) of what the subscription entitles to: the listing and a bundle's apps."""
        if self.listing_type == "bundle":
            return ((self.listing_id, "bundle", None),
                    *((p.listing_id, "app", self.listing_id) for p in self.parts))
        return ((self.listing_id, self.listing_type, None),)

    def partner_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.partner_id for p in self.parts))


# --- creating ---------------------------------------------------------------------------------------
def check_listing(listing: Any, listing_id: str) -> None:
    """400 unless `listing` is published and sold by subscription."""
    problem = None
    if listing is None or listing.status != "published":
        problem = f"{listing_id} is not a published listing"
    elif not getattr(listing, "interval", None):
        problem = f"{listing_id} has a one-time price: buy it with POST /orders"
    if problem:
        raise ValidationFailed("This listing cannot be subscribed to.",
                               [{"field": "listing_id", "in": "body", "message": problem}])


def parts_of(listing: Any) -> tuple[Part, ...]:
    """The price split over partner parts: an app is wholly its partner's, a bundle split like an order line."""
    price = listing.price.amount
    if listing.type == "bundle":
        comps = [Component(c.listing_id, c.partner_id, c.list_price) for c in listing.components]
        return tuple(Part(p.listing_id, p.partner_id, p.amount)
                     for p in split_bundle(price, comps, dict(listing.split or {"method": "pro_rata"})))
    return (Part(listing.listing_id, listing.partner_id, price),)


def status_from_stripe(current: str, stripe_status: str) -> str:
    """What the subscription is now: Stripe's status in our words; `canceled` never comes back."""
    if current == CANCELED:
        return CANCELED
    return _FROM_STRIPE.get(stripe_status, current)


def iso_from_epoch(seconds: int | None) -> str | None:
    if not seconds:
        return None
    return clock.iso(datetime.fromtimestamp(int(seconds), tz=timezone.utc))


def synced(sub: Subscription, *, stripe_status: str, period_end: int, cancel_at_period_end: bool,
           at: str) -> Subscription:
    """`sub` after Stripe's view of it (status, period, cancel flag); `past_due_since` set when it starts."""
    status = status_from_stripe(sub.status, stripe_status)
    past_due_since = (sub.past_due_since or at) if status == PAST_DUE else None
    changed = replace(
        sub, status=status, current_period_end=iso_from_epoch(period_end) or sub.current_period_end,
        cancel_at_period_end=cancel_at_period_end or (sub.cancel_at_period_end and status == CANCELED),
        past_due_since=past_due_since,
        canceled_at=sub.canceled_at or (at if status == CANCELED else None),
        client_secret=sub.client_secret if status == INCOMPLETE else None,
    )
    return changed


def same_state(a: Subscription, b: Subscription) -> bool:
    keys = ("status", "current_period_end", "cancel_at_period_end", "past_due_since", "canceled_at", "client_secret")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def access_until(sub: Subscription, *, grace_days: int) -> str | None:
    """Until when the subscriber holds the listing (None: not at all), by the status rules above."""
    grace = timedelta(days=grace_days)
    end = clock.parse_iso(sub.current_period_end) if sub.current_period_end else None
    if sub.status in (TRIALING, ACTIVE) and end is not None:
        until = end if sub.cancel_at_period_end else end + grace
    elif sub.status == PAST_DUE and sub.past_due_since:
        until = clock.parse_iso(sub.past_due_since) + grace
        if sub.cancel_at_period_end and end is not None:
            until = min(until, end)
    else:
        return None
    return clock.iso(until)


def holds(sub: Subscription, *, grace_days: int, now: datetime | None = None) -> bool:
    until = access_until(sub, grace_days=grace_days)
    return until is not None and clock.parse_iso(until) > (now or clock.now())


# --- monthly recurring revenue ----------------------------------------------------------------------
def monthly_shares(sub: Subscription) -> dict[str, int]:
    """partner -> its gross share of the price per month (a yearly share / 12, rounded half up)."""
    shares: dict[str, int] = {}
    for part in sub.parts:
        shares[part.partner_id] = shares.get(part.partner_id, 0) + part.amount
    if sub.interval == YEAR:
        return {p: (amount + 6) // 12 for p, amount in shares.items()}
    return shares


def mrr_delta(before: Subscription | None, after: Subscription) -> dict[str, int]:
    """How the partners' MRR counters move when `before` becomes `after` (trials and ended ones count 0)."""
    was = monthly_shares(before) if before is not None and before.status in RECURRING else {}
    now = monthly_shares(after) if after.status in RECURRING else {}
    return {p: now.get(p, 0) - was.get(p, 0) for p in set(was) | set(now) if now.get(p, 0) != was.get(p, 0)}


# --- invoices as sales (the ledger reads these like an order) ---------------------------------------
@dataclass(frozen=True)
class SalePart:
    listing_id: str
    partner_id: str
    amount: int
    commission_bps: int


@dataclass(frozen=True)
class SaleLine:
    line_id: str
    listing_id: str
    price: int
    parts: tuple[SalePart, ...]


@dataclass(frozen=True)
class InvoiceSale:
    """A paid invoice, shaped as the ledger's rules read a sale: one line split into partner parts."""

    invoice_id: str
    subscription_id: str
    currency: str
    total: int
    payment_intent_id: str | None
    lines: tuple[SaleLine, ...] = field(default_factory=tuple)

    @property
    def order_id(self) -> str:  # the ledger keys a sale's state by this id
        return self.invoice_id


def invoice_sale(sub: Subscription, *, invoice_id: str, amount: int, currency: str, payment_intent_id: str | None,
                 commission_bps: dict[str, int]) -> InvoiceSale:
    """The invoice's amount split over the frozen parts (largest remainder), at the rates given."""
    shares = largest_remainder(amount, [p.amount for p in sub.parts])
    parts = tuple(SalePart(p.listing_id, p.partner_id, share, commission_bps[p.partner_id])
                  for p, share in zip(sub.parts, shares))
    return InvoiceSale(invoice_id, sub.subscription_id, currency, amount, payment_intent_id,
                       (SaleLine(LINE_ID, sub.listing_id, amount, parts),))


def sale_lines(sale: InvoiceSale) -> list[tuple[str, str, int, int]]:
    """(partner, listing, amount, bps) of each part, for the partner events."""
    return [(p.partner_id, p.listing_id, p.amount, p.commission_bps) for line in sale.lines for p in line.parts]


def fee_of(amount: int, bps: int) -> int:
    return commission_fee(amount, bps)


@dataclass(frozen=True)
class InvoiceRefund:
    """A refund of an invoice, shaped as the ledger's rules read a refund."""

    refund_id: str
    subscription_id: str
    invoice_id: str
    amount: int
    stripe_refund_id: str | None
    reason: str
    created_at: str
    actor: str = "stripe"

    @property
    def line_amounts(self) -> dict[str, int]:
        return {LINE_ID: self.amount}


def with_invoice(sub: Subscription, summary: InvoiceSummary) -> Subscription:
    """`sub` with `summary` first among its recent invoices (replacing an older copy of it)."""
    others = tuple(i for i in sub.recent_invoices if i.invoice_id != summary.invoice_id)
    ordered = sorted((summary, *others), key=lambda i: (i.paid_at or "", i.invoice_id), reverse=True)
    return replace(sub, recent_invoices=tuple(ordered[:RECENT_INVOICES]))
