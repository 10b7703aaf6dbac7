"""Subscription rows in the single table, their keys, and their mapping to the pure models.

Rows (each in a partition of its own kind, so no other aggregate's Query ever meets them):
- `SUBSCRIPTION#<id>/SUBSCRIPTION`: the subscription (frozen price and parts, status, period, the last
  invoices for lists); gsi1 `CUSTSUBS#<sub>` and gsi2 `SUBSCRIPTIONS` (newest first), gsi3
  `STRIPESUB#<stripe id>` (webhooks find it by Stripe's id). Every write is a whole-row put conditioned
  on the `rev` read.
- `SUBSCRIPTION#<id>/INVOICE#<in_…>`: one paid invoice, written with `attribute_not_exists`: an invoice is
  a sale once. gsi3 `INVOICEPI#<pi>` (a `charge.refunded` finds the invoice by its PaymentIntent).
- `SUBSCRIPTION#<id>/REFUND#<id>`: a refund of one of its invoices; `STRIPEREFUND#<re>/REFUND` is the
  guard that counts a Stripe refund once (the same key checkout uses, so no refund counts on both).
- `SUBHOLD#<sub>#<listing>/HOLD`: which subscription holds a listing for a customer; written with a
  condition, so two racing subscribe requests cannot both start one.
- `STRIPECUSTOMER#<sub>/CUSTOMER`: the customer's one Stripe Customer.
- `STRIPEPRICE#<listing>#<version>/PRICE`: the Stripe Product and Price of one listing version.
- `MRR#<partner>/<currency>`: the partner's monthly recurring revenue, an ADD counter moved in the
  transaction of each status change (the partners report reads it with one BatchGetItem).

Key strings are built here rather than in `db/keys.py` because no other package reads these rows.
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem, get_rows
from chalicelib.db.transact import Refusal, Transaction
from chalicelib.subscriptions.model import InvoiceRefund, InvoiceSummary, Part, Subscription

SUBSCRIPTION_SK = "SUBSCRIPTION"
ALL_PK = "SUBSCRIPTIONS"


def subscription_pk(subscription_id: str) -> str:
    return f"SUBSCRIPTION#{subscription_id}"


def invoice_sk(invoice_id: str) -> str:
    return f"INVOICE#{invoice_id}"


def refund_sk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def customer_subs_pk(sub: str) -> str:
    return f"CUSTSUBS#{sub}"


def stripe_sub_pk(stripe_subscription_id: str) -> str:
    return f"STRIPESUB#{stripe_subscription_id}"


def invoice_pi_pk(payment_intent_id: str) -> str:
    return f"INVOICEPI#{payment_intent_id}"


def hold_key(sub: str, listing_id: str) -> tuple[str, str]:
    return f"SUBHOLD#{sub}#{listing_id}", "HOLD"


def customer_key(sub: str) -> tuple[str, str]:
    return f"STRIPECUSTOMER#{sub}", "CUSTOMER"


def price_key(listing_id: str, version: int) -> tuple[str, str]:
    return f"STRIPEPRICE#{listing_id}#{version}", "PRICE"


def mrr_key(partner_id: str, currency: str) -> tuple[str, str]:
    return f"MRR#{partner_id}", currency


class SubscriptionItem(MarketItem, discriminator="Subscription"):
    subscription_id = UnicodeAttribute()
    customer_sub = UnicodeAttribute()
    listing_id = UnicodeAttribute()
    listing_type = UnicodeAttribute()
    name = UnicodeAttribute()
    listing_version = NumberAttribute()
    currency = UnicodeAttribute()
    price = NumberAttribute()
    interval = UnicodeAttribute()
    trial_days = NumberAttribute(default=0)
    parts = JSONAttribute()
    status = UnicodeAttribute()
    stripe_customer_id = UnicodeAttribute()
    stripe_subscription_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    current_period_end = UnicodeAttribute(null=True)
    cancel_at_period_end = BooleanAttribute(default=False)
    past_due_since = UnicodeAttribute(null=True)
    canceled_at = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    client_secret = UnicodeAttribute(null=True)
    started = BooleanAttribute(default=False)
    cancel_announced = BooleanAttribute(default=False)
    recent_invoices = JSONAttribute(default=list)
    rev = NumberAttribute(default=0)


class SubscriptionInvoiceItem(MarketItem, discriminator="SubscriptionInvoice"):
    invoice_id = UnicodeAttribute()
    subscription_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    period_start = UnicodeAttribute(null=True)
    period_end = UnicodeAttribute(null=True)
    refunded = NumberAttribute(default=0)
    stripe_refund_ids = JSONAttribute(default=list)
    rev = NumberAttribute(default=0)

    def summary(self) -> InvoiceSummary:
        return InvoiceSummary(self.invoice_id, int(self.amount), self.paid_at, int(self.refunded or 0))


class SubscriptionRefundItem(MarketItem, discriminator="SubscriptionRefund"):
    refund_id = UnicodeAttribute()
    subscription_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    amount = NumberAttribute()
    stripe_refund_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute()
    actor = UnicodeAttribute()
    created_at = UnicodeAttribute()


class InvoiceStripeRefundItem(MarketItem, discriminator="InvoiceStripeRefund"):
    """Guard row: this Stripe refund has been counted against an invoice."""

    subscription_id = UnicodeAttribute()
    refund_id = UnicodeAttribute()


class HoldItem(MarketItem, discriminator="SubscriptionHold"):
    subscription_id = UnicodeAttribute()
    live = BooleanAttribute(default=True)


class StripeCustomerItem(MarketItem, discriminator="StripeCustomer"):
    customer_id = UnicodeAttribute()


class StripePriceItem(MarketItem, discriminator="StripePrice"):
    product_id = UnicodeAttribute()
    price_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    interval = UnicodeAttribute()


class MrrItem(MarketItem, discriminator="PartnerMrr"):
    partner_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount = NumberAttribute(default=0)


# --- mapping ----------------------------------------------------------------------------------------
def to_item(sub: Subscription) -> SubscriptionItem:
    created = keys.created_sk(sub.created_at, sub.subscription_id)
    return SubscriptionItem(
        subscription_pk(sub.subscription_id), SUBSCRIPTION_SK,
        gsi1pk=customer_subs_pk(sub.customer_sub), gsi1sk=created, gsi2pk=ALL_PK, gsi2sk=created,
        gsi3pk=stripe_sub_pk(sub.stripe_subscription_id), gsi3sk=sub.subscription_id,
        subscription_id=sub.subscription_id, customer_sub=sub.customer_sub, listing_id=sub.listing_id,
        listing_type=sub.listing_type, name=sub.name, listing_version=sub.listing_version, currency=sub.currency,
        price=sub.price, interval=sub.interval, trial_days=sub.trial_days,
        parts=[{"listing_id": p.listing_id, "partner_id": p.partner_id, "amount": p.amount} for p in sub.parts],
        status=sub.status, stripe_customer_id=sub.stripe_customer_id,
        stripe_subscription_id=sub.stripe_subscription_id, created_at=sub.created_at, updated_at=sub.updated_at,
        current_period_end=sub.current_period_end, cancel_at_period_end=sub.cancel_at_period_end,
        past_due_since=sub.past_due_since, canceled_at=sub.canceled_at, payment_intent_id=sub.payment_intent_id,
        client_secret=sub.client_secret, started=sub.started, cancel_announced=sub.cancel_announced,
        recent_invoices=[i.to_json() for i in sub.recent_invoices], rev=sub.rev,
    )


def from_item(item: SubscriptionItem) -> Subscription:
    return Subscription(
        subscription_id=item.subscription_id, customer_sub=item.customer_sub, listing_id=item.listing_id,
        listing_type=item.listing_type, name=item.name, listing_version=int(item.listing_version),
        currency=item.currency, price=int(item.price), interval=item.interval, trial_days=int(item.trial_days or 0),
        parts=tuple(Part(p["listing_id"], p["partner_id"], int(p["amount"])) for p in item.parts),
        status=item.status, stripe_customer_id=item.stripe_customer_id,
        stripe_subscription_id=item.stripe_subscription_id, created_at=item.created_at, updated_at=item.updated_at,
        current_period_end=item.current_period_end, cancel_at_period_end=bool(item.cancel_at_period_end),
        past_due_since=item.past_due_since, canceled_at=item.canceled_at, payment_intent_id=item.payment_intent_id,
        client_secret=item.client_secret, started=bool(item.started), cancel_announced=bool(item.cancel_announced),
        recent_invoices=tuple(InvoiceSummary(i["invoice_id"], int(i["amount"]), i.get("paid_at"),
                                             int(i.get("refunded") or 0)) for i in (item.recent_invoices or [])),
        rev=int(item.rev or 0),
    )


# --- writes (added to the caller's transaction) -----------------------------------------------------
def put_new(tx: Transaction, sub: Subscription) -> None:
    tx.save(to_item(sub), condition=SubscriptionItem.pk.does_not_exist(), label="subscription:new")


def put_changed(tx: Transaction, sub: Subscription, *, read_rev: int) -> None:
    """Save `sub` (whose rev must be `read_rev + 1`) if nobody wrote it since it was read."""
    assert sub.rev == read_rev + 1
    tx.save(to_item(sub), condition=SubscriptionItem.rev == read_rev, label="subscription:rev")


def claim_hold(tx: Transaction, sub: Subscription) -> None:
    """The subscription holds its listing for its customer, unless another live one does."""
    pk, sk = hold_key(sub.customer_sub, sub.listing_id)
    tx.save(HoldItem(pk, sk, subscription_id=sub.subscription_id, live=True),
            condition=HoldItem.pk.does_not_exist() | (HoldItem.live == False)  # noqa: E712 - a DynamoDB condition
            | (HoldItem.subscription_id == sub.subscription_id), label="subscription:hold")


def release_hold(tx: Transaction, sub: Subscription) -> None:
    pk, sk = hold_key(sub.customer_sub, sub.listing_id)
    tx.update(HoldItem(pk, sk), actions=[HoldItem.live.set(False)],
              condition=HoldItem.subscription_id == sub.subscription_id, label="subscription:hold")


def add_mrr(tx: Transaction, deltas: dict[str, int], currency: str) -> None:
    for partner_id, delta in sorted(deltas.items()):
        pk, sk = mrr_key(partner_id, currency)
        tx.update(MrrItem(pk, sk), actions=[
            MrrItem.kind.set(MrrItem.kind | MrrItem), MrrItem.partner_id.set(partner_id),
            MrrItem.currency.set(currency), MrrItem.amount.add(delta)])


def put_invoice(tx: Transaction, item: SubscriptionInvoiceItem) -> None:
    tx.save(item, condition=SubscriptionInvoiceItem.pk.does_not_exist(), label="invoice:new")


def invoice_item(*, sub: Subscription, invoice_id: str, amount: int, paid_at: str | None,
                 payment_intent_id: str | None, period_start: str | None, period_end: str | None
                 ) -> SubscriptionInvoiceItem:
    return SubscriptionInvoiceItem(
        subscription_pk(sub.subscription_id), invoice_sk(invoice_id),
        gsi3pk=invoice_pi_pk(payment_intent_id) if payment_intent_id else None,
        gsi3sk=invoice_id if payment_intent_id else None, invoice_id=invoice_id,
        subscription_id=sub.subscription_id, amount=amount, currency=sub.currency, paid_at=paid_at,
        payment_intent_id=payment_intent_id, period_start=period_start, period_end=period_end, refunded=0,
        stripe_refund_ids=[], rev=0)


def refund_invoice_row(tx: Transaction, invoice: SubscriptionInvoiceItem, refund: InvoiceRefund) -> None:
    """Raise the invoice's refunded total, add the refund row and the Stripe refund's guard."""
    tx.update(invoice, actions=[
        SubscriptionInvoiceItem.refunded.add(refund.amount), SubscriptionInvoiceItem.rev.add(1),
        SubscriptionInvoiceItem.stripe_refund_ids.set(
            [*(invoice.stripe_refund_ids or []), refund.stripe_refund_id])],
        condition=SubscriptionInvoiceItem.rev == int(invoice.rev or 0), label="invoice:rev")
    tx.save(SubscriptionRefundItem(
        subscription_pk(refund.subscription_id), refund_sk(refund.refund_id), refund_id=refund.refund_id,
        subscription_id=refund.subscription_id, invoice_id=refund.invoice_id, amount=refund.amount,
        stripe_refund_id=refund.stripe_refund_id, reason=refund.reason, actor=refund.actor,
        created_at=refund.created_at), condition=SubscriptionRefundItem.pk.does_not_exist(), label="refund:new")
    if refund.stripe_refund_id:
        tx.save(InvoiceStripeRefundItem(keys.stripe_refund_pk(refund.stripe_refund_id), keys.STRIPE_REFUND_SK,
                                        subscription_id=refund.subscription_id, refund_id=refund.refund_id),
                condition=InvoiceStripeRefundItem.pk.does_not_exist(), label="refund:stripe")


def stripe_refund_counted(refusal: Refusal, stripe_refund_id: str) -> bool:
    return refusal.hit(keys.stripe_refund_pk(stripe_refund_id))


# --- reads -------------------------------------------------------------------------------------------
def get(subscription_id: str) -> Subscription | None:
    try:
        return from_item(SubscriptionItem.get(subscription_pk(subscription_id), SUBSCRIPTION_SK, consistent_read=True))
    except SubscriptionItem.DoesNotExist:
        return None


def get_with_invoices(subscription_id: str) -> tuple[Subscription | None, list[SubscriptionInvoiceItem]]:
    """The subscription and every invoice it recorded (oldest first), in one Query of its partition."""
    sub, invoices = None, []
    for item in MarketItem.query(subscription_pk(subscription_id), consistent_read=True):
        if isinstance(item, SubscriptionItem):
            sub = from_item(item)
        elif isinstance(item, SubscriptionInvoiceItem):
            invoices.append(item)
    invoices.sort(key=lambda i: (i.paid_at or "", i.invoice_id))
    return sub, invoices


def get_invoice(subscription_id: str, invoice_id: str) -> SubscriptionInvoiceItem | None:
    try:
        return SubscriptionInvoiceItem.get(subscription_pk(subscription_id), invoice_sk(invoice_id),
                                           consistent_read=True)
    except SubscriptionInvoiceItem.DoesNotExist:
        return None


def by_stripe_subscription(stripe_subscription_id: str) -> Subscription | None:
    """Ours, by Stripe's id (gsi3, then re-read consistently)."""
    for item in SubscriptionItem.gsi3.query(stripe_sub_pk(stripe_subscription_id), limit=1):
        return get(item.subscription_id)
    return None


