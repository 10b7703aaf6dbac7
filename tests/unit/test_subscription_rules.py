"""The pure subscription rules (status, access, MRR, invoice splits) and the three Stripe Billing shapes."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.payments.billing_shapes import invoice_view, subscription_view
from chalicelib.subscriptions import model

BASE = model.Subscription(
    subscription_id="subs_1", customer_sub="c", listing_id="lst_b", listing_type="bundle", name="B",
    listing_version=1, currency="usd", price=1000, interval="month", trial_days=0,
    parts=(model.Part("lst_x", "ptn_x", 250), model.Part("lst_y", "ptn_y", 750)), status=model.ACTIVE,
    stripe_customer_id="cus", stripe_subscription_id="sub", created_at="2026-11-01T00:00:00.000Z",
    updated_at="2026-11-01T00:00:00.000Z", current_period_end="2026-12-01T00:00:00.000Z")


@pytest.mark.parametrize("current,stripe,expected", [
    ("incomplete", "active", "active"), ("incomplete", "trialing", "trialing"), ("active", "past_due", "past_due"),
    ("past_due", "active", "active"), ("active", "unpaid", "past_due"), ("incomplete", "incomplete_expired", "canceled"),
    ("canceled", "active", "canceled"), ("active", "canceled", "canceled"),
])
def test_status_follows_stripe_but_canceled_is_final(current, stripe, expected):
    assert model.status_from_stripe(current, stripe) == expected


def test_access_ends_at_period_end_plus_grace_or_period_end_after_cancel_or_grace_after_past_due():
    assert model.access_until(BASE, grace_days=7) == "2026-12-08T00:00:00.000Z"
    assert model.access_until(replace(BASE, cancel_at_period_end=True), grace_days=7) == "2026-12-01T00:00:00.000Z"
    past_due = replace(BASE, status=model.PAST_DUE, past_due_since="2026-12-02T00:00:00.000Z")
    assert model.access_until(past_due, grace_days=7) == "2026-12-09T00:00:00.000Z"
    assert model.access_until(replace(BASE, status=model.CANCELED), grace_days=7) is None
    assert model.access_until(replace(BASE, status=model.INCOMPLETE), grace_days=7) is None


def test_monthly_shares_and_mrr_moves():
    assert model.monthly_shares(BASE) == {"ptn_x": 250, "ptn_y": 750}
    yearly = replace(BASE, interval="year", parts=(model.Part("a", "p", 1000), model.Part("b", "p", 6)))
    assert model.monthly_shares(yearly) == {"p": 84}  # 1006 / 12 = 83.83 -> 84 (half up)
    assert model.monthly_shares(replace(yearly, parts=(model.Part("a", "p", 6),))) == {"p": 1}  # 0.5 -> 1
    trial = replace(BASE, status=model.TRIALING)
    assert model.mrr_delta(trial, BASE) == {"ptn_x": 250, "ptn_y": 750}
    assert model.mrr_delta(BASE, replace(BASE, status=model.PAST_DUE)) == {}
    assert model.mrr_delta(BASE, replace(BASE, status=model.CANCELED)) == {"ptn_x": -250, "ptn_y": -750}


@given(st.integers(0, 10_000_000), st.lists(st.integers(1, 100_000), min_size=1, max_size=10))
def test_an_invoice_splits_exactly_over_the_frozen_parts(amount, weights):
    sub = replace(BASE, parts=tuple(model.Part(f"l{i}", f"p{i % 3}", w) for i, w in enumerate(weights)))
    sale = model.invoice_sale(sub, invoice_id="in_1", amount=amount, currency="usd", payment_intent_id="pi",
                              commission_bps={"p0": 2000, "p1": 0, "p2": 10000})
    assert sum(p.amount for p in sale.lines[0].parts) == amount == sale.total
    assert sale.order_id == "in_1"


def test_current_stripe_shapes_put_the_period_on_the_item_and_the_payment_under_payments():
    sub = subscription_view({
        "id": "sub_1", "status": "incomplete", "customer": "cus_1", "cancel_at_period_end": False,
        "items": {"data": [{"current_period_end": 1_800_000_000}]},
        "latest_invoice": {"id": "in_1", "status": "open", "total": 500, "amount_paid": 0, "currency": "USD",
                           "parent": {"subscription_details": {"subscription": "sub_1"}},
                           "confirmation_secret": {"client_secret": "pi_1_secret"},
                           "payments": {"data": [{"payment": {"payment_intent": "pi_1"}}]}}})
    assert sub.current_period_end == 1_800_000_000
    invoice = sub.latest_invoice
    assert invoice is not None and invoice.payment_intent_id == "pi_1" and invoice.client_secret == "pi_1_secret"
    assert invoice.stripe_subscription_id == "sub_1" and invoice.currency == "usd"


def test_older_and_localstripe_shapes():
    legacy = invoice_view({"id": "in_2", "status": "paid", "total": 900, "amount_paid": 900, "currency": "eur",
                           "subscription": "sub_2", "payment_intent": {"id": "pi_2", "client_secret": "s"},
                           "charge": {"id": "ch_2"}, "status_transitions": {"paid_at": 1_700_000_000},
                           "lines": {"data": [{"period": {"start": 1, "end": 2}}]}})
    assert (legacy.payment_intent_id, legacy.charge_id, legacy.paid_at, legacy.period_end) == ("pi_2", "ch_2",
                                                                                               1_700_000_000, 2)
    trial = subscription_view({"id": "sub_3", "status": "incomplete", "customer": "cus", "trial_period_days": 5,
                               "start_date": 1_000_000, "current_period_end": 9_999_999, "latest_invoice": None})
    assert trial.status == "trialing" and trial.current_period_end == 1_000_000 + 5 * 86400
