"""DynamoDB failures (throttling, transaction conflicts) at every DynamoDB call of the money routes.

`DdbFaults` (tests/faults/inject.py) raises botocore's own `ClientError` for the Nth call of one operation,
above botocore's retry loop, i.e. what the app sees once retries are exhausted. The call sites, in the
order a successful request makes them (`test_call_sites_are_the_enumerated_ones` fails when one is added):

  POST /orders
    BatchGetItem #1        catalog: the live listings ordered
    BatchGetItem #2        the idempotency record, the sellers' profiles, what the customer owns
    (Stripe)               PaymentIntent created
    TransactWriteItems #1  order + idempotency record + audit
  POST /webhooks/stripe  (payment_intent.succeeded / payment_failed)
    GetItem #1             event marker (already processed?)
    (Stripe)               PaymentIntent re-read
    GetItem #2             the order
    GetItem #3             the partner's event counter (partner_feed outbox)
    TransactWriteItems #1  order status + entitlements + sale journal + balances + audit + event marker
                           + the partner's sale.completed event and counter
  POST /webhooks/stripe  (charge.refunded, a refund made in the dashboard)
    GetItem #1             event marker;  (Stripe) charge re-read
    Query #1               the order by PaymentIntent (index)
    GetItem #2             the order's ledger state (refund allocation)
    GetItem #3             the partner's event counter (partner_feed outbox)
    TransactWriteItems #1  refund + guard + order + revocations + refund journal + audit + marker + event
  POST /admin/orders/{id}/refunds
    BatchGetItem #1        the idempotency record and the order
    (Stripe)               refund created
    GetItem #1             the order's ledger state (refund allocation)
    GetItem #2             the partner's event counter (partner_feed outbox)
    TransactWriteItems #1  refund + guard + order + journal + audit + idempotency record + event
  POST /finance/payout-runs (202), then the jobs it queued, run by the worker
    TransactWriteItems #1  run row (queued) + the currency's open-run lock + audit          [the request]
    GetItem #1, #2         plan job: the run; its page row (already planned?)
    Query #1               balance rows of the currency (one page)
    TransactWriteItems #2  page row + partners_total + planning_done
    GetItem #3             the page row as recorded;  (SQS) the batch job sent
    UpdateItem #1          page marked sent
    GetItem #4             the run: complete? (no: the batch has not run)
    GetItem #5             batch job: the run
    BatchGetItem #1        the batch's payouts/skips of this run, balance rows, profiles
    Query #2               the payee's hold-day rows (available balance)
    TransactWriteItems #3  payout opened: payout + journal + balance in-flight marker + audit
    (Stripe)               transfer created
    GetItem #6             the payee's partner-event counter (partner_feed outbox)
    TransactWriteItems #4  payout settled: status + journal + paid_out + Stripe ref + run counters + audit
                           + `payout.paid` event + event counter (no dispatch job: the payee has no
                           webhook endpoint)
    Query #3               the small seller's hold-day rows (under MIN_PAYOUT: skipped)
    TransactWriteItems #5  skip row + run counters
    GetItem #7             the run: complete? (yes)
    TransactWriteItems #6  run completed + lock released + audit

Expected everywhere: 503 `upstream_unavailable` (never a 500); for the single-transaction routes the table is
exactly as before; the retry (same Idempotency-Key, redelivered event) succeeds; Stripe moved money once.
A payout run is several durable steps in queued jobs by design: a failure in the request is a 503 that
changed nothing; a failure inside a job fails that job, SQS delivers it again, and the redelivery finishes
the run without a second transfer (checked with the payout invariants: every payout has its journal entry
and in-flight marker, a paid payout exactly one transfer).
"""
from __future__ import annotations

import pytest

