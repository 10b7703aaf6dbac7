"""The recorder under moto: balanced journals, exactly-once events, balances equal to a recomputation."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState
from chalicelib.db import keys
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.balances import balance_of
from chalicelib.ledger.journal import JournalItem, PostingItem
from chalicelib.ledger.rules import allocate_refund, partner_account
from tests.factories import cross_partner_bundle, line, order, part, refund


def journaled_balance(partner_id: str, currency: str) -> int:
    """What the partner is owed, recomputed from every posting of its account (tests only)."""
    return -sum(int(p.amount) for p in PostingItem.query(keys.account_pk(partner_account(partner_id, currency))))


def all_headers() -> list[JournalItem]:
    return list(JournalItem.gsi1.query(keys.JOURNAL_ALL_PK))


def test_sale_journals_balanced_entry_and_partner_counters(ddb):
    o = cross_partner_bundle()
    with transaction() as tx:
        entry = recorder.record_sale(tx, o)
    assert entry.balanced
    [header] = all_headers()
    assert sum(l["debit"] - l["credit"] for l in header.lines) == 0
    # bundle 2999: a=750 (fee 150, net 600), b=2249 (fee 337, net 1912); app a=1000 (fee 200, net 800)
    a, b = balance_of("ptn_a", "usd"), balance_of("ptn_b", "usd")
    assert (a.balance, a.pending, a.available) == (1400, 1400, 0)
    assert (b.balance, b.pending) == (1912, 1912)
    assert a.totals["sales_gross"] == 1750 and a.totals["sales_fees"] == 350
    assert journaled_balance("ptn_a", "usd") == 1400
    # every partner line says where it came from
    partner_lines = [l for l in header.lines if l["account"].startswith("partner:")]
    assert all({"order_id", "line_id", "part_amount", "commission_bps"} <= set(l["source"]) for l in partner_lines)


def test_a_sale_is_journaled_once(ddb):
    o = order()
    with transaction() as tx:
        recorder.record_sale(tx, o)
    with pytest.raises(Conflict):
        with transaction() as tx:
            recorder.record_sale(tx, o)
    assert balance_of("ptn_a", "usd").balance == 800
    assert len(all_headers()) == 1


def test_free_order_records_nothing(ddb):
    o = order(line(part(amount=0)))
    with transaction() as tx:
        assert recorder.record_sale(tx, o) is None
    assert all_headers() == []


def test_partial_then_final_refund_returns_partner_to_zero(ddb):
    o = cross_partner_bundle()
    with transaction() as tx:
        recorder.record_sale(tx, o)
    first = refund(o, allocate_refund(o, 1001, None))
    with transaction() as tx:
        recorder.record_refund(tx, o, first)
    from chalicelib.orders.model import apply_refund
    after = apply_refund(o, first, at="2026-11-22T12:00:00.000Z")
    rest = refund(after, allocate_refund(after, None, None))
    with transaction() as tx:
        recorder.record_refund(tx, after, rest)
    for pid in ("ptn_a", "ptn_b"):
        bal = balance_of(pid, "usd")
        assert bal.balance == 0 == journaled_balance(pid, "usd")
        assert bal.totals["sales_net"] == bal.totals["refunds_net"]
        assert bal.totals["sales_fees"] == bal.totals["refunds_fees"]
    # over-refunding after everything went back is refused by the ledger too
    with pytest.raises(Conflict):
        with transaction() as tx:
            recorder.record_refund(tx, after, refund(after, {o.lines[0].line_id: 1}))


def test_refund_without_recorded_sale_is_invalid_state(ddb):
    o = order()
    with pytest.raises(InvalidState):
        with transaction() as tx:
            recorder.record_refund(tx, o, refund(o, {o.lines[0].line_id: 100}))


def test_same_refund_twice_is_refused(ddb):
    o = order()
    with transaction() as tx:
        recorder.record_sale(tx, o)
    r = refund(o, {o.lines[0].line_id: 100})
    with transaction() as tx:
        recorder.record_refund(tx, o, r)
    with pytest.raises(Conflict):
        with transaction() as tx:
            recorder.record_refund(tx, o, r)
    assert balance_of("ptn_a", "usd").balance == 800 - 80


def test_hold_moves_earnings_to_available_after_hold_days(ddb):
    o = order()
    with transaction() as tx:
        recorder.record_sale(tx, o)
    today = clock.today()
    assert balance_of("ptn_a", "usd", today=today).available == 0
    assert balance_of("ptn_a", "usd", today=today + timedelta(days=13)).pending == 800
    later = balance_of("ptn_a", "usd", today=today + timedelta(days=14))
    assert (later.pending, later.available) == (0, 800)


def test_dispute_opened_and_closed_stays_on_platform_accounts(ddb):
    o = order()
    with transaction() as tx:
        recorder.record_sale(tx, o)
    with transaction() as tx:
        recorder.record_dispute(tx, o, dispute_id="dp_1", amount=1000, opened=True)
    with transaction() as tx:
        recorder.record_dispute(tx, o, dispute_id="dp_1", amount=1000, opened=False)
    with pytest.raises(Conflict):
        with transaction() as tx:
            recorder.record_dispute(tx, o, dispute_id="dp_1", amount=1000, opened=True)
    assert balance_of("ptn_a", "usd").balance == 800
    kinds = sorted(h.txn_kind for h in all_headers())
    assert kinds == ["dispute_closed", "dispute_opened", "sale"]


def test_concurrent_style_sales_add_up_exactly(ddb):
    orders = [order(line(part("ptn_a", 333 + i, 2500))) for i in range(12)]
    for o in orders:
        with transaction() as tx:
            recorder.record_sale(tx, o)
    bal = balance_of("ptn_a", "usd")
    assert bal.balance == journaled_balance("ptn_a", "usd")
    assert bal.totals["sales_gross"] == sum(o.total for o in orders)