def invoice_by_payment_intent(payment_intent_id: str) -> SubscriptionInvoiceItem | None:
    for item in SubscriptionInvoiceItem.gsi3.query(invoice_pi_pk(payment_intent_id), limit=1):
        return get_invoice(item.subscription_id, item.invoice_id)
    return None


def read_rows(pairs: Iterable[tuple[str, str]]) -> list[MarketItem]:
    """Rows of several kinds in one consistent BatchGetItem (subscribe's reads)."""
    return get_rows(pairs, consistent=True)


def save_customer(tx: Transaction, sub: str, customer_id: str) -> None:
    tx.save(StripeCustomerItem(*customer_key(sub), customer_id=customer_id),
            condition=StripeCustomerItem.pk.does_not_exist())


def stored_customer(sub: str) -> str | None:
    try:
        return StripeCustomerItem.get(*customer_key(sub), consistent_read=True).customer_id
    except StripeCustomerItem.DoesNotExist:
        return None


def save_price(tx: Transaction, listing_id: str, version: int, *, product_id: str, price_id: str, amount: int,
               currency: str, interval: str) -> None:
    tx.save(StripePriceItem(*price_key(listing_id, version), product_id=product_id, price_id=price_id,
                            amount=amount, currency=currency, interval=interval),
            condition=StripePriceItem.pk.does_not_exist())