from tests.factories import FINANCE, deliver, new_key, place_order, publish_app, request_refund, signed_event
from tests.faults.checks import assert_checkout_consistent, assert_payouts_consistent, by_kind
from tests.faults.inject import THROTTLING, THROTTLING_EXCEPTION, TRANSACTION_CONFLICT, DdbFaults, table_rows
from tests.faults.scenarios import assert_error, assert_unchanged, paid_order, run_payouts

ORDER_SITES = [("BatchGetItem", 1), ("BatchGetItem", 2), ("TransactWriteItems", 1)]
PAID_WEBHOOK_SITES = [("GetItem", 1), ("GetItem", 2), ("GetItem", 3), ("TransactWriteItems", 1)]
REFUNDED_WEBHOOK_SITES = [("GetItem", 1), ("Query", 1), ("GetItem", 2), ("GetItem", 3), ("TransactWriteItems", 1)]
REFUND_SITES = [("BatchGetItem", 1), ("GetItem", 1), ("GetItem", 2), ("TransactWriteItems", 1)]
RUN_SITES = [("TransactWriteItems", 1), ("GetItem", 1), ("GetItem", 2), ("Query", 1), ("TransactWriteItems", 2),
             ("GetItem", 3), ("UpdateItem", 1), ("GetItem", 4), ("GetItem", 5), ("BatchGetItem", 1), ("Query", 2),
             ("TransactWriteItems", 3), ("GetItem", 6), ("TransactWriteItems", 4), ("Query", 3),
             ("TransactWriteItems", 5), ("GetItem", 7), ("TransactWriteItems", 6)]


def cases(sites, *, throttling_exception: bool = False):
    """Throttling at every site; a transaction conflict at every transaction; ThrottlingException if asked."""
    out = []
    for operation, nth in sites:
        out.append(pytest.param(operation, nth, THROTTLING, id=f"{operation}{nth}-throttled"))
        if operation == "TransactWriteItems":
            out.append(pytest.param(operation, nth, TRANSACTION_CONFLICT, id=f"{operation}{nth}-conflict"))
    if throttling_exception:  # the other throttling code takes the same path; shown once per operation kind
        for operation, nth in sites:
            out.append(pytest.param(operation, nth, THROTTLING_EXCEPTION, id=f"{operation}{nth}-throttling-exc"))
    return out


def _sequence(sites) -> list[str]:
    return [operation for operation, _nth in sites]


# --- the call sites are the ones listed above -----------------------------------------------------
def test_call_sites_are_the_enumerated_ones(api, stub):
    app = publish_app(api, "vendor", price=1500)
    with DdbFaults() as calls:
        order = place_order(api, "carol", [app["listing_id"]]).data
    assert calls.seen == _sequence(ORDER_SITES)
    pi_id = order["payment"]["payment_intent_id"]
    stub.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"})
    with DdbFaults() as calls:
        assert deliver(api, raw, header).data["outcome"] == "paid"
    assert calls.seen == _sequence(PAID_WEBHOOK_SITES)
    with DdbFaults() as calls:
        assert request_refund(api, order["order_id"], {"reason": "asked", "amount": 100}).status_code == 201
    assert calls.seen == _sequence(REFUND_SITES)
    stub.refund_in_dashboard(pi_id, 300)
    raw, header = signed_event("charge.refunded", {"id": stub.charge_of(pi_id),
                                                   "object": "charge"})
    with DdbFaults() as calls:
        assert deliver(api, raw, header).data["outcome"] == "refunded:1"
    assert calls.seen == _sequence(REFUNDED_WEBHOOK_SITES)


def _start_and_work(api):
    """POST the run and let the worker drain the queue (a failed job is redelivered at once)."""
    from scripts.job_poller import drain

    started = api.post("/finance/payout-runs", {"currency": "usd"}, **FINANCE)
    if started.status_code == 202:
        drain()
    return started


def test_payout_run_call_sites_are_the_enumerated_ones(run_api, stub):
    _small_seller()
    with DdbFaults() as calls:
        assert _start_and_work(run_api).status_code == 202
    assert calls.seen == _sequence(RUN_SITES)


