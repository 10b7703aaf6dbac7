"""Reconciliation as a queued job under moto against a fake Stripe listing: one discrepancy of each kind, and
none; paging one Stripe page per step; a worker killed mid-way, duplicate deliveries; date or timestamp
windows."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from chalicelib.core import clock
from chalicelib.core.errors import InvalidState, ValidationFailed
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.reconciliation import repository, service, steps
from chalicelib.reconciliation.sources import use_listing
from chalicelib.reconciliation.window import window
from tests.factories import line, order, part, refund
from tests.fakes import FakeStripeListing

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
CREATED = int(T0.timestamp())
OCTOBER = window("2026-10-01", "2026-10-31")


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.set_now(lambda: T0)
    yield
    clock.set_now(None)
    use_listing(None)


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


def reconcile(stripe, jobs, w=OCTOBER):
    use_listing(stripe)
    recon = service.start(actor="fin", w=w)
    assert recon.status == "queued"
    jobs()
    return repository.get_reconciliation(recon.recon_id, consistent=True)


def test_clean_period_has_no_discrepancies(jobs):
    recon = reconcile(clean_world(), jobs)
    result = recon.to_dict()
    assert result["status"] == "completed" and result["matched"] == 3 and result["stripe_objects"] == 4
    assert result["counts"] == {k: 0 for k in ("missing_in_ledger", "missing_in_stripe", "amount_mismatch",
                                                 "status_mismatch")}
    assert list(service.discrepancies(recon.recon_id)) == []


def test_one_of_each_discrepancy_is_found(jobs):
    stripe = clean_world()
    stripe.add("payment", "pi_stranger", 700, created=CREATED)          # Stripe has it, the ledger does not
    sale("pi_ghost", 400)                                                 # the ledger has it, Stripe does not
    o = sale("pi_3", 2000)
    stripe.add("payment", "pi_3", 2000, created=CREATED)
    refunded(o, 500, "re_2")
    stripe.add("refund", "re_2", 600, created=CREATED)                   # amounts differ
    paid_payout("po_2", "tr_2", 800)
    stripe.add("transfer", "tr_2", 800, status="reversed", created=CREATED)  # statuses differ
    recon = reconcile(stripe, jobs)
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
    rows = list(csv.reader(io.StringIO(service.as_csv(recon))))
    assert rows[0][:3] == ["kind", "object", "currency"] and len(rows) == 5
    amount_row = next(r for r in rows if r[0] == "amount_mismatch")
    assert (amount_row[4], amount_row[7]) == ("6.00", "5.00")


def test_stripe_object_created_outside_the_period_is_not_missing(jobs):
    stripe = FakeStripeListing()
    sale("pi_late", 1000)  # recorded in October, created by Stripe on 30 September
    stripe.add("payment", "pi_late", 1000, created=CREATED - 2 * 86400)
    recon = reconcile(stripe, jobs)
    assert recon.to_dict()["matched"] == 1 and list(service.discrepancies(recon.recon_id)) == []


def test_one_stripe_page_per_step_and_the_csv_waits_for_completion(jobs, monkeypatch):
    stripe = FakeStripeListing(page_size=10)
    for i in range(35):
        stripe.add("payment", f"pi_x{i:03d}", 100, created=CREATED)  # none in the ledger
    monkeypatch.setattr(steps, "PAGES_PER_JOB", 1)
    use_listing(stripe)
    recon = service.start(actor="fin", w=OCTOBER)
    with pytest.raises(InvalidState):
        service.as_csv(recon)
    handled = jobs()
    recon = repository.get_reconciliation(recon.recon_id, consistent=True)
    assert recon.status == "completed" and recon.to_dict()["counts"]["missing_in_ledger"] == 35
    # 4 payment pages, 1 each of refunds, transfers, ledger; one message per step
    assert handled == 7 and int(recon.step) == 7
    assert [int(item.data["stripe_amount"]) for item in service.discrepancies(recon.recon_id)] == [100] * 35


class Crash(Exception):
    pass


@pytest.mark.parametrize("after", [1, 3, 5])
def test_a_worker_killed_mid_way_and_duplicate_deliveries_count_everything_once(jobs, monkeypatch, after):
    from app import jobs_worker

    stripe = clean_world()
    for i in range(5):
        stripe.add("payment", f"pi_y{i}", 100, created=CREATED)
    monkeypatch.setattr(steps, "PAGES_PER_JOB", 2)
    original = repository.write_rows
    calls = {"n": 0}

    def dying(rows):
        original(rows)
        calls["n"] += 1
        if calls["n"] == after:
            raise Crash("killed after writing a page's rows, before committing it")

    monkeypatch.setattr(repository, "write_rows", dying)

    def twice(event, context):
        jobs_worker(event, context)
        return jobs_worker(event, context)

    use_listing(stripe)
    recon = service.start(actor="fin", w=OCTOBER)
    jobs(twice)
    recon = repository.get_reconciliation(recon.recon_id, consistent=True)
    assert recon.status == "completed"
    assert recon.to_dict()["counts"]["missing_in_ledger"] == 5 and recon.to_dict()["matched"] == 3
    assert len(list(service.discrepancies(recon.recon_id))) == 5


def test_windows_take_dates_or_timestamps():
    day = window("2026-10-01", "2026-10-01")
    assert (day.gte, day.lt) == (int(datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp()),
                                 int(datetime(2026, 10, 2, tzinfo=timezone.utc).timestamp()))
    assert day.to_dict() == {"from": "2026-10-01T00:00:00.000Z", "to": "2026-10-01T23:59:59.999Z"}
    hours = window("2026-10-01T10:00:00Z", "2026-10-01T11:30:00+01:00")
    assert hours.to_dict() == {"from": "2026-10-01T10:00:00.000Z", "to": "2026-10-01T10:30:00.000Z"}
    assert hours.lt - hours.gte == 1801
    for bad in (("2026-10-02", "2026-10-01"), ("yesterday", "2026-10-01"), ("2026-10-01", "2026-13-01"),
                ("2016-01-01", "2026-10-01T00:00:00Z"), ("0001-01-01", "0001-01-02"),
                ("9999-12-31", "9999-12-31"), ("2026-10-01T10:00:00Z", "2026-10-01T10:00:60Z")):
        with pytest.raises(ValidationFailed):
            window(*bad)


def test_a_timestamp_window_leaves_out_what_came_before(jobs):
    stripe = FakeStripeListing()
    sale("pi_in", 1000)
    stripe.add("payment", "pi_in", 1000, created=CREATED)
    stripe.add("payment", "pi_before", 500, created=CREATED - 3600)
    recon = reconcile(stripe, jobs, window("2026-10-01T11:30:00Z", "2026-10-01T12:30:00Z"))
    assert recon.to_dict()["matched"] == 1 and list(service.discrepancies(recon.recon_id)) == []
