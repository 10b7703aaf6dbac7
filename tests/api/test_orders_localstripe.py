"""Checkout end to end against a real localstripe: order, pay as Stripe.js would, webhook, refund.

The webhook deliveries are the ones localstripe itself signs and sends (to a loopback receiver); the test
hands those exact bytes and headers to the app, so the signature check runs on Stripe's own format.
"""
from __future__ import annotations

import pytest

from tests.factories import ADMIN, place_order, publish_app, publish_bundle, request_refund
from tests.stripe_server import (  # noqa: F401 - fixtures
    client_confirm, forward_delivery, localstripe, localstripe_api, stripe_webhooks,
)


@pytest.fixture
def api(localstripe_api):
    return localstripe_api


def test_bundle_paid_through_localstripe_then_refunded_by_an_admin(api, localstripe, stripe_webhooks):
    a = publish_app(api, "ls-vendor", price=1200)
    b = publish_app(api, "ls-vendor", price=1800)
    bundle = publish_bundle(api, "ls-vendor", [a["listing_id"], b["listing_id"]], price=2500)
    order = place_order(api, "ls-carol", [bundle["listing_id"]]).data
    pi_id = order["payment"]["payment_intent_id"]
    assert order["status"] == "pending_payment" and pi_id.startswith("pi_")

    status, confirmed = client_confirm(localstripe, pi_id)
    assert status == 200 and confirmed["status"] == "succeeded"
    delivery = stripe_webhooks.wait_for("payment_intent.succeeded", pi_id)
    response = forward_delivery(api, delivery)
    assert response.status_code == 200 and response.data["outcome"] == "paid", response.body
    assert api.get(f"/orders/{order['order_id']}", sub="ls-carol").data["status"] == "paid"
    owned = {e["listing_id"] for e in api.get("/me/entitlements", sub="ls-carol").data["items"]}
    assert owned == {bundle["listing_id"], a["listing_id"], b["listing_id"]}
    # localstripe's delivery replayed: nothing happens twice.
    assert forward_delivery(api, delivery).data["outcome"] == "duplicate"

    refunded = request_refund(api, order["order_id"], {"reason": "customer asked"})
    assert refunded.status_code == 201, refunded.body
    assert refunded.data["order"]["status"] == "refunded"
    assert refunded.data["refund"]["stripe_refund_id"].startswith("re_")
    assert api.get("/me/entitlements", sub="ls-carol").data["items"] == []
    # Our own check refuses what localstripe would let through.
    assert request_refund(api, order["order_id"], {"reason": "again", "amount": 1}).status_code == 409


def test_declined_card_fails_the_order_through_localstripes_webhook(api, localstripe, stripe_webhooks):
    app = publish_app(api, "ls-vendor", price=900)
    order = place_order(api, "ls-dave", [app["listing_id"]]).data
    pi_id = order["payment"]["payment_intent_id"]
    status, body = client_confirm(localstripe, pi_id, "pm_card_chargeCustomerFail")
    assert status == 402 and body["error"]["code"] == "card_declined"
    response = forward_delivery(api, stripe_webhooks.wait_for("payment_intent.payment_failed", pi_id))
    assert response.status_code == 200 and response.data["outcome"] == "failed"
    stored = api.get(f"/orders/{order['order_id']}", sub="ls-dave").data
    assert stored["status"] == "failed" and stored["failure_reason"] == "card_declined"
    assert api.get(f"/me/entitlements/{app['listing_id']}", sub="ls-dave").status_code == 404


def test_a_tampered_localstripe_delivery_is_refused(api, localstripe, stripe_webhooks):
    app = publish_app(api, "ls-vendor", price=700)
    order = place_order(api, "ls-erin", [app["listing_id"]]).data
    pi_id = order["payment"]["payment_intent_id"]
    client_confirm(localstripe, pi_id)
    raw, headers = stripe_webhooks.wait_for("payment_intent.succeeded", pi_id)
    tampered = raw.replace(b'"livemode": false', b'"livemode": true')
    response = forward_delivery(api, (tampered, headers))
    assert response.status_code == 400
    assert api.get(f"/orders/{order['order_id']}", sub="ls-erin").data["status"] == "pending_payment"
    assert ADMIN
