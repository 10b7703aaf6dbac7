"""StripeGateway's translation of Stripe's (and localstripe's) shapes and errors, without a network."""
from __future__ import annotations

import pytest
import stripe

from chalicelib.core.errors import NotFound, PaymentFailed, UpstreamUnavailable
from chalicelib.payments import stripe_gateway as sg


def test_latest_charge_as_object_or_id_becomes_an_id():
    base = {"id": "pi_1", "status": "succeeded", "amount": 100, "currency": "USD", "metadata": {"order_id": "o"}}
    assert sg._payment_intent({**base, "latest_charge": {"id": "ch_1"}}).latest_charge_id == "ch_1"
    assert sg._payment_intent({**base, "latest_charge": "ch_2"}).latest_charge_id == "ch_2"
    view = sg._payment_intent({**base, "latest_charge": None,
                               "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"}})
    assert (view.currency, view.order_id, view.failure_code) == ("usd", "o", "insufficient_funds")


def test_charge_refunds_are_read_from_the_embedded_list():
    charge = sg._charge({"id": "ch_1", "payment_intent": {"id": "pi_1"}, "amount": 500, "amount_refunded": 200,
                         "currency": "eur", "refunds": {"data": [
                             {"id": "re_1", "amount": 200, "currency": "eur", "charge": {"id": "ch_1"},
                              "payment_intent": "pi_1", "metadata": {"line_L1": 200}}]}})
    assert charge.payment_intent_id == "pi_1"
    assert charge.refunds[0].charge_id == "ch_1" and charge.refunds[0].metadata == {"line_L1": "200"}


@pytest.fixture
def gateway():
    return sg.StripeGateway("sk_test_unit", api_base="http://127.0.0.1:9", max_network_retries=0)


@pytest.mark.parametrize("error,expected", [
    (stripe.CardError("declined", None, "card_declined", http_status=402), PaymentFailed),
    (stripe.InvalidRequestError("too small", None, code="amount_too_small", http_status=400), PaymentFailed),
    (stripe.InvalidRequestError("no such", None, http_status=404), NotFound),
    (stripe.APIError("not found", http_status=404), NotFound),
    (stripe.APIError("boom", http_status=500), UpstreamUnavailable),
    (stripe.APIConnectionError("no route"), UpstreamUnavailable),
    (stripe.RateLimitError("slow down", http_status=429), UpstreamUnavailable),
    (stripe.AuthenticationError("bad key", http_status=401), UpstreamUnavailable),
    (stripe.IdempotencyError("reused", http_status=400), UpstreamUnavailable),
])
def test_stripe_errors_become_domain_errors_by_class(gateway, error, expected):
    def fail():
        raise error

    with pytest.raises(expected):
        gateway._call("test", fail)