# --- POST /orders -----------------------------------------------------------------------------------
@pytest.mark.parametrize("operation,nth,code", cases(ORDER_SITES, throttling_exception=True))
def test_order_ddb_failure_is_503_writes_nothing_and_the_retry_succeeds(api, stub, operation, nth, code):
    app = publish_app(api, "vendor", price=1500)
    key = new_key()
    before = table_rows()
    with DdbFaults().fail(operation, nth=nth, code=code) as faults:
        failed = place_order(api, "carol", [app["listing_id"]], key=key)
    assert faults.fired == 1
    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    retried = place_order(api, "carol", [app["listing_id"]], key=key)
    assert retried.status_code == 201, retried.body
    assert len(stub.state.intents) == 1  # a PaymentIntent made before the failed write is reused
    assert place_order(api, "carol", [app["listing_id"]], key=key).data == retried.data
    assert_checkout_consistent(stub)


# --- POST /webhooks/stripe --------------------------------------------------------------------------
@pytest.mark.parametrize("operation,nth,code", cases(PAID_WEBHOOK_SITES))
def test_payment_webhook_ddb_failure_is_503_and_the_redelivery_applies_it_once(api, stub, operation, nth, code):
    app = publish_app(api, "vendor", price=1200)
    order = place_order(api, "carol", [app["listing_id"]]).data
    pi_id = order["payment"]["payment_intent_id"]
    stub.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"})
    before = table_rows()
    with DdbFaults().fail(operation, nth=nth, code=code) as faults:
        failed = deliver(api, raw, header)
    assert faults.fired == 1
    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    assert deliver(api, raw, header).data["outcome"] == "paid"
    assert deliver(api, raw, header).data["outcome"] == "duplicate"
    kinds = assert_checkout_consistent(stub)
    assert [o["status"] for o in kinds["Order"]] == ["paid"]


@pytest.mark.parametrize("operation,nth,code", cases(REFUNDED_WEBHOOK_SITES))
def test_refund_webhook_ddb_failure_is_503_and_the_redelivery_counts_it_once(api, stub, operation, nth, code):
    order = paid_order(api, stub)
    pi_id = order["payment"]["payment_intent_id"]
    stub.refund_in_dashboard(pi_id, 400)
    raw, header = signed_event("charge.refunded", {"id": stub.charge_of(pi_id),
                                                   "object": "charge"})
    before = table_rows()
    with DdbFaults().fail(operation, nth=nth, code=code) as faults:
        failed = deliver(api, raw, header)
    assert faults.fired == 1
    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    assert deliver(api, raw, header).data["outcome"] == "refunded:1"
    assert deliver(api, raw, header).data["outcome"] == "duplicate"
    assert len(assert_checkout_consistent(stub)["Refund"]) == 1


# --- POST /admin/orders/{id}/refunds ----------------------------------------------------------------
@pytest.mark.parametrize("operation,nth,code", cases(REFUND_SITES))
def test_refund_ddb_failure_is_503_records_nothing_and_the_retry_refunds_once(api, stub, operation, nth, code):
    order = paid_order(api, stub, price=2000)
    pi_id = order["payment"]["payment_intent_id"]
    key = new_key()
    before = table_rows()
    with DdbFaults().fail(operation, nth=nth, code=code) as faults:
        failed = request_refund(api, order["order_id"], {"reason": "asked", "amount": 600}, key=key)
    assert faults.fired == 1
    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    # Before the Stripe call nothing moved; after it, Stripe refunded once and the retry must not refund again.
    assert stub.refunded_total(pi_id) == (0 if (operation, nth) == ("BatchGetItem", 1) else 600)
    retried = request_refund(api, order["order_id"], {"reason": "asked", "amount": 600}, key=key)
    assert retried.status_code == 201, retried.body
    assert retried.data["order"]["refunded"]["amount"] == 600
    assert len(stub.state.refunds) == 1 and stub.refunded_total(pi_id) == 600
    assert_checkout_consistent(stub)


