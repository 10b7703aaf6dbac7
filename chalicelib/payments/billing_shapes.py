"""Stripe Billing objects (subscriptions, invoices) turned into the gateway's views, whatever API shape came back.

Three shapes reach the gateway: Stripe's current API (the period on the subscription *item*, the invoice's
PaymentIntent under `payments`, the client secret under `confirmation_secret`), Stripe's older API (the
period on the subscription, `invoice.payment_intent`, expandable), and localstripe's (older still: expanded
objects where ids are expected, no `trialing` status: a trial subscription stays `incomplete` with
`trial_period_days` set and no invoice, and its period is the whole billing interval). Each difference is
absorbed here, in pure functions over dicts, so the adapter stays a list of SDK calls and the rules can be
tested without a server.
"""
from __future__ import annotations

from typing import Any

from chalicelib.payments.gateway import (
    SUB_INCOMPLETE, SUB_TRIALING, InvoiceView, SubscriptionView,
)

DAY = 86400


def _id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value["id"]) if value.get("id") else None


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def invoice_view(data: dict) -> InvoiceView:
    """An invoice dict (any of the three shapes) as an `InvoiceView`."""
    intent = data.get("payment_intent")
    if intent is None:  # current API: the invoice's payments list (expanded on create)
        payments = ((data.get("payments") or {}).get("data") or [])
        intent = next((p.get("payment", {}).get("payment_intent") for p in payments
                       if (p.get("payment") or {}).get("payment_intent")), None)
    secret = (data.get("confirmation_secret") or {}).get("client_secret")
    if secret is None and isinstance(intent, dict):
        secret = intent.get("client_secret")
    subscription = data.get("subscription")
    if subscription is None:  # current API: parent.subscription_details.subscription
        subscription = ((data.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    lines = ((data.get("lines") or {}).get("data") or [])
    period = (lines[0].get("period") if lines else None) or {}
    transitions = data.get("status_transitions") or {}
    return InvoiceView(
        invoice_id=str(data["id"]), stripe_subscription_id=_id(subscription), status=str(data.get("status") or ""),
        total=int(data.get("total") or 0), amount_paid=int(data.get("amount_paid") or 0),
        currency=str(data.get("currency") or "").lower(), payment_intent_id=_id(intent),
        charge_id=_id(data.get("charge")), created=int(data.get("created") or data.get("date") or 0),
        paid_at=_int(transitions.get("paid_at")),
        period_start=_int(period.get("start") or data.get("period_start")),
        period_end=_int(period.get("end") or data.get("period_end")),
        client_secret=secret, billing_reason=data.get("billing_reason"),
    )


def subscription_view(data: dict) -> SubscriptionView:
    """A subscription dict (any of the three shapes) as a `SubscriptionView`."""
    items = ((data.get("items") or {}).get("data") or [])
    period_end = data.get("current_period_end")
    if period_end is None and items:  # current API: the period lives on the item
        period_end = items[0].get("current_period_end")
    status = str(data["status"])
    trial_end = _int(data.get("trial_end"))
    latest = data.get("latest_invoice")
    trial_days = _int(data.get("trial_period_days"))
    if status == SUB_INCOMPLETE and trial_days and latest is None:
        # localstripe: a trial never leaves `incomplete` and its period is the whole interval.
        status = SUB_TRIALING
        trial_end = int(data.get("start_date") or data.get("created") or 0) + trial_days * DAY
    if status == SUB_TRIALING and trial_end:
        period_end = trial_end
    return SubscriptionView(
        stripe_subscription_id=str(data["id"]), status=status, customer_id=str(_id(data.get("customer")) or ""),
        current_period_end=int(period_end or 0), cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()}, trial_end=trial_end,
        latest_invoice_id=_id(latest), latest_invoice=invoice_view(latest) if isinstance(latest, dict) else None,
    )
