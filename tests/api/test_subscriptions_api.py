"""Subscriptions through the API with the fake Stripe: subscribe, pay, renew, fail, cancel, refund, report.

Stripe's billing events are the signed fixture events of tests/fixtures/stripe_events (`tests.subscription_kit`);
the fake gateway plays Stripe's side (the invoice paid, a renewal, a failed renewal, the end of a period).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core import clock
from tests.factories import ADMIN, FINANCE, new_key, place_order, publish_app
from tests.subscription_kit import (
    pay_first_invoice, publish_subscription_app, send, stripe_id, subscribe,
)

VENDOR, CUSTOMER = "sub-vendor", "sub-carol"


@pytest.fixture
def clock_at():
    """Move the marketplace's clock (and the fake Stripe's) to a moment; restored afterwards."""
    def set_at(moment):
        clock.set_now(lambda: moment)
    yield set_at
    clock.set_now(None)


def test_a_listing_carries_its_interval_and_trial(api):
    listing = publish_subscription_app(api, VENDOR, price=1200, interval="year", trial_days=14)
    assert listing["price"] == {"amount": 1200, "currency": "usd", "interval": "year", "trial_days": 14}
    public = api.get(f"/listings/{listing['listing_id']}").data
    assert public["price"]["interval"] == "year"
    card = next(c for c in api.get("/listings").data["items"] if c["listing_id"] == listing["listing_id"])
    assert card["price"]["interval"] == "year"


def test_trial_days_need_an_interval_and_stay_within_30(api):
    publish_app(api, VENDOR)
    for price in ({"amount": 100, "currency": "usd", "trial_days": 3},
                  {"amount": 100, "currency": "usd", "interval": "month", "trial_days": 31},
                  {"amount": 100, "currency": "usd", "interval": "week"}):
        response = api.post("/partner/listings", {"type": "app", "name": "X", "summary": "x", "category": "analytics",
                                                  "price": price}, sub=VENDOR)
        assert response.status_code == 400, price
        assert response.data["error"]["code"] == "validation_error"


def test_subscribe_pay_and_own_then_replay_by_key(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR, price=1500)
    key = new_key()
    created = subscribe(api, CUSTOMER, listing["listing_id"], key=key)
    assert created.status_code == 201, created.body
    sub = created.data
    assert sub["status"] == "incomplete" and sub["payment"]["client_secret"].startswith("pi_")
    assert api.get(f"/me/entitlements/{listing['listing_id']}", sub=CUSTOMER).status_code == 404

    replay = subscribe(api, CUSTOMER, listing["listing_id"], key=key)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.data["subscription_id"] == sub["subscription_id"]
    assert fake_gateway.calls.count("create_subscription") == 1

    outcome = pay_first_invoice(api, fake_gateway, sub)
    assert outcome["outcome"] == "invoice_recorded+active", outcome
    mine = api.get(f"/subscriptions/{sub['subscription_id']}", sub=CUSTOMER).data
    assert mine["status"] == "active" and mine["payment"]["client_secret"] is None
    assert [i["amount"]["amount"] for i in mine["invoices"]] == [1500]
    owned = api.get(f"/me/entitlements/{listing['listing_id']}", sub=CUSTOMER).data
    assert owned["via"] == "subscription" and owned["subscription_id"] == sub["subscription_id"]
    # 1500 at the default 20% commission: 300 fee, 1200 owed to the partner (held).
    assert api.get("/partner/balance", sub=VENDOR).data["usd"]["pending"] == 1200


def test_subscribing_twice_is_already_owned_and_one_time_purchase_is_refused(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR)
    sub = subscribe(api, CUSTOMER, listing["listing_id"]).data
    pending = subscribe(api, CUSTOMER, listing["listing_id"])
    assert pending.status_code == 409 and pending.data["error"]["code"] == "conflict"
    pay_first_invoice(api, fake_gateway, sub)
    again = subscribe(api, CUSTOMER, listing["listing_id"])
    assert again.status_code == 409 and again.data["error"]["code"] == "already_owned"
    bought = place_order(api, "someone-else", [listing["listing_id"]])
    assert bought.status_code == 400 and "subscription" in bought.body.decode()


def test_a_one_time_listing_cannot_be_subscribed_to(api):
    app = publish_app(api, VENDOR)
    response = subscribe(api, CUSTOMER, app["listing_id"])
    assert response.status_code == 400 and response.data["error"]["code"] == "validation_error"
    assert subscribe(api, CUSTOMER, "lst_nothing").status_code == 400


def test_trial_grants_access_without_payment_and_is_not_mrr(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR, price=900, trial_days=7)
    created = subscribe(api, CUSTOMER, listing["listing_id"])
    assert created.status_code == 201, created.body
    assert created.data["status"] == "trialing" and created.data["payment"] is None
    assert api.get(f"/me/entitlements/{listing['listing_id']}", sub=CUSTOMER).status_code == 200
    report = api.get("/finance/reports/partners", **FINANCE).data
    assert all(row["mrr"]["amount"] == 0 for row in report["items"])


def test_renewal_failure_grace_and_end(api, fake_gateway, clock_at):
    listing = publish_subscription_app(api, VENDOR, price=2000)
    sub = subscribe(api, CUSTOMER, listing["listing_id"]).data
    pay_first_invoice(api, fake_gateway, sub)
    sid = stripe_id(fake_gateway, sub)
    start = clock.now()

    clock_at(start + timedelta(days=30))
    failed = fake_gateway.renew(sid, pay=False)
    response = send(api, "invoice.payment_failed", invoice_id=failed.invoice_id, stripe_subscription_id=sid)
    assert response.data["outcome"].endswith("past_due"), response.body
    assert api.get(f"/me/entitlements/{listing['listing_id']}", sub=CUSTOMER).status_code == 200
    clock_at(start + timedelta(days=38))  # 8 days past due: the grace (7 days) is over
    assert api.get(f"/me/entitlements/{listing['listing_id']}", sub=CUSTOMER).status_code == 404

    fake_gateway.end(sid)
    ended = send(api, "customer.subscription.deleted", stripe_subscription_id=sid)
    assert ended.data["outcome"] == "canceled"
    final = api.get(f"/subscriptions/{sub['subscription_id']}", sub=CUSTOMER).data
    assert final["status"] == "canceled" and final["access_until"] is None
    # Ended: the customer may subscribe again.
    assert subscribe(api, CUSTOMER, listing["listing_id"]).status_code == 201


def test_other_customers_do_not_see_a_subscription_staff_do(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR)
    sub = subscribe(api, CUSTOMER, listing["listing_id"]).data
    path = f"/subscriptions/{sub['subscription_id']}"
    assert api.get(path, sub="someone-else").status_code == 404
    assert api.post(f"{path}/cancel", sub="someone-else").status_code == 404
    assert api.get(path, **ADMIN).status_code == 200 and api.get(path, **FINANCE).status_code == 200
    assert [s["subscription_id"] for s in api.get("/subscriptions", sub=CUSTOMER).data["items"]] == [
        sub["subscription_id"]]
    assert api.get("/subscriptions", sub="someone-else").data["items"] == []


def test_admin_refund_of_an_invoice_and_its_charge_refunded_webhook_count_once(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR, price=1000)
    sub = subscribe(api, CUSTOMER, listing["listing_id"]).data
    pay_first_invoice(api, fake_gateway, sub)
    invoice_id = api.get(f"/subscriptions/{sub['subscription_id']}", sub=CUSTOMER).data["invoices"][0]["invoice_id"]
    path = f"/admin/subscriptions/{sub['subscription_id']}/refunds"
    key = new_key()
    body = {"invoice_id": invoice_id, "amount": 400, "reason": "asked"}
    refunded = api.post(path, body, headers={"Idempotency-Key": key}, **ADMIN)
    assert refunded.status_code == 201, refunded.body
    assert refunded.data["invoice"]["refunded"]["amount"] == 400
    again = api.post(path, body, headers={"Idempotency-Key": key}, **ADMIN)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert api.post(path, {**body, "amount": 700}, headers={"Idempotency-Key": new_key()}, **ADMIN).status_code == 409
    # Stripe's charge.refunded about the same refund changes nothing more.
    charge_id = fake_gateway.intents[fake_gateway.invoices[invoice_id].payment_intent_id].latest_charge_id
    assert send(api, "charge.refunded", charge_id=charge_id).data["outcome"] == "noop:refunds_recorded"
    # A refund made in the dashboard is counted by the webhook.
    fake_gateway.refund_in_dashboard(fake_gateway.invoices[invoice_id].payment_intent_id, 100)
    assert send(api, "charge.refunded", charge_id=charge_id).data["outcome"] == "refunded:1"
    shown = api.get(f"/subscriptions/{sub['subscription_id']}", sub=CUSTOMER).data["invoices"][0]
    assert shown["refunded"]["amount"] == 500
    assert api.post(path, body, headers={"Idempotency-Key": new_key()}, sub=CUSTOMER).status_code == 403


def test_mrr_counts_active_and_past_due_and_yearly_by_twelve(api, fake_gateway):
    monthly_app = publish_subscription_app(api, VENDOR, price=1000)
    yearly_app = publish_subscription_app(api, VENDOR, price=1000, interval="year")  # 1000 / 12 = 83.33 -> 83
    for customer, listing in (("c-1", monthly_app), ("c-2", yearly_app)):
        pay_first_invoice(api, fake_gateway, subscribe(api, customer, listing["listing_id"]).data)
    report = api.get("/finance/reports/partners", **FINANCE).data
    row = next(r for r in report["items"] if r["partner_id"] == monthly_app["partner_id"])
    assert row["mrr"] == {"amount": 1083, "currency": "usd"}
    csv = api.get("/finance/reports/partners?format=csv", **FINANCE).body.decode()
    assert csv.splitlines()[0].endswith(",mrr") and "10.83" in csv


def test_a_subscriber_may_review_while_subscribed(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR)
    review = {"rating": 5, "title": "Worth it", "body": "Monthly and good."}
    assert api.post(f"/listings/{listing['listing_id']}/reviews", review, sub=CUSTOMER).status_code == 403
    pay_first_invoice(api, fake_gateway, subscribe(api, CUSTOMER, listing["listing_id"]).data)
    assert api.post(f"/listings/{listing['listing_id']}/reviews", review, sub=CUSTOMER).status_code == 201


def test_a_new_price_version_applies_to_new_subscriptions_only(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR, price=1000)
    lid = listing["listing_id"]
    first = subscribe(api, "early-bird", lid).data
    pay_first_invoice(api, fake_gateway, first)
    revised = api.patch(f"/partner/listings/{lid}", {"price": {"amount": 1500, "currency": "usd", "interval": "month"}},
                        sub=VENDOR)
    assert revised.status_code == 200, revised.body
    assert api.post(f"/admin/listings/{lid}/approve", {}, **ADMIN).status_code == 200
    assert api.get(f"/listings/{lid}").data["price"]["amount"] == 1500
    later = subscribe(api, "late-comer", lid).data
    assert later["price"]["amount"] == 1500 and later["listing_version"] == 2
    renewal = fake_gateway.renew(stripe_id(fake_gateway, first))
    assert renewal.amount_paid == 1000  # the early subscriber keeps the price it subscribed at
    send(api, "invoice.paid", invoice_id=renewal.invoice_id, stripe_subscription_id=stripe_id(fake_gateway, first))
    amounts = [i["amount"]["amount"] for i in api.get(f"/subscriptions/{first['subscription_id']}",
                                                         sub="early-bird").data["invoices"]]
    assert amounts == [1000, 1000]
    assert fake_gateway.calls.count("create_price") == 2  # one Stripe Price per listing version


def test_an_unpaid_subscription_can_be_canceled_at_once_and_started_again(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR)
    sub = subscribe(api, CUSTOMER, listing["listing_id"]).data
    canceled = api.post(f"/subscriptions/{sub['subscription_id']}/cancel", sub=CUSTOMER)
    assert canceled.status_code == 200 and canceled.data["status"] == "canceled", canceled.body
    assert api.post(f"/subscriptions/{sub['subscription_id']}/cancel", sub=CUSTOMER).status_code == 409
    assert subscribe(api, CUSTOMER, listing["listing_id"]).status_code == 201


def test_stripe_events_for_subscriptions_that_are_not_ours_are_ignored(api, fake_gateway):
    listing = publish_subscription_app(api, VENDOR)
    sub = subscribe(api, CUSTOMER, listing["listing_id"]).data
    sid = stripe_id(fake_gateway, sub)
    # A subscription created in Stripe by something else (no id of ours in its metadata): ignored.
    price = fake_gateway.create_price(listing_id="x", version=1, name="x", amount=100, currency="usd",
                                      interval="month", idempotency_key="elsewhere-price")
    foreign = fake_gateway.create_subscription(customer_id="cus_x", price_id=price.price_id, trial_days=3,
                                               metadata={}, idempotency_key="elsewhere")
    ignored = send(api, "customer.subscription.updated", stripe_subscription_id=foreign.stripe_subscription_id)
    assert ignored.status_code == 200 and ignored.data["outcome"] == "ignored:unknown_subscription"
    # An unknown invoice is Stripe's 404: the webhook answers 404 and nothing changes.
    response = send(api, "invoice.paid", invoice_id="in_unknown", stripe_subscription_id=sid)
    assert response.status_code == 404
    assert api.get(f"/subscriptions/{sub['subscription_id']}", sub=CUSTOMER).data["invoices"] == []


def test_stripe_or_dynamodb_failing_changes_nothing_and_a_retry_subscribes_once(api, fake_gateway, monkeypatch):
    from chalicelib.core.errors import UpstreamUnavailable
    from chalicelib.subscriptions import sync

    listing = publish_subscription_app(api, VENDOR)
    key = new_key()
    fake_gateway.fail_next = UpstreamUnavailable("Stripe is down.")
    down = subscribe(api, CUSTOMER, listing["listing_id"], key=key)
    assert down.status_code == 503 and api.get("/subscriptions", sub=CUSTOMER).data["items"] == []

    real = sync.write_state
    calls = {"n": 0}

    def fails_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise UpstreamUnavailable("DynamoDB is down.")
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "write_state", fails_once)
    assert subscribe(api, CUSTOMER, listing["listing_id"], key=key).status_code == 503
    retried = subscribe(api, CUSTOMER, listing["listing_id"], key=key)
    assert retried.status_code == 201, retried.body
    assert len(fake_gateway.subscriptions) == 1  # the retry found the same Stripe subscription (its key)
    assert len(api.get("/subscriptions", sub=CUSTOMER).data["items"]) == 1
