"""Order rows in the single table and their mapping to the pure `Order`.

`ORDER#<id>` holds the order row (`ORDER`) and its refund rows (`REFUND#<id>`), so one Query reads an
order with its refunds. The order row is reachable from its customer (gsi1, newest first), from the
admin/finance list (gsi2) and from its PaymentIntent (gsi3, for charge and dispute webhooks). Lines are
stored inline as JSON: an order has at most 20 and they never change shape after creation.

Every write of an order is a whole-row put conditioned on the `version` it read, so two writers (a
webhook and a refund, two webhooks) can never both apply a change computed from the same old state.
The use cases' batch reads (checkout's, a refund's) are built here too, so they stay one BatchGetItem.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem, get_rows
from chalicelib.db.transact import Refusal, Transaction
from chalicelib.entitlements import repository as entitlements
from chalicelib.entitlements.model import Grant
from chalicelib.db.idempotency import IdempotencyItem
from chalicelib.orders.model import LinePart, Order, OrderLine, Refund
from chalicelib.partners import repository as partners
from chalicelib.partners.model import Partner


class OrderItem(MarketItem, discriminator="Order"):
    order_id = UnicodeAttribute()
    customer_sub = UnicodeAttribute()
    currency = UnicodeAttribute()
    total = NumberAttribute()
    status = UnicodeAttribute()
    lines = JSONAttribute()
    payment_intent_id = UnicodeAttribute(null=True)
    client_secret = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    refunded = NumberAttribute(default=0)
    failure_reason = UnicodeAttribute(null=True)
    status_before_dispute = UnicodeAttribute(null=True)
    stripe_refund_ids = JSONAttribute(default=list)
    disputes = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)


class RefundItem(MarketItem, discriminator="Refund"):
    refund_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    amount = NumberAttribute()
    line_amounts = JSONAttribute()
    stripe_refund_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute()
    actor = UnicodeAttribute()
    created_at = UnicodeAttribute()


class StripeRefundItem(MarketItem, discriminator="StripeRefund"):
    """Guard row: this Stripe refund has been counted against `order_id` (as `refund_id`)."""

    order_id = UnicodeAttribute()
    refund_id = UnicodeAttribute()


# --- mapping ---------------------------------------------------------------------------------------
def _line_to_json(line: OrderLine) -> dict:
    return {
        "line_id": line.line_id, "listing_id": line.listing_id, "type": line.type, "name": line.name,
        "price": line.price, "refunded": line.refunded,
        "parts": [{"listing_id": p.listing_id, "partner_id": p.partner_id, "amount": p.amount,
                   "commission_bps": p.commission_bps} for p in line.parts],
    }


def _line_from_json(data: dict) -> OrderLine:
    return OrderLine(
        line_id=data["line_id"], listing_id=data["listing_id"], type=data["type"], name=data["name"],
        price=int(data["price"]), refunded=int(data.get("refunded", 0)),
        parts=tuple(LinePart(p["listing_id"], p["partner_id"], int(p["amount"]), int(p["commission_bps"]))
                    for p in data["parts"]),
    )


def to_item(order: Order) -> OrderItem:
    return OrderItem(
        keys.order_pk(order.order_id), keys.ORDER_SK,
        gsi1pk=keys.customer_orders_pk(order.customer_sub), gsi1sk=keys.created_sk(order.created_at, order.order_id),
        gsi2pk=keys.ORDERS_ALL_PK, gsi2sk=keys.created_sk(order.created_at, order.order_id),
        gsi3pk=keys.payment_intent_pk(order.payment_intent_id) if order.payment_intent_id else None,
        gsi3sk=order.order_id if order.payment_intent_id else None,
        order_id=order.order_id, customer_sub=order.customer_sub, currency=order.currency, total=order.total,
        status=order.status, lines=[_line_to_json(line) for line in order.lines],
        payment_intent_id=order.payment_intent_id, client_secret=order.client_secret,
        created_at=order.created_at, paid_at=order.paid_at, updated_at=order.updated_at or order.created_at,
        refunded=order.refunded, failure_reason=order.failure_reason,
        status_before_dispute=order.status_before_dispute, stripe_refund_ids=list(order.stripe_refund_ids),
        disputes=dict(order.disputes), version=order.version,
    )


def from_item(item: OrderItem) -> Order:
    return Order(
        order_id=item.order_id, customer_sub=item.customer_sub, currency=item.currency, total=int(item.total),
        status=item.status, lines=tuple(_line_from_json(line) for line in item.lines),
        payment_intent_id=item.payment_intent_id, created_at=item.created_at, paid_at=item.paid_at,
        refunded=int(item.refunded or 0), updated_at=item.updated_at, client_secret=item.client_secret,
        failure_reason=item.failure_reason, status_before_dispute=item.status_before_dispute,
        stripe_refund_ids=tuple(item.stripe_refund_ids or ()), disputes=dict(item.disputes or {}),
        version=int(item.version or 0),
    )


def refund_to_item(refund: Refund) -> RefundItem:
    return RefundItem(
        keys.order_pk(refund.order_id), keys.refund_sk(refund.refund_id), refund_id=refund.refund_id,
        order_id=refund.order_id, amount=refund.amount, line_amounts=dict(refund.line_amounts),
        stripe_refund_id=refund.stripe_refund_id, reason=refund.reason, actor=refund.actor,
        created_at=refund.created_at,
    )


def refund_from_item(item: RefundItem) -> Refund:
    return Refund(
        refund_id=item.refund_id, order_id=item.order_id, amount=int(item.amount),
        line_amounts={k: int(v) for k, v in item.line_amounts.items()}, stripe_refund_id=item.stripe_refund_id,
        reason=item.reason, created_at=item.created_at, actor=item.actor,
    )


# --- writes (added to the caller's transaction) ----------------------------------------------------
def put_new(tx, order: Order) -> None:
    tx.save(to_item(order), condition=OrderItem.pk.does_not_exist())


def put_changed(tx, order: Order, *, read_version: int) -> None:
    """Save `order` (whose version must already be `read_version + 1`) if nobody wrote it meanwhile."""
    assert order.version == read_version + 1
    tx.save(to_item(order), condition=OrderItem.version == read_version)


def put_refund(tx, refund: Refund) -> None:
    tx.save(refund_to_item(refund), condition=RefundItem.pk.does_not_exist())
    if refund.stripe_refund_id:
        tx.save(StripeRefundItem(keys.stripe_refund_pk(refund.stripe_refund_id), keys.STRIPE_REFUND_SK,
                                 order_id=refund.order_id, refund_id=refund.refund_id),
                condition=StripeRefundItem.pk.does_not_exist())


def stripe_refund_counted(refusal: Refusal, stripe_refund_id: str) -> bool:
    """Whether `refusal` says this Stripe refund was already counted (its guard row exists)."""
    return refusal.hit(keys.stripe_refund_pk(stripe_refund_id))


def _grants(order: Order, lines: Iterable[OrderLine]) -> list[Grant]:
    """What `lines` entitle the order's buyer to: an app itself, or a bundle and each of its apps."""
    out = []
    for line in lines:
        ref = f"{order.order_id}/{line.line_id}"
        if line.type == "bundle":
            out.append(Grant(line.listing_id, "bundle", line.name, order.order_id, ref))
            out += [Grant(part.listing_id, "app", None, order.order_id, ref, via_bundle=line.listing_id)
                    for part in line.parts]
        else:
            out.append(Grant(line.listing_id, line.type, line.name, order.order_id, ref))
    return out


