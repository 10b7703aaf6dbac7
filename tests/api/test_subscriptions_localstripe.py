"""Subscribing against a real localstripe: Customer, Product and Plan, the subscription and its first invoice.

localstripe has no `default_incomplete` payment behaviour: it charges the customer's saved card when the
subscription is created (and answers 404 without one). So the customer here has saved a card first (as
Stripe.js would with a SetupIntent); the first invoice is then paid at once and recorded by the request,
and localstripe's own signed `invoice.payment_succeeded` delivery, handed to the app byte for byte,
changes nothing more. Renewals, failures and cancellations, which localstripe cannot emit, are covered
with signed fixture events in tests/api/test_subscriptions_api.py and the walk-through.
"""
from __future__ import annotations

import pytest

from chalicelib.subscriptions import subscribing
from tests.stripe_server import (  # noqa: F401 - fixtures
    forward_delivery, localstripe, localstripe_api, stripe_post, stripe_webhooks,
)
from tests.subscription_kit import publish_subscription_app, subscribe


@pytest.fixture
def api(localstripe_api):
    return localstripe_api


def _save_card(base: str, user: str) -> str:
    """The customer saves a card (Stripe.js): their one Stripe Customer, with a default payment method."""
    from chalicelib.payments.gateway import get_gateway

    customer = subscribing.ensure_customer(user, get_gateway())
    status, pm = stripe_post(base, "/v1/payment_methods/pm_card_visa/attach", {"customer": customer})
    assert status == 200, pm
    status, _ = stripe_post(base, f"/v1/customers/{customer}",
                            {"invoice_settings[default_payment_method]": pm["id"]})
    assert status == 200
    return customer


def test_subscribe_and_first_invoice_through_localstripe(api, localstripe, stripe_webhooks):
    listing = publish_subscription_app(api, "ls-sub-vendor", price=1900)
    customer = _save_card(localstripe, "ls-sub-carol")

    created = subscribe(api, "ls-sub-carol", listing["listing_id"])
    assert created.status_code == 201, created.body
    sub = created.data
    mine = api.get(f"/subscriptions/{sub['subscription_id']}", sub="ls-sub-carol").data
    assert mine["status"] == "active" and mine["current_period_end"] > mine["created_at"]
    [invoice] = mine["invoices"]
    assert invoice["invoice_id"].startswith("in_") and invoice["amount"] == {"amount": 1900, "currency": "usd"}
    assert api.get(f"/me/entitlements/{listing['listing_id']}", sub="ls-sub-carol").data["via"] == "subscription"
    assert api.get("/partner/balance", sub="ls-sub-vendor").data["usd"]["pending"] == 1520  # 1900 - 20%

    # localstripe's own signed delivery of the same invoice: counted once already.
    delivery = stripe_webhooks.wait_for("invoice.payment_succeeded", invoice["invoice_id"])
    response = forward_delivery(api, delivery)
    assert response.status_code == 200 and response.data["outcome"].startswith("noop:invoice_recorded"), response.body
    assert api.get("/partner/balance", sub="ls-sub-vendor").data["usd"]["pending"] == 1520
    # One Stripe Customer per user: the one saved before was used.
    from chalicelib.subscriptions import repository

    assert repository.stored_customer("ls-sub-carol") == customer

    # Cancel at the period's end, in localstripe too.
    canceled = api.post(f"/subscriptions/{sub['subscription_id']}/cancel", sub="ls-sub-carol")
    assert canceled.status_code == 200 and canceled.data["cancel_at_period_end"] is True, canceled.body


def test_without_a_saved_card_localstripe_cannot_start_a_paid_subscription(api, localstripe):
    listing = publish_subscription_app(api, "ls-sub-vendor-2", price=500)
    response = subscribe(api, "ls-sub-dave", listing["listing_id"])
    assert response.status_code == 402 and response.data["error"]["code"] == "payment_failed", response.body
    assert api.get("/subscriptions", sub="ls-sub-dave").data["items"] == []


def test_a_trial_starts_without_a_card_in_localstripe(api, localstripe):
    listing = publish_subscription_app(api, "ls-sub-vendor-3", price=700, trial_days=10)
    response = subscribe(api, "ls-sub-erin", listing["listing_id"])
    assert response.status_code == 201, response.body
    assert response.data["status"] == "trialing" and response.data["payment"] is None
    assert api.get(f"/me/entitlements/{listing['listing_id']}", sub="ls-sub-erin").status_code == 200


def test_a_renewal_invoice_billed_in_localstripe_is_one_more_sale(api, localstripe, stripe_webhooks):
    """localstripe never renews by itself; billing the next period by hand (an invoice for the subscription, which
    bills its plan, paid with the saved card) is what Stripe's billing clock does at the period's end."""
    listing = publish_subscription_app(api, "ls-sub-vendor-4", price=1100)
    customer = _save_card(localstripe, "ls-sub-frank")
    sub = subscribe(api, "ls-sub-frank", listing["listing_id"]).data
    from chalicelib.subscriptions import repository

    stripe_sub = repository.get(sub["subscription_id"]).stripe_subscription_id
    status, invoice = stripe_post(localstripe, "/v1/invoices", {"customer": customer, "subscription": stripe_sub})
    assert status == 200, invoice
    status, paid = stripe_post(localstripe, f"/v1/invoices/{invoice['id']}/pay")
    assert status == 200 and paid["status"] == "paid", paid

    response = forward_delivery(api, stripe_webhooks.wait_for("invoice.payment_succeeded", invoice["id"]))
    assert response.status_code == 200 and response.data["outcome"].startswith("invoice_recorded"), response.body
    assert forward_delivery(api, stripe_webhooks.wait_for("invoice.payment_succeeded", invoice["id"])).data[
        "outcome"] == "duplicate"
    shown = api.get(f"/subscriptions/{sub['subscription_id']}", sub="ls-sub-frank").data["invoices"]
    assert [i["amount"]["amount"] for i in shown] == [1100, 1100]
    assert api.get("/partner/balance", sub="ls-sub-vendor-4").data["usd"]["pending"] == 2 * 880
