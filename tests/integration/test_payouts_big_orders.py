"""Issue 14, item 5: the biggest order a customer can place is paid, refunded and paid out in single
transactions (DynamoDB's limit is 100 items each).

A sale or refund writes 5 + 3 x partners items; a bundle has at most `MAX_COMPONENTS` (10) components, so one
bundle reaches at most 10 partners (35 ledger items), and an order of several lines that would not fit with
its order rows, entitlements and partner events is refused when it is placed (`orders.model.fits_one_transaction`,
400 naming the items). So a bundle can never be created whose order would not fit, and nothing here has to be
split across transactions. These tests write the largest case for real under moto and count its items.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core import clock
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.vocabulary import MAX_COMPONENTS
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.balances import balance_of
from chalicelib.ledger.rules import allocate_refund
from chalicelib.orders.model import TRANSACTION_LIMIT, fits_one_transaction
from tests.factories import line, order, part, refund

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.set_now(lambda: T0)
    yield
    clock.set_now(None)


def biggest_bundle_order():
    partners = [f"ptn_big{i:02d}" for i in range(MAX_COMPONENTS)]
    bundle = line(*(part(pid, 1000 + i, 2000) for i, pid in enumerate(partners)))
    return partners, order(bundle, pi="pi_big")


def test_the_biggest_bundle_sale_and_its_full_refund_each_fit_one_transaction(ddb):
    partners, o = biggest_bundle_order()
    fits_one_transaction(o.lines)  # placing it is allowed
    with transaction() as tx:
        recorder.record_sale(tx, o)
        sale_items = tx.size
    assert sale_items == 5 + 3 * MAX_COMPONENTS <= TRANSACTION_LIMIT
    with transaction() as tx:
        recorder.record_refund(tx, o, refund(o, allocate_refund(o, None, None), stripe="re_big"))
        refund_items = tx.size
    assert refund_items <= 5 + 3 * MAX_COMPONENTS
    assert all(balance_of(pid, "usd").balance == 0 for pid in partners)


def test_an_order_that_could_not_be_written_at_once_is_refused_when_placed():
    lines = tuple(line(*(part(f"ptn_l{n}_{i}", 1000, 2000) for i in range(MAX_COMPONENTS)), line_id=f"L{n}")
                  for n in range(3))
    with pytest.raises(ValidationFailed) as refused:
        fits_one_transaction(lines)
    assert refused.value.details[0]["field"] == "items"


def test_a_payout_is_two_small_transactions_whatever_the_order_behind_it(ddb):
    partners, o = biggest_bundle_order()
    with transaction() as tx:
        recorder.record_sale(tx, o)
    clock.set_now(lambda: T0 + timedelta(days=20))
    with transaction() as tx:
        recorder.record_payout(tx, payout_id="po_big", partner_id=partners[0], currency="usd", amount=800,
                               run_id=None)
        assert tx.size <= 6
    with transaction() as tx:
        recorder.record_payout_paid(tx, payout_id="po_big", partner_id=partners[0], currency="usd", amount=800,
                                    transfer_id="tr_big")
        assert tx.size <= 7
