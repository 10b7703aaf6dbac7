"""Partner webhooks on the real `make run` stack: a signed sale.completed reaches a receiver within seconds.

The processes `make run` starts (moto_server, localstripe, `chalice local`, the job poller): the seeded
partner "Acme Software" registers a receiver running in this test on 127.0.0.1 (the local stage accepts
`http://127.0.0.1:<port>`); a customer pays through localstripe as Stripe.js would; localstripe's signed
webhook marks the order paid, which records the partner's `sale.completed` in the same transaction; the job
poller dispatches and delivers it. The receiver answers 500 twice and still gets it (1 s, then 2 s later),
correctly signed; the feed shows the same event; the delivery log says `delivered` after 3 attempts.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.localstack import running_stack
from tests.webhook_receiver import Receiver, verify


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack") / "run_local.log", startup_seconds=180) as running:
        yield running


def test_a_purchase_reaches_the_partners_receiver_signed_after_two_failures(stack):
    owner = stack.token("acme-owner")
    buyer = stack.token(f"e2e-hook-buyer-{uuid.uuid4().hex[:8]}")
    status, partner = stack.call("GET", "/partners/me", token=owner)
    assert status == 200, partner
    status, page = stack.call("GET", f"/listings?partner_id={partner['partner_id']}&type=app&limit=50")
    priced = [item for item in page["items"] if item["price"]["amount"] > 0]
    assert status == 200 and priced, page
    receiver = Receiver([500, 500])
    status, endpoint = stack.call("POST", "/partner/webhook-endpoints", token=owner,
                                  body={"url": receiver.url, "events": ["sale.completed"]})
    assert status == 201, endpoint
    try:
        status, order = stack.call("POST", "/orders", token=buyer,
                                   body={"items": [{"listing_id": priced[0]["listing_id"]}]},
                                   headers={"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, order
        pi_id = order["payment"]["payment_intent_id"]
        assert stack.stripe_post(f"/v1/payment_intents/{pi_id}", {"payment_method": "pm_card_visa"})[0] == 200
        assert stack.stripe_post(f"/v1/payment_intents/{pi_id}/confirm")[0] == 200
        paid_at = time.monotonic()
        deadline = paid_at + 60
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(receiver.received) == 3, receiver.received
        seconds = time.monotonic() - paid_at
        event = verify(endpoint["secret"], receiver.received[2]["headers"], receiver.received[2]["body"])
        assert event["type"] == "sale.completed" and event["data"]["source"]["id"] == order["order_id"]
        assert receiver.received[0]["body"] == receiver.received[2]["body"]

        status, feed = stack.call("GET", "/partner/events?types=sale.completed&limit=100", token=owner)
        assert status == 200 and event["event_id"] in [e["event_id"] for e in feed["items"]], feed
        path = f"/partner/webhook-endpoints/{endpoint['endpoint_id']}/deliveries"
        status, log = stack.call("GET", path, token=owner)
        assert status == 200, log
        assert [(d["event_id"], d["status"], d["attempts"]) for d in log["items"]] == [
            (event["event_id"], "delivered", 3)], log
        print(json.dumps({"seconds_from_payment_to_third_attempt": round(seconds, 1)}))
    finally:
        receiver.close()
        stack.call("DELETE", f"/partner/webhook-endpoints/{endpoint['endpoint_id']}", token=owner)