def grant_entitlements(tx: Transaction, order: Order, *, at: str) -> int:
    """Add to `tx` the entitlements of every line of a paid order; returns how many rows it touches."""
    return entitlements.grant(tx, order.customer_sub, _grants(order, order.lines), at=at)


def revoke_entitlements(tx: Transaction, order: Order, lines: tuple[OrderLine, ...], *,
                        skip: frozenset[str] = frozenset()) -> list[str]:
    """Add to `tx` the deletion of the entitlements these (fully refunded) lines granted; the listing ids."""
    return entitlements.revoke(tx, order.customer_sub, _grants(order, lines), skip=skip)


def entitlements_kept(refusal: Refusal, order: Order) -> set[str]:
    """Listings whose revocation `refusal` names: another order's line granted them."""
    return entitlements.refused_revocations(refusal, order.customer_sub)


# --- reads -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckoutReads:
    """What placing an order reads before deciding: its idempotency record, sellers and prior purchases."""

    stored: IdempotencyItem | None
    partners: dict[str, Partner]
    owned: list[str]


def read_for_checkout(*, idempotency_key: tuple[str, str], customer_sub: str, partner_ids: Iterable[str],
                      listing_ids: Iterable[str]) -> CheckoutReads:
    """One consistent BatchGetItem: the idempotency record, the sellers' profiles (for their commission
    today) and what the customer already owns among `listing_ids`."""
    wanted = [idempotency_key] + [partners.profile_key(p) for p in sorted(partner_ids)] + [
        entitlements.key(customer_sub, g) for g in sorted(listing_ids)]
    found = get_rows(wanted, consistent=True)
    return CheckoutReads(
        stored=next((i for i in found if isinstance(i, IdempotencyItem)), None),
        partners=partners.partners_among(found), owned=entitlements.owned_in(found),
    )


