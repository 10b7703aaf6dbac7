"""Stripe failures at every Stripe call site of checkout, webhooks, refunds and payouts.

The production adapters run unchanged over `StripeHttpStub` (tests/faults/inject.py), so the SDK's own
retries (same Idempotency-Key) and the adapters' error mapping are what is exercised. Call sites:

  POST /orders                     StripeGateway.create_payment_intent   POST /v1/payment_intents
  POST /webhooks/stripe            StripeGateway.retrieve_payment_intent GET  /v1/payment_intents/{id}
    (payment_intent.succeeded / payment_failed; charge.refunded)
                                   StripeGateway.retrieve_charge         GET  /v1/charges/{id}
  POST /admin/orders/{id}/refunds  StripeGateway.create_refund           POST /v1/refunds
  POST /finance/payout-runs        StripeConnect.find_transfer (resume)  GET  /v1/transfers?transfer_group=
                                   StripeConnect.create_transfer         POST /v1/transfers
  (`retrieve_dispute` has the same `_call` mapping as the two retrieves above; localstripe and the stub
  have no disputes, so it is left to tests/api/test_webhooks_api.py with the fake gateway.)

Faults: 500 (retried by the SDK), 429, timeout (retried), each either before Stripe acted or after it
acted with the answer lost; card decline (402) and refusal (400). Expected, from PRODUCT.md: a failure
after retries is 503 `upstream_unavailable` with nothing changed; a synchronous refusal is 402
`payment_failed`; a webhook that cannot be applied answers 5xx so Stripe redelivers; a transfer whose
outcome is unknown is asked about again by the pay job (same idempotency key, lookup by payout id first)
and, after its last round, left `pending` for the next run; a refused one fails it and returns the money. Every case then retries (same Idempotency-Key, same event, a re-run) and checks that it succeeds
and that Stripe moved the money once.
"""
from __future__ import annotations

import pytest

from chalicelib.config import API_DEADLINES, JOB_DEADLINES
from tests.factories import FINANCE, deliver, new_key, place_order, publish_app, request_refund, signed_event
from tests.faults.checks import assert_checkout_consistent, assert_payouts_consistent, by_kind
from tests.faults.inject import FAULT_429, FAULT_500, FAULT_DECLINE, FAULT_REFUSED, FAULT_TIMEOUT, table_rows
from tests.faults.scenarios import assert_error, assert_unchanged, paid_order, run_payouts

# (fault, times, after_effect): OUTLAST failures outlast the adapters' network retries in the API's budget
# (config.API_DEADLINES). A 500 before the effect is the same to the adapter as a timeout before it; the
# 500 that matters is the one after Stripe acted.
OUTLAST = 1 + API_DEADLINES.stripe.retries
OUTAGES = [
    pytest.param(FAULT_500, OUTLAST, True, id="500-after-effect"),
    pytest.param(FAULT_429, 1, False, id="429"),
    pytest.param(FAULT_TIMEOUT, OUTLAST, False, id="timeout-before"),
    pytest.param(FAULT_TIMEOUT, OUTLAST, True, id="timeout-after-effect"),
]


# --- POST /orders -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fault,times,after_effect", OUTAGES)
def test_order_payment_intent_outage_is_503_nothing_written_and_the_retry_reuses_one_intent(
        api, stub, fault, times, after_effect):
    app = publish_app(api, "vendor", price=1500)
    key = new_key()
    before = table_rows()
    stub.fail("POST", "/v1/payment_intents", fault, times=times, after_effect=after_effect)

    failed = place_order(api, "carol", [app["listing_id"]], key=key)

    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    retried = place_order(api, "carol", [app["listing_id"]], key=key)
    assert retried.status_code == 201, retried.body
    # Stripe holds one PaymentIntent for the order, whatever the number of attempts.
    assert len(stub.state.intents) == 1
    assert retried.data["payment"]["payment_intent_id"] in stub.state.intents
    keys_sent = {r.idempotency_key for r in stub.requests if r.path == "/v1/payment_intents"}
    assert len(keys_sent) == 1
    assert place_order(api, "carol", [app["listing_id"]], key=key).data == retried.data
    assert_checkout_consistent(stub)


