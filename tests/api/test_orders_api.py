"""Checkout through the HTTP layer: placing orders, idempotency, reading, canceling, paying (fake Stripe)."""
from __future__ import annotations

import pytest

from tests.api.helpers import ADMIN, FINANCE
from tests.checkout_factories import (  # noqa: F401 - fixtures
    api, fake_gateway, new_key, pay_with_fake, place_order, published_app, published_bundle,
)


def test_order_an_app_creates_pending_order_with_payment_intent(api, fake_gateway):
    app = published_app(api, "vendor", price=1500)
    response = place_order(api, "carol", [app["listing_id"]])
    assert response.status_code == 201, response.body
    order = response.data
    assert order["status"] == "pending_payment"
    assert order["total"] == {"amount": 1500, "currency": "usd"}
    assert order["payment"]["payment_intent_id"].startswith("pi_")
    assert order["payment"]["client_secret"]
    [line] = order["lines"]
    assert line["price"]["amount"] == 1500
    assert line["parts"][0]["commission_bps"] == 2000
    assert fake_gateway.intents[order["payment"]["payment_intent_id"]].amount == 1500