def read_for_refund(*, idempotency_key: tuple[str, str], order_id: str) -> tuple[IdempotencyItem | None, Order | None]:
    """The idempotency record and the order, in one consistent BatchGetItem."""
    found = get_rows([idempotency_key, (keys.order_pk(order_id), keys.ORDER_SK)], consistent=True)
    item = next((i for i in found if isinstance(i, OrderItem)), None)
    return (next((i for i in found if isinstance(i, IdempotencyItem)), None),
            from_item(item) if item is not None else None)


def get(order_id: str, *, consistent: bool = True) -> Order | None:
    try:
        return from_item(OrderItem.get(keys.order_pk(order_id), keys.ORDER_SK, consistent_read=consistent))
    except OrderItem.DoesNotExist:
        return None


def get_with_refunds(order_id: str) -> tuple[Order | None, list[Refund]]:
    """The order and its refunds (oldest first) in one Query."""
    order: Order | None = None
    refunds: list[Refund] = []
    for item in MarketItem.query(keys.order_pk(order_id), consistent_read=True):
        if isinstance(item, OrderItem):
            order = from_item(item)
        elif isinstance(item, RefundItem):
            refunds.append(refund_from_item(item))
    refunds.sort(key=lambda r: (r.created_at, r.refund_id))
    return order, refunds


def get_refund(order_id: str, refund_id: str) -> Refund | None:
    try:
        return refund_from_item(RefundItem.get(keys.order_pk(order_id), keys.refund_sk(refund_id)))
    except RefundItem.DoesNotExist:
        return None


def by_payment_intent(payment_intent_id: str) -> Order | None:
    """The order paid by this PaymentIntent (gsi3; eventually consistent, the order predates its events)."""
    for item in OrderItem.gsi3.query(keys.payment_intent_pk(payment_intent_id), limit=1):
        return from_item(item)
    return None


def _orders(page: Page[OrderItem]) -> Page[Order]:
    page.items = [from_item(i) for i in page.items]
    return page  # type: ignore[return-value]


def list_for_customer(sub: str, *, limit: int, cursor: str | None, scope: str) -> Page[Order]:
    """A customer's orders, newest first (gsi1)."""
    return _orders(query_page(
        lambda size, start: OrderItem.gsi1.query(
            keys.customer_orders_pk(sub), scan_index_forward=False, limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope, index="gsi1",
    ))


def list_all(*, limit: int, cursor: str | None, scope: str) -> Page[Order]:
    """Every order, newest first (gsi2; admin and finance)."""
    return _orders(query_page(
        lambda size, start: OrderItem.gsi2.query(
            keys.ORDERS_ALL_PK, scan_index_forward=False, limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope, index="gsi2",
    ))
