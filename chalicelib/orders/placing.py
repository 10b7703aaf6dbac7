"""Checkout: place an order (and its PaymentIntent) for some published listings, replayable by key.

The use case reads once, decides, then writes once: one consistent BatchGetItem (the Idempotency-Key's
record, the sellers' profiles, what the customer already owns) through the repository; the pure rules of
`model` (usable items, frozen lines and commissions, the one-transaction limit); the PaymentIntent; then
one transaction holding the order, the idempotency record and the audit record (a free order is paid at
once, so its entitlements and sale join the same transaction).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from chalicelib.audit.repository import audit_item
from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import AlreadyOwned
from chalicelib.core.identity import Principal
from chalicelib.db import idempotency
from chalicelib.db.idempotency import Answer, IdempotencyKey
from chalicelib.db.transact import ConditionsFailed
from chalicelib.orders import model, money_seam, partner_events, repository
from chalicelib.orders.model import Order
from chalicelib.orders.views import order_dict
from chalicelib.partner_feed import outbox
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway
from chalicelib.telemetry import metrics


def _catalog_lookup() -> Callable[[list[str]], dict]:
    from chalicelib.catalog.queries import get_live_listings

    return get_live_listings


def place_order(*, user: Principal, body: dict, headers: dict[str, str],
                gateway: PaymentGateway | None = None,
                catalog: Callable[[list[str]], dict] | None = None) -> Answer:
    """Create an order (and its PaymentIntent) for `body["items"]`; replays by Idempotency-Key."""
    key = idempotency.key_from(headers, scope="orders", caller=user.sub, body=body, target="POST /orders")
    listing_ids = [item["listing_id"] for item in body["items"]]
    live = (catalog or _catalog_lookup())(listing_ids)

    found = repository.read_for_checkout(
        idempotency_key=key.item_key, customer_sub=user.sub, partner_ids=model.sellers_of(live.values()),
        listing_ids={g for listing in live.values() for g in model.grants_of_listing(listing)})
    replayed = idempotency.replay(found.stored, key)
    if replayed is not None:
        return replayed

    currency, listings = model.validate_items(listing_ids, live)
    if found.owned:
        raise AlreadyOwned("You already own some of these items.", [
            {"field": "items", "in": "body", "message": f"{lid} is already yours"} for lid in found.owned])
    now = clock.now()
    at = clock.iso(now)
    default_bps = get_settings().default_commission_bps
    lines = model.build_lines(listings, {pid: partner.commission_bps(now.date(), default_bps)
                                         for pid, partner in found.partners.items()})
    model.fits_one_transaction(lines)
    order = model.new_order(order_id=model.deterministic_id("ord", user.sub, key.key), customer_sub=user.sub,
                            currency=currency, lines=lines, at=at)
    if order.total > 0:
        intent = (gateway or pay.get_gateway()).create_payment_intent(
            order_id=order.order_id, amount=order.total, currency=currency, customer_ref=user.sub,
            # Per order and body: a retry after a failed write reuses the PaymentIntent, while the same
            # Idempotency-Key sent later with another body (nothing was stored) is not refused by Stripe.
            idempotency_key=f"order-{order.order_id}-payment-intent-{key.request_hash[:16]}",
        )
        order = replace(order, payment_intent_id=intent.payment_intent_id, client_secret=intent.client_secret)
    else:
        order = replace(order, status=model.PAID, paid_at=at)
    return _save_placed(order, key=key, user=user, listing_ids=listing_ids, at=at)


def _save_placed(order: Order, *, key: IdempotencyKey, user: Principal, listing_ids: list[str],
                 at: str) -> Answer:
    """The one write: order, idempotency record and audit (and, if free, its entitlements and sale)."""
    response = order_dict(order)
    try:
        def write(tx) -> None:
            repository.put_new(tx, order)
            tx.save(key.record(201, response), condition=idempotency.IdempotencyItem.pk.does_not_exist())
            tx.save(audit_item(actor=user.sub, actor_roles=user.groups, action="order.placed", entity_type="order",
                               entity_id=order.order_id, at=at,
                               data={"total": order.total, "currency": order.currency, "listing_ids": listing_ids,
                                     "payment_intent_id": order.payment_intent_id}))
            if order.status == model.PAID:
                repository.grant_entitlements(tx, order, at=at)
                money_seam.record_sale(tx, order)
                partner_events.record_sale(tx, order)

        outbox.commit(write)
    except ConditionsFailed:
        # The same key raced us: answer as the winner did (or 409 if it carried another body).
        replayed = idempotency.replay_stored(key)
        if replayed is None:
            raise
        return replayed
    metrics.count(metrics.ORDERS_PLACED)
    if order.status == model.PAID:
        metrics.count(metrics.ORDERS_PAID)  # a free order is paid in the same transaction
    return Answer(201, response)