# --- POST /finance/payout-runs ----------------------------------------------------------------------
def _small_seller() -> str:
    """A second partner whose available balance is under MIN_PAYOUT, so the run writes a skip row.

    Its id sorts after any generated partner id, so the run reaches it after the payee.
    """
    from chalicelib.db.transact import transaction
    from chalicelib.ledger import recorder
    from tests.factories import line, order, part

    with transaction() as tx:
        recorder.record_sale(tx, order(line(part("ptn_zz_small", 1000, 2000)), currency="usd"))
    return "ptn_zz_small"


def _transfers_per_payout(stub) -> list[int]:
    return [t["amount"] for t in stub.state.transfers.values()]


@pytest.mark.parametrize("operation,nth,code", cases(RUN_SITES))
def test_payout_run_ddb_failure_is_503_or_redelivered_and_pays_exactly_once(run_api, stub, operation, nth, code):
    _small_seller()
    before = table_rows()
    with DdbFaults().fail(operation, nth=nth, code=code) as faults:
        started = _start_and_work(run_api)
    assert faults.fired == 1
    if (operation, nth) == ("TransactWriteItems", 1):
        assert_error(started, 503, "upstream_unavailable")
        assert_unchanged(before)  # the run never started
        started = _start_and_work(run_api)
    assert started.status_code == 202, started.body
    run = run_api.get(f"/finance/payout-runs/{started.data['payout_run_id']}", **FINANCE).data
    assert run["status"] == "completed", run  # the failed job was delivered again and finished the run
    assert run["progress"] == {"partners_total": 2, "paid": 1, "failed": 0, "skipped": 1, "pending": 0}
    final = assert_payouts_consistent(stub)
    assert [p["status"] for p in final["Payout"]] == ["paid"]
    assert _transfers_per_payout(stub) == [8000]  # one transfer, whatever failed and whatever was redelivered
    assert run_payouts(run_api).data["progress"]["paid"] == 0
    assert _transfers_per_payout(stub) == [8000]


def test_two_dashboard_refunds_one_recorded_before_the_failure_are_each_counted_once(api, stub):
    """`charge.refunded` carrying two new refunds commits them one by one: a failure between them keeps
    the first (consistent on its own), answers 503, and the redelivery counts only the second."""
    order = paid_order(api, stub, price=3000)
    pi_id = order["payment"]["payment_intent_id"]
    for amount in (500, 700):
        stub.refund_in_dashboard(pi_id, amount)
    raw, header = signed_event("charge.refunded", {"id": stub.charge_of(pi_id),
                                                   "object": "charge"})
    with DdbFaults().fail("TransactWriteItems", nth=2) as faults:
        failed = deliver(api, raw, header)
    assert faults.fired == 1
    assert_error(failed, 503, "upstream_unavailable")
    assert len(assert_checkout_consistent(stub, stripe_settled=False)["Refund"]) == 1
    assert deliver(api, raw, header).data["outcome"] == "refunded:1"
    kinds = assert_checkout_consistent(stub)
    assert sorted(int(r["amount"]) for r in kinds["Refund"]) == [500, 700]
    assert deliver(api, raw, header).data["outcome"] == "duplicate"