def test_order_transient_500_is_absorbed_by_the_adapters_retry(api, stub):
    app = publish_app(api, "vendor")
    stub.fail("POST", "/v1/payment_intents", FAULT_500, times=1)
    placed = place_order(api, "carol", [app["listing_id"]])
    assert placed.status_code == 201, placed.body
    assert stub.count("POST", "/v1/payment_intents") == 2 and len(stub.state.intents) == 1
    assert_checkout_consistent(stub)


@pytest.mark.parametrize("fault", [FAULT_DECLINE, FAULT_REFUSED])
def test_order_refused_by_stripe_is_402_payment_failed_and_a_retry_with_the_key_succeeds(api, stub, fault):
    app = publish_app(api, "vendor")
    key = new_key()
    before = table_rows()
    stub.fail("POST", "/v1/payment_intents", fault)
    assert_error(place_order(api, "carol", [app["listing_id"]], key=key), 402, "payment_failed")
    assert_unchanged(before)
    assert stub.count("POST", "/v1/payment_intents") == 1  # a refusal is not retried blindly
    assert place_order(api, "carol", [app["listing_id"]], key=key).status_code == 201
    assert_checkout_consistent(stub)


# --- POST /webhooks/stripe --------------------------------------------------------------------------
@pytest.mark.parametrize("fault,times", [(FAULT_500, OUTLAST), (FAULT_429, 1), (FAULT_TIMEOUT, OUTLAST)])
def test_webhook_cannot_reread_the_intent_answers_5xx_and_the_redelivery_applies_it_once(api, stub, fault, times):
    app = publish_app(api, "vendor", price=1200)
    order = place_order(api, "carol", [app["listing_id"]]).data
    pi_id = order["payment"]["payment_intent_id"]
    stub.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"})
    before = table_rows()
    stub.fail("GET", f"/v1/payment_intents/{pi_id}", fault, times=times)

    failed = deliver(api, raw, header)

    # Stripe redelivers any non-2xx; 503 says "not applied, try again" and nothing (not even the marker) is kept.
    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    applied = deliver(api, raw, header)
    assert applied.status_code == 200 and applied.data["outcome"] == "paid", applied.body
    again = deliver(api, raw, header)
    assert again.status_code == 200 and again.data["outcome"] == "duplicate"
    kinds = assert_checkout_consistent(stub)
    assert [o["status"] for o in kinds["Order"]] == ["paid"]
    assert len([j for j in kinds["Journal"] if j["txn_id"] == f"sale-{order['order_id']}"]) == 1
    assert api.get(f"/me/entitlements/{app['listing_id']}", sub="carol").status_code == 200


def test_declined_card_fails_the_order_and_paying_again_with_another_card_succeeds(api, stub):
    app = publish_app(api, "vendor", price=1200)
    order = place_order(api, "carol", [app["listing_id"]]).data
    pi_id = order["payment"]["payment_intent_id"]
    stub.decline(pi_id)
    raw, header = signed_event("payment_intent.payment_failed", {"id": pi_id, "object": "payment_intent"})
    assert deliver(api, raw, header).data["outcome"] == "failed"
    failed = api.get(f"/orders/{order['order_id']}", sub="carol").data
    assert failed["status"] == "failed" and failed["failure_reason"]
    assert api.get(f"/me/entitlements/{app['listing_id']}", sub="carol").status_code == 404
    assert_checkout_consistent(stub)
    # The customer confirms the same PaymentIntent with another card (Stripe.js); Stripe says succeeded.
    stub.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"})
    assert deliver(api, raw, header).data["outcome"] == "paid"
    assert api.get(f"/me/entitlements/{app['listing_id']}", sub="carol").status_code == 200
    assert_checkout_consistent(stub)


@pytest.mark.parametrize("fault,times", [(FAULT_500, OUTLAST), (FAULT_TIMEOUT, OUTLAST)])
def test_charge_refunded_webhook_cannot_reread_the_charge_then_redelivery_counts_it_once(api, stub, fault, times):
    order = paid_order(api, stub)
    pi_id = order["payment"]["payment_intent_id"]
    dash = stub.refund_in_dashboard(pi_id, 400)
    raw, header = signed_event("charge.refunded", {"id": stub.charge_of(pi_id),
                                                   "object": "charge"})
    before = table_rows()
    stub.fail("GET", "/v1/charges/", fault, times=times)
    assert_error(deliver(api, raw, header), 503, "upstream_unavailable")
    assert_unchanged(before)
    assert deliver(api, raw, header).data["outcome"] == "refunded:1"
    assert deliver(api, raw, header).data["outcome"] == "duplicate"
    kinds = assert_checkout_consistent(stub)
    assert [r["stripe_refund_id"] for r in kinds["Refund"]] == [dash["id"]]


