"""What Stripe's billing webhooks change, applied once: the webhook endpoint hands each event here.

Every applier re-reads the object from Stripe (an event body may be stale, duplicated or out of order)
and applies what it *is*: a paid invoice is recorded as a sale once (`invoicing`), then the subscription
is moved to Stripe's current state (`sync`), whose transaction also carries the caller's `hook` (the
webhook's event marker); with nothing to change, the marker is saved alone. An invoice or subscription
that is not ours is ignored; one that is ours (its Stripe metadata names our id) but not yet stored (the
event overtook the request that creates it) is refused with 503, so Stripe delivers it again.
"""
from __future__ import annotations

from chalicelib.core.errors import UpstreamUnavailable
from chalicelib.payments.gateway import ChargeView, PaymentGateway
from chalicelib.subscriptions import invoicing, repository, sync
from chalicelib.subscriptions.model import Subscription
from chalicelib.subscriptions.sync import TxHook, hook_only


def _ours(stripe_subscription_id: str, gateway: PaymentGateway) -> tuple[Subscription | None, object]:
    """Our subscription for Stripe's id and Stripe's current view of it; 503 if ours but not stored yet."""
    view = gateway.retrieve_subscription(stripe_subscription_id)
    sub = repository.by_stripe_subscription(stripe_subscription_id)
    if sub is None and view.metadata.get("subscription_id"):
        sub = repository.get(view.metadata["subscription_id"])
        if sub is None:
            raise UpstreamUnavailable("This subscription is still being created; deliver the event again.")
    return sub, view


def apply_subscription(stripe_subscription_id: str, *, gateway: PaymentGateway, hook: TxHook) -> str:
    """`customer.subscription.updated` / `.deleted` (and `.created`): move ours to Stripe's current state."""
    sub, view = _ours(stripe_subscription_id, gateway)
    if sub is None:
        hook_only(hook)
        return "ignored:unknown_subscription"
    return sync.sync_from_stripe(sub, view, hook=hook)[1]  # type: ignore[arg-type]


def apply_invoice(invoice_id: str, *, gateway: PaymentGateway, hook: TxHook) -> str:
    """`invoice.paid` (localstripe: `invoice.payment_succeeded`) and `invoice.payment_failed`."""
    invoice = gateway.retrieve_invoice(invoice_id)
    if not invoice.stripe_subscription_id:
        hook_only(hook)
        return "ignored:no_subscription"
    sub, view = _ours(invoice.stripe_subscription_id, gateway)
    if sub is None:
        hook_only(hook)
        return "ignored:unknown_subscription"
    sale = invoicing.record_invoice(sub.subscription_id, invoice)
    current = repository.get(sub.subscription_id) or sub
    return f"{sale}+{sync.sync_from_stripe(current, view, hook=hook)[1]}"  # type: ignore[arg-type]


def refunds_from_charge(charge: ChargeView, *, hook: TxHook) -> str | None:
    """`charge.refunded` for an invoice's payment: count each new refund once; None if no invoice of ours."""
    invoice = repository.invoice_by_payment_intent(charge.payment_intent_id) if charge.payment_intent_id else None
    if invoice is None:
        return None
    sub = repository.get(invoice.subscription_id)
    if sub is None:
        return None
    new = [r for r in charge.refunds if r.status == "succeeded" and r.refund_id not in (invoice.stripe_refund_ids or [])]
    if not new:
        hook_only(hook)
        return "noop:refunds_recorded"
    for index, refund in enumerate(new):
        last = index == len(new) - 1
        invoicing.record_refund(sub, refund, invoice_id=invoice.invoice_id, actor="stripe", reason=None,
                                hook=hook if last else sync.no_hook)
    return f"refunded:{len(new)}"
