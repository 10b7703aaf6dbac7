"""Refunds by admin or finance: amounts, lines, over-refunds, entitlements, idempotency, audit, ledger."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import UpstreamUnavailable
from tests.factories import ADMIN, FINANCE, pay, place_order, publish_app, publish_bundle, request_refund


@pytest.fixture
def paid(api, fake_gateway):
    """A paid order of two lines: an app (1000) and a bundle of two apps (3000)."""
    a = publish_app(api, "v1", price=1000)
    b = publish_app(api, "v2", price=2000)
    c = publish_app(api, "v2", price=2000)
    bundle = publish_bundle(api, "v2", [b["listing_id"], c["listing_id"]], price=3000)
    order = place_order(api, "carol", [a["listing_id"], bundle["listing_id"]]).data
    assert pay(api, fake_gateway, order).data["outcome"] == "paid"
    return {"order": order, "app": a, "bundle": bundle, "b": b, "c": c}


def _owned(api):
    return sorted(e["listing_id"] for e in api.get("/me/entitlements?limit=100", sub="carol").data["items"])


def test_partial_amount_is_spread_over_lines_and_keeps_entitlements(api, fake_gateway, paid):
    order_id = paid["order"]["order_id"]
    response = request_refund(api, order_id, {"reason": "goodwill", "amount": 1000})
    assert response.status_code == 201, response.body
    body = response.data
    assert body["refund"]["amount"]["amount"] == 1000
    assert {x["line_id"]: x["amount"]["amount"] for x in body["refund"]["lines"]} == {"L1": 250, "L2": 750}
    assert body["order"]["status"] == "partially_refunded"
    assert body["order"]["refunded"]["amount"] == 1000
    [stripe_refund] = fake_gateway.refunds.values()
    assert stripe_refund.amount == 1000 and stripe_refund.metadata["order_id"] == order_id
    assert len(_owned(api)) == 4  # nothing fully refunded: everything still owned
    audit = api.get(f"/admin/audit?entity_id={order_id}", **ADMIN).data["items"]
    refunded = [a for a in audit if a["action"] == "order.refunded"]
    assert refunded and refunded[0]["actor"] == "admin-1" and refunded[0]["reason"] == "goodwill"


def test_refunding_a_bundle_line_revokes_the_bundle_and_its_apps(api, paid):
    response = request_refund(api, paid["order"]["order_id"], {"reason": "bundle broken",
                                                               "listing_ids": [paid["bundle"]["listing_id"]]})
    assert response.status_code == 201
    assert response.data["refund"]["amount"]["amount"] == 3000
    assert _owned(api) == [paid["app"]["listing_id"]]
    assert api.get(f"/me/entitlements/{paid['b']['listing_id']}", sub="carol").status_code == 404


def test_lines_refunded_in_steps_end_refunded_and_revoked(api, paid):
    order_id = paid["order"]["order_id"]
    assert request_refund(api, order_id, {"reason": "1", "amount": 400, "listing_ids": [paid["app"]["listing_id"]]}
                  ).status_code == 201
    assert paid["app"]["listing_id"] in _owned(api)
    second = request_refund(api, order_id, {"reason": "2", "listing_ids": [paid["app"]["listing_id"]]})
    assert second.data["refund"]["amount"]["amount"] == 600
    assert paid["app"]["listing_id"] not in _owned(api)
    rest = request_refund(api, order_id, {"reason": "3"})
    assert rest.data["refund"]["amount"]["amount"] == 3000
    assert rest.data["order"]["status"] == "refunded"
    assert _owned(api) == []
    order = api.get(f"/orders/{order_id}", sub="carol").data
    assert [r["amount"]["amount"] for r in order["refunds"]] == [400, 600, 3000]
    assert all(line["refunded"] == line["price"] for line in order["lines"])


def test_over_refund_is_refused_by_our_own_check(api, fake_gateway, paid):
    order_id = paid["order"]["order_id"]
    too_much = request_refund(api, order_id, {"reason": "x", "amount": 4001})
    assert too_much.status_code == 409 and too_much.data["error"]["code"] == "conflict"
    line_too_much = request_refund(api, order_id, {"reason": "x", "amount": 1001,
                                                   "listing_ids": [paid["app"]["listing_id"]]})
    assert line_too_much.status_code == 409
    assert fake_gateway.refunds == {}
    assert request_refund(api, order_id, {"reason": "all"}).status_code == 201
    nothing_left = request_refund(api, order_id, {"reason": "again"})
    assert nothing_left.status_code == 409


def test_refund_replay_and_key_reuse(api, fake_gateway, paid):
    order_id = paid["order"]["order_id"]
    first = request_refund(api, order_id, {"reason": "x", "amount": 100}, key="r-1")
    again = request_refund(api, order_id, {"reason": "x", "amount": 100}, key="r-1")
    assert (again.status_code, again.data) == (201, first.data)
    assert len(fake_gateway.refunds) == 1
    conflict = request_refund(api, order_id, {"reason": "x", "amount": 200}, key="r-1")
    assert conflict.status_code == 409 and conflict.data["error"]["code"] == "idempotency_conflict"
    missing = api.post(f"/admin/orders/{order_id}/refunds", {"reason": "x"}, **ADMIN)
    assert missing.status_code == 400


def test_a_refund_recorded_once_even_if_stripe_answered_but_we_failed_to_write(api, fake_gateway, paid,
                                                                                monkeypatch):
    """A crash between Stripe's refund and our write: the retry (same key) records the same refund once."""
    from chalicelib.orders import payment_sync as service

    order_id = paid["order"]["order_id"]
    real = service.record_stripe_refund
    calls = {"n": 0}

    def crash_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise UpstreamUnavailable("DynamoDB failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "record_stripe_refund", crash_once)
    assert request_refund(api, order_id, {"reason": "x", "amount": 300}, key="r-2").status_code == 503
    retried = request_refund(api, order_id, {"reason": "x", "amount": 300}, key="r-2")
    assert retried.status_code == 201
    assert len(fake_gateway.refunds) == 1
    assert api.get(f"/orders/{order_id}", sub="carol").data["refunded"]["amount"] == 300


def test_refund_and_its_webhook_count_once_with_the_same_allocation(api, fake_gateway, paid):
    from tests.factories import deliver, signed_event

    order_id = paid["order"]["order_id"]
    response = request_refund(api, order_id, {"reason": "x", "amount": 700, "listing_ids": [paid["app"]["listing_id"]]})
    charge_id = fake_gateway.intents[paid["order"]["payment"]["payment_intent_id"]].latest_charge_id
    assert deliver(api, *signed_event("charge.refunded", {"id": charge_id})).data["outcome"] == \
        "noop:refunds_recorded"
    order = api.get(f"/orders/{order_id}", sub="carol").data
    assert order["refunded"]["amount"] == 700 and len(order["refunds"]) == 1
    assert response.data["refund"]["lines"] == [{"line_id": "L1", "amount": {"amount": 700, "currency": "usd"}}]


def test_who_may_refund_and_what(api, fake_gateway, paid):
    order_id = paid["order"]["order_id"]
    assert request_refund(api, order_id, {"reason": "x"}, who={"sub": "carol"}).status_code == 403
    assert request_refund(api, order_id, {"reason": "x", "amount": 1}, who=FINANCE).status_code == 201
    assert request_refund(api, "ord_missing", {"reason": "x"}).status_code == 404
    unknown_line = request_refund(api, order_id, {"reason": "x", "listing_ids": ["lst_other"]})
    assert unknown_line.status_code == 400
    for bad in ({}, {"reason": ""}, {"reason": "x", "amount": 0}, {"reason": "x", "amount": -5},
                {"reason": "x", "amount": 1.5}, {"reason": "x", "listing_ids": []}, {"reason": "x", "extra": 1}):
        assert request_refund(api, order_id, bad).status_code == 400, bad


def test_unpaid_and_free_orders_cannot_be_refunded(api, fake_gateway):
    app = publish_app(api, "v1", price=900)
    pending = place_order(api, "carol", [app["listing_id"]]).data
    response = request_refund(api, pending["order_id"], {"reason": "x"})
    assert response.status_code == 409 and response.data["error"]["code"] == "invalid_state"
    free = place_order(api, "carol", [publish_app(api, "v1", price=0)["listing_id"]]).data
    assert request_refund(api, free["order_id"], {"reason": "x"}).status_code == 409


def test_stripe_refusing_the_refund_is_402_and_changes_nothing(api, fake_gateway, paid):
    from chalicelib.core.errors import PaymentFailed

    fake_gateway.fail_next = PaymentFailed("The payment provider refused the request.")
    response = request_refund(api, paid["order"]["order_id"], {"reason": "x", "amount": 10})
    assert response.status_code == 402
    order = api.get(f"/orders/{paid['order']['order_id']}", sub="carol").data
    assert order["refunded"]["amount"] == 0 and order["status"] == "paid"


def test_sale_and_refund_reach_the_ledger_in_their_transactions(api, fake_gateway, paid):
    def balance(sub):
        return api.get("/partner/balance", sub=sub).data["usd"]["balance"]

    # v1's app line: 1000 at 20 % -> net 800. v2's bundle line: 3000 at 20 % -> 2400.
    assert (balance("v1"), balance("v2")) == (800, 2400)
    assert request_refund(api, paid["order"]["order_id"], {"reason": "x", "listing_ids": [paid["app"]["listing_id"]]}
                  ).status_code == 201
    assert (balance("v1"), balance("v2")) == (0, 2400)
    assert request_refund(api, paid["order"]["order_id"], {"reason": "x", "amount": 1500}).status_code == 201
    assert balance("v2") == 1200