# --- POST /orders/{id}/cancel (checkout's other Stripe + DynamoDB step) ----------------------------------
@pytest.mark.parametrize("where", ["stripe-cancel", "ddb-write"])
def test_cancel_failure_is_503_and_the_retry_cancels(api, stub, where):
    app = publish_app(api, "vendor")
    order = place_order(api, "carol", [app["listing_id"]]).data
    pi_id = order["payment"]["payment_intent_id"]
    before = table_rows()
    faults = DdbFaults()
    if where == "stripe-cancel":
        stub.fail("POST", f"/v1/payment_intents/{pi_id}/cancel", "500", times=3)
    else:
        faults.fail("TransactWriteItems", nth=1)
    with faults:
        failed = api.post(f"/orders/{order['order_id']}/cancel", {}, sub="carol")
    assert_error(failed, 503, "upstream_unavailable")
    assert_unchanged(before)
    retried = api.post(f"/orders/{order['order_id']}/cancel", {}, sub="carol")
    assert retried.status_code == 200 and retried.data["status"] == "canceled", retried.body
    assert stub.state.intents[pi_id]["status"] == "canceled"
    assert_checkout_consistent(stub)


# --- the local stage's Connect sandbox: its own DynamoDB calls inside the payout run -------------------
@pytest.fixture
def sandbox_api(client):
    """The payee of `earned_partner`, but paid through `ConnectSandbox` (state in the table) as locally."""
    from datetime import timedelta

    from chalicelib.core import clock
    from chalicelib.db.transact import transaction
    from chalicelib.core.identity import Principal
    from chalicelib.ledger import recorder
    from chalicelib.partners import service as partners
    from chalicelib.payouts import accounts
    from chalicelib.payouts.gateway import use_connect
    from chalicelib.payouts.sandbox import ConnectSandbox, onboarding_token
    from tests.factories import Api, line, order, part
    from tests.faults.conftest import T0

    sandbox = ConnectSandbox()
    use_connect(sandbox)
    clock.set_now(lambda: T0)
    user = Principal("payee", email="payee@example.com")
    pid = partners.apply(user=user, display_name="Payee", contact_email="payee@example.com",
                         country="DE").partner_id
    partners.decide(admin=Principal("admin-1", groups=frozenset({"admin"})), partner_id=pid, action="approve")
    body, _ = accounts.create_payout_account(user=user, base_url="http://x", gateway=sandbox)
    account_id = body["stripe_account_id"]
    sandbox.complete_onboarding(account_id, onboarding_token(account_id))
    accounts.apply_account_update(account_id, payouts_enabled=True)
    with transaction() as tx:
        recorder.record_sale(tx, order(line(part(pid, 10000, 2000)), currency="usd"))
    clock.set_now(lambda: T0 + timedelta(days=15))
    yield Api(client)
    clock.set_now(None)
    use_connect(None)


@pytest.mark.parametrize("operation,nth,code", [
    pytest.param("GetItem", 6, THROTTLING, id="sandbox-account-read-throttled"),
    pytest.param("TransactWriteItems", 4, THROTTLING, id="sandbox-transfer-write-throttled"),
    pytest.param("TransactWriteItems", 4, TRANSACTION_CONFLICT, id="sandbox-transfer-write-conflict"),
])
def test_sandbox_transfer_ddb_failure_is_redelivered_and_pays_once(sandbox_api, monkeypatch, operation, nth, code):
    """The sandbox's own calls come after the batch job's reads and the payout's opening (#3). A failed write
    inside the sandbox is an unknown outcome: the batch asks again (here without the real backoff)."""
    from chalicelib.payouts import model

    monkeypatch.setattr(model, "unknown_outcome_delay", lambda attempt: 0)
    with DdbFaults().fail(operation, nth=nth, code=code) as faults:
        started = _start_and_work(sandbox_api)
    assert faults.fired == 1 and started.status_code == 202, started.body
    run = sandbox_api.get(f"/finance/payout-runs/{started.data['payout_run_id']}", **FINANCE).data
    assert run["status"] == "completed" and run["progress"]["paid"] == 1, run
    kinds = by_kind(table_rows())
    assert [p["status"] for p in kinds["Payout"]] == ["paid"]
    assert [int(t["amount"]) for t in kinds["SandboxTransfer"]] == [8000]
    assert int(kinds["Balance"][0]["paid_out"]) == 8000 and not kinds["Balance"][0].get("open_payout")
