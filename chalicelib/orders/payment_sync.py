"""What Stripe says happened to an order's money, recorded once: payments, refunds and disputes.

This is the API the webhooks use (and staff refunds record through `record_stripe_refund`). Payment state
always comes from the provider, not from the order of events: `sync_payment` looks at what the
PaymentIntent *is* and moves the order forward only (a late `payment_failed` cannot undo `paid`).
Refunds are counted by their Stripe refund id, so a refund made through the API and the `charge.refunded`
webhook about it are recorded once, by whichever arrives first, with the same line allocation (carried in
the refund's metadata).

Each change is one transaction holding the order (conditioned on the version read), its audit record and
the ledger's rows; `hook` lets the caller add its own rows (the webhook's event marker) so they commit
with the effect, or alone when there is no effect to apply.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.orders import model, money_seam, partner_events, repository
from chalicelib.orders.model import Order, Refund
from chalicelib.partner_feed import outbox
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import DisputeView, PaymentIntentView, RefundView
from chalicelib.telemetry import metrics

log = logging.getLogger("marketplace.orders")

MAX_RETRIES = 3

# A transaction hook: adds rows (e.g. a webhook's event marker) to the transaction of an effect.
TxHook = Callable[[Any], None]


def _no_hook(_tx: Any) -> None:
    return None


NO_HOOK: TxHook = _no_hook


def _hook_only(hook: TxHook) -> None:
    """Commit the caller's rows alone (the event marker of an event that changes nothing)."""
    if hook is not _no_hook:
        with transaction() as tx:
            hook(tx)


# --- finding the order an event is about -----------------------------------------------------------
def load_order(order_id: str) -> Order | None:
    """The order, read consistently."""
    return repository.get(order_id)


def order_paid_by(payment_intent_id: str | None, *, fresh: bool) -> Order | None:
    """The order of a PaymentIntent: from the index (may lag), or re-read consistently when `fresh`."""
    order = repository.by_payment_intent(payment_intent_id) if payment_intent_id else None
    return repository.get(order.order_id) if order is not None and fresh else order


# --- payments --------------------------------------------------------------------------------------
def sync_payment(order: Order, intent: PaymentIntentView, *, hook: TxHook = _no_hook,
                 actor: str = "stripe") -> tuple[Order, str]:
    """Move `order` to what its PaymentIntent says now; returns (order, outcome). Forward-only.

    Paying grants the entitlements and records the sale in the same transaction.
    """
    at = clock.now_iso()
    changed: Order | None = None
    action = ""
    if intent.payment_intent_id != order.payment_intent_id:
        outcome = "ignored:other_payment_intent"
    elif intent.status == pay.PI_SUCCEEDED:
        if intent.amount != order.total or intent.currency != order.currency:
            log.error("payment %s amount %s %s != order %s total", intent.payment_intent_id, intent.amount,
                      intent.currency, order.order_id)
            outcome = "ignored:amount_mismatch"
        elif order.status in model.PAYABLE:
            changed = model.with_status(order, model.PAID, at=at, paid_at=at, failure_reason=None,
                                        version=order.version + 1)
            action, outcome = "order.paid", "paid"
        else:
            if order.status == model.CANCELED:
                log.error("payment %s succeeded for canceled order %s: refund it", intent.payment_intent_id,
                          order.order_id)
            outcome = f"noop:{order.status}"
    elif intent.status == pay.PI_REQUIRES_PAYMENT_METHOD and intent.failure_code:
        if order.status == model.PENDING_PAYMENT:
            changed = model.with_status(order, model.FAILED, at=at, failure_reason=intent.failure_code,
                                        version=order.version + 1)
            action, outcome = "order.payment_failed", "failed"
        else:
            outcome = f"noop:{order.status}"
    else:
        outcome = f"noop:intent_{intent.status}"

    if changed is None:
        _hook_only(hook)
        return order, outcome
    def write(tx) -> None:
        hook(tx)
        repository.put_changed(tx, changed, read_version=order.version)
        tx.save(audit_item(actor=actor, action=action, entity_type="order", entity_id=order.order_id, at=at,
                           data={"payment_intent_id": intent.payment_intent_id, "amount": intent.amount,
                                 "from": order.status, "failure_code": intent.failure_code}))
        if changed.status == model.PAID:
            repository.grant_entitlements(tx, changed, at=at)
            money_seam.record_sale(tx, changed)
            partner_events.record_sale(tx, changed)

    outbox.commit(write)
    metrics.count(metrics.ORDERS_PAID if changed.status == model.PAID else metrics.ORDERS_FAILED)
    return changed, outcome


