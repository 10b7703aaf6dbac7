"""The API's subscription and invoice dicts, built from the pure models (shared by every subscription use case)."""
from __future__ import annotations

from typing import Any, Iterable

from chalicelib.subscriptions import model
from chalicelib.subscriptions.model import InvoiceSummary, Subscription


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def invoice_dict(invoice: InvoiceSummary, currency: str) -> dict:
    return {"invoice_id": invoice.invoice_id, "amount": money(invoice.amount, currency), "paid_at": invoice.paid_at,
            "refunded": money(invoice.refunded, currency)}


def subscription_dict(sub: Subscription, invoices: Iterable[InvoiceSummary] | None = None) -> dict[str, Any]:
    """A subscription; `invoices` all of its invoices (one subscription) or else the last few kept on it."""
    payment = None
    if sub.payment_intent_id:
        # The client secret lets the subscriber confirm the first invoice with Stripe.js; useless afterwards.
        payment = {"payment_intent_id": sub.payment_intent_id,
                   "client_secret": sub.client_secret if sub.status == model.INCOMPLETE else None}
    shown = list(invoices) if invoices is not None else list(sub.recent_invoices)
    return {
        "subscription_id": sub.subscription_id, "listing_id": sub.listing_id, "listing_type": sub.listing_type,
        "name": sub.name, "listing_version": sub.listing_version, "customer_sub": sub.customer_sub,
        "status": sub.status,
        "price": {**money(sub.price, sub.currency), "interval": sub.interval, "trial_days": sub.trial_days},
        "parts": [{"listing_id": p.listing_id, "partner_id": p.partner_id, "amount": money(p.amount, sub.currency)}
                  for p in sub.parts],
        "current_period_end": sub.current_period_end, "cancel_at_period_end": sub.cancel_at_period_end,
        "access_until": model.access_until(sub, grace_days=_grace()), "past_due_since": sub.past_due_since,
        "canceled_at": sub.canceled_at, "payment": payment, "created_at": sub.created_at,
        "updated_at": sub.updated_at,
        "invoices": [invoice_dict(i, sub.currency) for i in sorted(shown, key=lambda i: (i.paid_at or "", i.invoice_id))],
    }


def refund_dict(refund: model.InvoiceRefund, currency: str) -> dict:
    return {"refund_id": refund.refund_id, "subscription_id": refund.subscription_id,
            "invoice_id": refund.invoice_id, "amount": money(refund.amount, currency),
            "stripe_refund_id": refund.stripe_refund_id, "reason": refund.reason, "created_at": refund.created_at}


def _grace() -> int:
    from chalicelib.config import get_settings

    return get_settings().grace_days
