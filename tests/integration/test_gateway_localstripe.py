"""StripeGateway against a real localstripe process: shapes normalised, errors mapped, flows that work."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import NotFound, UpstreamUnavailable
from chalicelib.payments.stripe_gateway import StripeGateway
from tests.stripe_server import (  # noqa: F401 - fixtures
    STRIPE_KEY, card_payment_method, client_confirm, free_port, localstripe,
)


@pytest.fixture
def gateway(localstripe):
    return StripeGateway(STRIPE_KEY, api_base=localstripe)


def _intent(gateway, amount=1500, order_id="ord_test"):
    return gateway.create_payment_intent(order_id=order_id, amount=amount, currency="usd", customer_ref="carol",
                                         idempotency_key=f"order-{order_id}-{amount}")


def test_create_and_confirm_with_pm_card_visa(gateway, localstripe):
    intent = _intent(gateway)
    assert intent.status == "requires_payment_method"
    assert (intent.amount, intent.currency, intent.order_id) == (1500, "usd", "ord_test")
    assert intent.client_secret.startswith(intent.payment_intent_id)
    status, _ = client_confirm(localstripe, intent.payment_intent_id)
    assert status == 200
    paid = gateway.retrieve_payment_intent(intent.payment_intent_id)
    assert paid.status == "succeeded"
    # localstripe expands latest_charge into an object; the gateway always answers its id.
    assert isinstance(paid.latest_charge_id, str) and paid.latest_charge_id.startswith("ch_")


def test_declined_card_leaves_the_intent_retryable_with_the_decline_code(gateway, localstripe):
    intent = _intent(gateway, order_id="ord_decline")
    status, body = client_confirm(localstripe, intent.payment_intent_id, "pm_card_chargeCustomerFail")
    assert status == 402 and body["error"]["code"] == "card_declined"
    seen = gateway.retrieve_payment_intent(intent.payment_intent_id)
    assert seen.status == "requires_payment_method"
    assert seen.failure_code == "card_declined"
    # (Stripe would accept a second card on the same intent; localstripe answers 400, so the retry path
    # is covered with the fake gateway in tests/api/test_webhooks_api.py.)


def test_3ds_card_requires_action(gateway, localstripe):
    intent = _intent(gateway, order_id="ord_3ds")
    method = card_payment_method(localstripe, "4000002500003155")
    status, body = client_confirm(localstripe, intent.payment_intent_id, method)
    assert status == 200 and body["status"] == "requires_action"
    seen = gateway.retrieve_payment_intent(intent.payment_intent_id)
    assert seen.status == "requires_action" and seen.failure_code is None


def test_refund_and_charge_read_back(gateway, localstripe):
    intent = _intent(gateway, amount=2000, order_id="ord_refund")
    client_confirm(localstripe, intent.payment_intent_id)
    refund = gateway.create_refund(payment_intent_id=intent.payment_intent_id, amount=500,
                                   metadata={"order_id": "ord_refund", "line_L1": "500"},
                                   idempotency_key="refund-test-1")
    assert refund.amount == 500 and refund.status == "succeeded"
    assert refund.payment_intent_id == intent.payment_intent_id and refund.charge_id.startswith("ch_")
    charge = gateway.retrieve_charge(refund.charge_id)
    assert (charge.amount, charge.amount_refunded) == (2000, 500)
    assert [(r.refund_id, r.metadata["line_L1"]) for r in charge.refunds] == [(refund.refund_id, "500")]


def test_cancel(gateway):
    intent = _intent(gateway, order_id="ord_cancel")
    assert gateway.cancel_payment_intent(intent.payment_intent_id, idempotency_key="c").status == "canceled"


def test_unknown_objects_are_not_found(gateway):
    with pytest.raises(NotFound):
        gateway.retrieve_payment_intent("pi_does_not_exist")
    with pytest.raises(NotFound):  # localstripe has no disputes at all
        gateway.retrieve_dispute("dp_does_not_exist")


def test_unreachable_stripe_is_upstream_unavailable():
    gateway = StripeGateway(STRIPE_KEY, api_base=f"http://127.0.0.1:{free_port()}", max_network_retries=0,
                            timeout=2)
    with pytest.raises(UpstreamUnavailable):
        gateway.retrieve_payment_intent("pi_x")


def test_stripe_is_imported_lazily():
    import subprocess
    import sys

    code = ("import sys, app; from chalicelib.payments import gateway; "
            "from chalicelib.webhooks import service; print('stripe' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