# --- POST /admin/orders/{id}/refunds ----------------------------------------------------------------
@pytest.mark.parametrize("fault,times,after_effect", OUTAGES)
def test_refund_outage_is_503_nothing_recorded_and_the_retry_refunds_once(api, stub, fault, times, after_effect):
    order = paid_order(api, stub, price=2000)
    pi_id = order["payment"]["payment_intent_id"]
    key = new_key()
    before = table_rows()
    stub.fail("POST", "/v1/refunds", fault, times=times, after_effect=after_effect)

    failed = request_refund(api, order["order_id"], {"reason": "customer asked", "amount": 500}, key=key)

    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    assert stub.refunded_total(pi_id) == (500 if after_effect else 0)
    retried = request_refund(api, order["order_id"], {"reason": "customer asked", "amount": 500}, key=key)
    assert retried.status_code == 201, retried.body
    assert retried.data["order"]["refunded"]["amount"] == 500
    assert len(stub.state.refunds) == 1 and stub.refunded_total(pi_id) == 500  # moved once
    replay = request_refund(api, order["order_id"], {"reason": "customer asked", "amount": 500}, key=key)
    assert replay.status_code == 201 and replay.data == retried.data
    assert len(stub.state.refunds) == 1
    assert_checkout_consistent(stub)


def test_refund_refused_by_stripe_is_402_and_changes_nothing(api, stub):
    order = paid_order(api, stub, price=2000)
    key = new_key()
    before = table_rows()
    stub.fail("POST", "/v1/refunds", FAULT_REFUSED)
    assert_error(request_refund(api, order["order_id"], {"reason": "customer asked"}, key=key), 402, "payment_failed")
    assert_unchanged(before)
    assert not stub.state.refunds
    retried = request_refund(api, order["order_id"], {"reason": "customer asked"}, key=key)
    assert retried.status_code == 201 and retried.data["order"]["status"] == "refunded", retried.body
    assert_checkout_consistent(stub)


def test_refund_whose_webhook_was_recorded_first_is_still_answered_on_retry(api, stub):
    """Stripe refunded but our answer was lost; `charge.refunded` recorded it before the admin retried."""
    order = paid_order(api, stub, price=2000)
    pi_id = order["payment"]["payment_intent_id"]
    key = new_key()
    stub.fail("POST", "/v1/refunds", FAULT_TIMEOUT, times=OUTLAST, after_effect=True)
    assert_error(request_refund(api, order["order_id"], {"reason": "customer asked", "amount": 700}, key=key),
           503, "upstream_unavailable")
    raw, header = signed_event("charge.refunded", {"id": stub.charge_of(pi_id),
                                                   "object": "charge"})
    assert deliver(api, raw, header).data["outcome"] == "refunded:1"
    retried = request_refund(api, order["order_id"], {"reason": "customer asked", "amount": 700}, key=key)
    assert retried.status_code == 201, retried.body
    assert retried.data["order"]["refunded"]["amount"] == 700
    assert len(stub.state.refunds) == 1
    assert_checkout_consistent(stub)


# --- POST /finance/payout-runs (the queued jobs that pay) ----------------------------------------------
# The pay jobs call Stripe under the job budget: a call gives up after this many failed attempts.
JOB_OUTLAST = 1 + JOB_DEADLINES.stripe.retries


def _payout_statuses() -> list[str]:
    return sorted(p["status"] for p in by_kind(table_rows()).get("Payout", []))


@pytest.fixture
def no_backoff(monkeypatch):
    """Ask Stripe again at once instead of after 30 s, 60 s, ... (the job's real backoff)."""
    from chalicelib.payouts import model

    monkeypatch.setattr(model, "unknown_outcome_delay", lambda attempt: 0)
    return model


