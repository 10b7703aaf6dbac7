"""Reconciliation under moto against a fake Stripe listing: one discrepancy of each kind, and none."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from chalicelib.core import clock
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.statements import Period
from chalicelib.reconciliation import service
from tests.factories import line, order, part, refund
from tests.fakes import FakeStripeListing

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
CREATED = int(T0.timestamp())
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.set_now(lambda: T0)
    yield
    clock.set_now(None)


def sale(pi: str, amount: int = 1000):
    o = order(line(part("ptn_a", amount, 2000)), pi=pi)
    with transaction() as tx:
        recorder.record_sale(tx, o)
    return o


def refunded(o, amount: int, stripe_id: str):
    r = refund(o, {o.lines[0].line_id: amount}, stripe=stripe_id)
    with transaction() as tx:
        recorder.record_refund(tx, o, r)


def paid_payout(payout_id: str, transfer_id: str, amount: int):
    with transaction() as tx:
        recorder.record_payout(tx, payout_id=payout_id, partner_id="ptn_a", currency="usd", amount=amount, run_id=None)
    with transaction() as tx:
        recorder.record_payout_paid(tx, payout_id=payout_id, partner_id="ptn_a", currency="usd", amount=amount,
                                    transfer_id=transfer_id)


def clean_world() -> FakeStripeListing:
    stripe = FakeStripeListing(page_size=2)
    o = sale("pi_1", 1000)
    stripe.add("payment", "pi_1", 1000, created=CREATED)
    refunded(o, 300, "re_1")
    stripe.add("refund", "re_1", 300, created=CREATED)
    paid_payout("po_1", "tr_1", 500)
    stripe.add("transfer", "tr_1", 500, created=CREATED)
    stripe.add("payment", "pi_abandoned", 999, status="requires_payment_method", created=CREATED)
    return stripe


def test_clean_period_has_no_discrepancies(ddb):
    stripe = clean_world()
    recon = service.reconcile(actor="fin", p=OCTOBER, listing=stripe)
    result = recon.to_dict()
    assert result["matched"] == 3
    assert result["counts"] == {k: 0 for k in ("missing_in_ledger", "missing_in_stripe", "amount_mismatch",
                                                 "status_mismatch")}
    assert list(service.discrepancies(recon.recon_id)) == []


def test_one_of_each_discrepancy_is_found(ddb):
    stripe = clean_world()
    stripe.add("payment", "pi_stranger", 700, created=CREATED)          # Stripe has it, the ledger does not
    sale("pi_ghost", 400)                                                 # the ledger has it, Stripe does not
    o = sale("pi_3", 2000)
    stripe.add("payment", "pi_3", 2000, created=CREATED)
    refunded(o, 500, "re_2")
    stripe.add("refund", "re_2", 600, created=CREATED)                   # amounts differ
    paid_payout("po_2", "tr_2", 800)
    stripe.add("transfer", "tr_2", 800, status="reversed", created=CREATED)  # statuses differ
    recon = service.reconcile(actor="fin", p=OCTOBER, listing=stripe)
    found = {item.data["kind"]: item.data for item in service.discrepancies(recon.recon_id)}
    assert set(found) == {"missing_in_ledger", "missing_in_stripe", "amount_mismatch", "status_mismatch"}
    assert (found["missing_in_ledger"]["stripe_id"], found["missing_in_ledger"]["stripe_amount"],
            found["missing_in_ledger"]["ledger_amount"]) == ("pi_stranger", 700, None)
    assert (found["missing_in_stripe"]["stripe_id"], found["missing_in_stripe"]["ledger_amount"],
            found["missing_in_stripe"]["stripe_amount"]) == ("pi_ghost", 400, None)
    assert found["missing_in_stripe"]["ledger_txn_id"].startswith("sale-")
    assert (found["amount_mismatch"]["stripe_amount"], found["amount_mismatch"]["ledger_amount"]) == (600, 500)
    assert (found["status_mismatch"]["stripe_status"], found["status_mismatch"]["ledger_status"]) == ("reversed", "paid")
    assert recon.to_dict()["matched"] == 4  # pi_1, re_1, tr_1, pi_3
    rows = list(csv.reader(io.StringIO(service.as_csv(recon.recon_id))))
    assert rows[0][:3] == ["kind", "object", "currency"] and len(rows) == 5
    amount_row = next(r for r in rows if r[0] == "amount_mismatch")
    assert (amount_row[4], amount_row[7]) == ("6.00", "5.00")


def test_stripe_object_created_outside_the_period_is_not_missing(ddb):
    stripe = FakeStripeListing()
    sale("pi_late", 1000)  # recorded in October, created by Stripe on 30 September
    stripe.add("payment", "pi_late", 1000, created=CREATED - 2 * 86400)
    recon = service.reconcile(actor="fin", p=OCTOBER, listing=stripe)
    assert recon.to_dict()["matched"] == 1 and list(service.discrepancies(recon.recon_id)) == []


def test_memory_holds_one_page_whatever_the_period(ddb):
    stripe = FakeStripeListing(page_size=10)
    for i in range(120):
        stripe.add("payment", f"pi_x{i}", 100, created=CREATED)  # none in the ledger
    progress = service.run_passes("rec_test", OCTOBER, stripe)
    assert progress.counts["missing_in_ledger"] == 120
    assert progress.peak_buffer <= service.WRITE_BATCH
