"""Refunds of a subscription's invoice by admin or finance: refund through Stripe, then record it once.

Like an order refund: the Idempotency-Key (scoped to the caller and the subscription) replays the first
answer; the refund is made in Stripe with an idempotency key derived from ours and carries its ids in
metadata; it is then counted through `invoicing.record_refund` with the key's record in the same
transaction. If the `charge.refunded` webhook counted it first, the answer is built from what was
recorded. A refund moves money back; it does not end the subscription (cancel does).
"""
from __future__ import annotations

from chalicelib.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from chalicelib.core.identity import Principal
from chalicelib.db import idempotency
from chalicelib.db.idempotency import Answer, IdempotencyItem
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway
from chalicelib.subscriptions import invoicing, repository
from chalicelib.subscriptions.model import InvoiceSummary
from chalicelib.subscriptions.views import invoice_dict, refund_dict


def refund_invoice(*, actor: Principal, subscription_id: str, body: dict, headers: dict[str, str],
                   gateway: PaymentGateway | None = None) -> Answer:
    """Refund part or all of one paid invoice of the subscription (admin, finance)."""
    key = idempotency.key_from(headers, scope=f"subscription-refund:{subscription_id}", caller=actor.sub, body=body,
                               target=f"POST /admin/subscriptions/{subscription_id}/refunds")
    replayed = idempotency.replay(idempotency.lookup(key), key)
    if replayed is not None:
        return replayed
    sub = repository.get(subscription_id)
    if sub is None:
        raise NotFound("No such subscription.")
    invoice = repository.get_invoice(subscription_id, body["invoice_id"])
    if invoice is None:
        raise ValidationFailed("This invoice is not one of the subscription's paid invoices.", [
            {"field": "invoice_id", "in": "body", "message": f"{body['invoice_id']} is not recorded here"}])
    left = int(invoice.amount) - int(invoice.refunded or 0)
    if int(invoice.amount) == 0 or not invoice.payment_intent_id:
        raise InvalidState("This invoice took no payment, so there is nothing to refund.")
    amount = body.get("amount", left)
    if amount > left or left <= 0:
        raise Conflict(f"Refund of {amount} exceeds what is left to refund on this invoice ({left}).")
    refund_id = key.derived_id("sref")
    stripe_refund = (gateway or pay.get_gateway()).create_refund(
        payment_intent_id=invoice.payment_intent_id, amount=amount,
        metadata={"subscription_id": subscription_id, "invoice_id": invoice.invoice_id, "refund_id": refund_id,
                  "reason": body["reason"][:500]},
        idempotency_key=f"refund-{refund_id}")

    def answer(refund) -> dict:
        after = InvoiceSummary(invoice.invoice_id, int(invoice.amount), invoice.paid_at,
                               int(invoice.refunded or 0) + (refund.amount if refund else 0))
        return {"refund": refund_dict(refund, sub.currency) if refund else None, "subscription_id": subscription_id,
                "invoice": invoice_dict(after, sub.currency)}

    def respond(tx, refund) -> None:
        tx.save(key.record(201, answer(refund)), condition=IdempotencyItem.pk.does_not_exist(), label="idempotency")

    try:
        refund = invoicing.record_refund(sub, stripe_refund, invoice_id=invoice.invoice_id, actor=actor.sub,
                                         reason=body["reason"], refund_id=refund_id, respond=respond,
                                         roles=actor.groups)
    except ConditionsFailed as exc:
        replayed = idempotency.replay_stored(key) if exc.has("idempotency") else None
        if replayed is not None:
            return replayed
        raise
    if refund is not None:
        return Answer(201, answer(refund))
    # Counted already (the webhook got there first, or a retry after a crash): answer with the state, keep it.
    invoice = repository.get_invoice(subscription_id, invoice.invoice_id) or invoice
    response = answer(None)
    try:
        with transaction() as tx:
            tx.save(key.record(201, response), condition=IdempotencyItem.pk.does_not_exist())
    except ConditionsFailed:
        stored = idempotency.replay_stored(key)
        if stored is not None:
            return stored
    return Answer(201, response)