# --- refunds ---------------------------------------------------------------------------------------
def record_stripe_refund(order: Order, stripe_refund: RefundView, *, actor: str, reason: str | None,
                         refund_id: str | None = None, hook: TxHook = _no_hook,
                         respond: Callable[[Any, Order, Refund], None] | None = None,
                         audit_roles: frozenset[str] = frozenset()) -> tuple[Order, Refund | None]:
    """Count a Stripe refund against the order once: refund row, order totals, revocations, ledger, audit.

    Returns (order after, refund) or (order, None) when this Stripe refund was already counted. `respond`
    adds rows that depend on the result (the API's idempotency record) to the same transaction.
    """
    if stripe_refund.refund_id in order.stripe_refund_ids:
        _hook_only(hook)
        return order, None
    amount = min(stripe_refund.amount, order.refundable)
    alloc = model.allocation_from(stripe_refund.metadata, order, amount) or money_seam.allocate_refund(
        order, amount, None)
    at = clock.now_iso()
    refund = Refund(
        refund_id=refund_id or stripe_refund.metadata.get("refund_id") or model.deterministic_id(
            "ref", order.order_id, stripe_refund.refund_id),
        order_id=order.order_id, amount=amount, line_amounts=alloc, stripe_refund_id=stripe_refund.refund_id,
        reason=reason or stripe_refund.metadata.get("reason") or "refunded in Stripe", created_at=at, actor=actor,
    )
    after = model.apply_refund(order, refund, at=at)
    after = replace(after, version=order.version + 1,
                    stripe_refund_ids=(*order.stripe_refund_ids, stripe_refund.refund_id))
    completed = model.lines_completed_by(order, refund)
    skip: set[str] = set()
    for _attempt in range(MAX_RETRIES):
        try:
            def write(tx) -> None:
                hook(tx)
                repository.put_changed(tx, after, read_version=order.version)
                repository.put_refund(tx, refund)
                revoked = repository.revoke_entitlements(tx, order, completed, skip=frozenset(skip))
                tx.save(audit_item(
                    actor=actor, actor_roles=audit_roles, action="order.refunded", entity_type="order",
                    entity_id=order.order_id, reason=refund.reason, at=at,
                    data={"refund_id": refund.refund_id, "amount": amount, "lines": alloc,
                          "stripe_refund_id": stripe_refund.refund_id, "revoked": revoked,
                          "status": after.status}))
                entry = money_seam.record_refund(tx, order, refund)
                partner_events.record_refund(tx, order, refund, entry)
                if respond is not None:
                    respond(tx, after, refund)

            outbox.commit(write)
            metrics.count(metrics.REFUNDS_ISSUED)  # staff refunds and dashboard refunds alike, once each
            return after, refund
        except ConditionsFailed as exc:
            # An entitlement another order granted is not this refund's to revoke: keep it and retry.
            theirs = repository.entitlements_kept(exc.refusal, order)
            if not theirs or theirs <= skip:
                raise
            skip |= theirs
    raise Conflict("The refund could not be recorded; try again.")


# --- disputes --------------------------------------------------------------------------------------
def _dispute_state(status: str) -> str:
    if status in pay.DISPUTE_OPEN:
        return "open"
    if status in pay.DISPUTE_WON:
        return "won"
    if status in pay.DISPUTE_LOST:
        return "lost"
    return "unknown"


def sync_dispute(order: Order, dispute: DisputeView, *, hook: TxHook = _no_hook) -> tuple[Order, str]:
    """Record what a dispute *is* now (re-read from Stripe): opened, won or lost; forward-only.

    While a dispute is open the order is `disputed`; winning restores the status it had. A dispute first
    seen already closed is recorded as opened and closed at once, so the ledger stays balanced.
    """
    recorded = order.disputes.get(dispute.dispute_id)
    stripe_state = _dispute_state(dispute.status)
    if stripe_state == "unknown" or recorded in ("won", "lost") or recorded == stripe_state \
            or (recorded is None and order.status not in model.DISPUTABLE and order.status != model.DISPUTED):
        _hook_only(hook)
        return order, f"noop:dispute_{stripe_state}"

    at = clock.now_iso()
    disputes = {**order.disputes, dispute.dispute_id: stripe_state}
    before = order.status_before_dispute if order.status == model.DISPUTED else order.status
    still_open = any(state == "open" for state in disputes.values())
    if stripe_state == "open" or stripe_state == "lost" or still_open:
        status = model.DISPUTED
    else:
        status = before or model.PAID
    changed = replace(order, status=status, disputes=disputes, updated_at=at, version=order.version + 1,
                      status_before_dispute=before if status == model.DISPUTED else None)
    with transaction() as tx:
        hook(tx)
        repository.put_changed(tx, changed, read_version=order.version)
        if recorded is None:
            money_seam.record_dispute(tx, order, dispute_id=dispute.dispute_id, amount=dispute.amount, opened=True)
        if stripe_state in ("won", "lost"):
            money_seam.record_dispute(tx, order, dispute_id=dispute.dispute_id, amount=dispute.amount,
                                      opened=False, won=stripe_state == "won")
        tx.save(audit_item(actor="stripe", action=f"order.dispute_{stripe_state}", entity_type="order",
                           entity_id=order.order_id, at=at,
                           data={"dispute_id": dispute.dispute_id, "amount": dispute.amount,
                                 "stripe_status": dispute.status, "from": order.status, "to": status}))
    return changed, f"dispute_{stripe_state}"