JOB_OUTAGES = [
    pytest.param(FAULT_500, JOB_OUTLAST, True, id="500-after-effect"),
    pytest.param(FAULT_429, 1, False, id="429-retried-by-the-sdk"),
    pytest.param(FAULT_TIMEOUT, JOB_OUTLAST, False, id="timeout-before"),
    pytest.param(FAULT_TIMEOUT, JOB_OUTLAST, True, id="timeout-after-effect"),
]


@pytest.mark.parametrize("fault,times,after_effect", JOB_OUTAGES)
def test_transfer_outage_is_asked_again_by_the_job_and_pays_once(
        run_api, stub, no_backoff, fault, times, after_effect):
    stub.fail("POST", "/v1/transfers", fault, times=times, after_effect=after_effect)
    run = run_payouts(run_api)
    assert run.status_code == 200, run.body
    assert run.data["status"] == "completed" and run.data["progress"]["paid"] == 1, run.body
    assert _payout_statuses() == ["paid"]
    assert [t["amount"] for t in stub.state.transfers.values()] == [8000]  # one transfer, never two
    assert_payouts_consistent(stub)
    again = run_payouts(run_api)
    assert again.data["progress"]["paid"] == 0 and again.data["skipped"][0]["reason"] == "below_minimum"


def test_stripe_silent_through_every_round_leaves_it_pending_and_the_next_run_pays_once(
        run_api, stub, no_backoff, monkeypatch):
    monkeypatch.setattr(no_backoff, "MAX_UNKNOWN_ATTEMPTS", 2)
    stub.fail("POST", "/v1/transfers", FAULT_TIMEOUT, times=JOB_OUTLAST, after_effect=True)
    stub.fail("GET", "/v1/transfers", FAULT_500, times=JOB_OUTLAST)  # the resumed lookup fails too
    first = run_payouts(run_api)
    assert first.data["status"] == "completed_with_failures", first.body
    assert first.data["progress"] == {"partners_total": 1, "paid": 0, "failed": 0, "skipped": 0, "pending": 1}
    assert _payout_statuses() == ["pending"]
    assert_payouts_consistent(stub)
    second = run_payouts(run_api)  # settles the pending payout first (found by its id), then judges the partner
    assert second.status_code == 200, second.body
    assert _payout_statuses() == ["paid"] and len(stub.state.transfers) == 1
    assert second.data["skipped"][0]["reason"] == "below_minimum"
    first_now = run_api.get(f"/finance/payout-runs/{first.data['payout_run_id']}", **FINANCE).data
    assert first_now["progress"]["paid"] == 1 and first_now["progress"]["pending"] == 0
    assert_payouts_consistent(stub)


@pytest.mark.parametrize("fault", [FAULT_REFUSED, FAULT_DECLINE])
def test_refused_transfer_fails_the_payout_returns_the_money_and_the_next_run_pays(run_api, stub, fault):
    stub.fail("POST", "/v1/transfers", fault)
    first = run_payouts(run_api)
    assert first.status_code == 200, first.body
    assert first.data["status"] == "completed_with_failures" and first.data["progress"]["failed"] == 1
    assert _payout_statuses() == ["failed"]
    assert not stub.state.transfers
    balance = by_kind(table_rows())["Balance"][0]
    assert int(balance["delta"]) == 8000 and not balance.get("open_payout")
    assert_payouts_consistent(stub)
    second = run_payouts(run_api)
    assert second.data["paid_amounts"] == {"usd": 8000}, second.body
    assert len(stub.state.transfers) == 1
    assert_payouts_consistent(stub)


def test_transfer_answer_with_metadata_is_read_without_a_500(run_api, stub):
    """Regression: `StripeConnect._transfer` called `dict()` on the stripe 16 `StripeObject` of `metadata`
    (TypeError), so every payout run against real Stripe answered 500 after the transfer was sent."""
    # The stub answers like Stripe: every transfer carries `metadata` (ours: payout_id, partner_id, run_id).
    first = run_payouts(run_api)
    assert first.status_code == 200, first.body
    assert first.data["paid_amounts"] == {"usd": 8000}
    [payout] = first.data["payouts"]
    [transfer] = stub.state.transfers.values()
    assert payout["transfer_id"] == transfer["id"] and transfer["metadata"]["payout_id"] == payout["payout_id"]
    assert_payouts_consistent(stub)