def stored_price(listing_id: str, version: int) -> str | None:
    try:
        return StripePriceItem.get(*price_key(listing_id, version), consistent_read=True).price_id
    except StripePriceItem.DoesNotExist:
        return None


def mrr_of(partner_ids: Iterable[str], currencies: Iterable[str]) -> dict[tuple[str, str], int]:
    """(partner, currency) -> monthly recurring revenue, in one BatchGetItem."""
    wanted = [mrr_key(p, c) for p in partner_ids for c in currencies]
    return {(row.partner_id, row.currency): int(row.amount or 0)
            for row in get_rows(wanted) if isinstance(row, MrrItem)}


def _subs(page: Page[SubscriptionItem]) -> Page[Subscription]:
    page.items = [from_item(i) for i in page.items]
    return page  # type: ignore[return-value]


def list_for_customer(sub: str, *, limit: int, cursor: str | None, scope: str) -> Page[Subscription]:
    return _subs(query_page(lambda size, start: SubscriptionItem.gsi1.query(
        customer_subs_pk(sub), scan_index_forward=False, limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope, index="gsi1"))


def list_all(*, limit: int, cursor: str | None, scope: str) -> Page[Subscription]:
    return _subs(query_page(lambda size, start: SubscriptionItem.gsi2.query(
        ALL_PK, scan_index_forward=False, limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope, index="gsi2"))
