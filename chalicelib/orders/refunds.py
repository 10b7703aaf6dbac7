"""Refunds issued by admin or finance: refund through Stripe, then record it once, replayable by key.

The refund is made in Stripe first (with an idempotency key derived from ours, and the line allocation in
its metadata), then counted through `payment_sync.record_stripe_refund` together with the
Idempotency-Key's record. If the `charge.refunded` webhook counted it first, the answer is built from
what was recorded.
"""
from __future__ import annotations

from dataclasses import replace

from chalicelib.core.errors import Conflict, InvalidState, NotFound
from chalicelib.core.identity import Principal
from chalicelib.db import idempotency
from chalicelib.db.idempotency import Answer
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.orders import model, money_seam, payment_sync, repository
from chalicelib.orders.model import Order, Refund
from chalicelib.orders.views import order_dict, refund_dict
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway

MAX_RETRIES = payment_sync.MAX_RETRIES


def refund_order(*, actor: Principal, order_id: str, body: dict, headers: dict[str, str],
                 gateway: PaymentGateway | None = None) -> Answer:
    """Refund part or all of a paid order through Stripe, then record it (admin, finance)."""
    key = idempotency.key_from(headers, scope=f"refund:{order_id}", caller=actor.sub, body=body,
                               target=f"POST /admin/orders/{order_id}/refunds")
    stored, order = repository.read_for_refund(idempotency_key=key.item_key, order_id=order_id)
    replayed = idempotency.replay(stored, key)
    if replayed is not None:
        return replayed
    if order is None:
        raise NotFound("No such order.")
    if order.status not in model.REFUNDABLE:
        raise InvalidState(f"A {order.status} order cannot be refunded.")
    if not order.payment_intent_id:
        raise InvalidState("A free order has nothing to refund.")
    amount = body.get("amount")
    listing_ids = body.get("listing_ids")
    if amount is not None and amount > order.refundable:
        raise Conflict(f"Refund of {amount} exceeds what is left to refund ({order.refundable}).")
    alloc = money_seam.allocate_refund(order, amount, listing_ids)
    total = sum(alloc.values())
    refund_id = model.deterministic_id("ref", order_id, actor.sub, key.key)
    metadata = {"order_id": order_id, "refund_id": refund_id, "reason": body["reason"][:500],
                **model.allocation_metadata(alloc)}
    stripe_refund = (gateway or pay.get_gateway()).create_refund(
        payment_intent_id=order.payment_intent_id, amount=total, metadata=metadata,
        idempotency_key=f"refund-{refund_id}",
    )
    # localstripe drops nothing, but be sure the allocation travels with the object we record.
    stripe_refund = replace(stripe_refund, metadata={**metadata, **stripe_refund.metadata})

    def respond(tx, after: Order, refund: Refund) -> None:
        response = {"refund": refund_dict(refund, after.currency), "order": order_dict(after)}
        tx.save(key.record(201, response), condition=idempotency.IdempotencyItem.pk.does_not_exist())

    for _attempt in range(MAX_RETRIES):
        try:
            after, refund = payment_sync.record_stripe_refund(
                order, stripe_refund, actor=actor.sub, reason=body["reason"], refund_id=refund_id,
                audit_roles=actor.groups, respond=respond,
            )
            if refund is not None:
                return Answer(201, {"refund": refund_dict(refund, after.currency), "order": order_dict(after)})
            break  # counted already (a retry after a crash, or the webhook got there first)
        except ConditionsFailed as exc:
            if exc.hit(key.pk):
                replayed = idempotency.replay_stored(key)
                if replayed is not None:
                    return replayed
            if repository.stripe_refund_counted(exc.refusal, stripe_refund.refund_id):
                break  # the webhook recorded it first
            order = repository.get(order_id) or order  # changed meanwhile: recount against the new state
    else:
        raise Conflict("The order kept changing; the refund was made in Stripe and its webhook will record it.")
    return _answer_recorded(key, order_id, stripe_refund.refund_id)


def _answer_recorded(key: idempotency.IdempotencyKey, order_id: str, stripe_refund_id: str) -> Answer:
    """Answer with what was recorded for this Stripe refund (by us earlier or by the webhook), and keep it."""
    order, refunds = repository.get_with_refunds(order_id)
    assert order is not None
    recorded = next((r for r in refunds if r.stripe_refund_id == stripe_refund_id), None)
    response = {"refund": refund_dict(recorded, order.currency) if recorded else None, "order": order_dict(order)}
    try:
        with transaction() as tx:
            tx.save(key.record(201, response), condition=idempotency.IdempotencyItem.pk.does_not_exist())
    except ConditionsFailed:
        replayed = idempotency.replay_stored(key)
        if replayed is not None:
            return replayed
    return Answer(201, response)
