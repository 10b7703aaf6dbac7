"""Property: whatever happens (sales, partial refunds, payouts paid or failed, adjustments), every partner
balance row equals a recomputation from the journal, every entry balances, and pending never exceeds it."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib.db import keys
from chalicelib.db.table import MarketItem, create_table
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.balances import balance_of
from chalicelib.ledger.journal import JournalItem, PostingItem
from chalicelib.ledger.rules import allocate_refund, partner_account
from chalicelib.orders.model import apply_refund
from tests.factories import line, order, part, refund

PARTNERS = ("ptn_a", "ptn_b", "ptn_c")

sale_st = st.lists(st.tuples(st.sampled_from(PARTNERS), st.integers(1, 20_000), st.integers(0, 10_000)),
                   min_size=1, max_size=3).map(lambda ps: ("sale", ps))
refund_st = st.tuples(st.just("refund"), st.integers(0, 50), st.one_of(st.none(), st.integers(1, 20_000)))
payout_st = st.tuples(st.just("payout"), st.sampled_from(PARTNERS), st.booleans())
adjust_st = st.tuples(st.just("adjust"), st.sampled_from(PARTNERS), st.integers(-5000, 5000).filter(bool))


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(sale_st, refund_st, payout_st, adjust_st), min_size=1, max_size=10))
def test_balances_always_equal_a_recomputation_from_the_journal(events):
    with mock_aws():
        MarketItem._connection = None
        create_table()
        orders = []
        for n, event in enumerate(events):
            kind = event[0]
            if kind == "sale":
                o = order(line(*[part(p, a, b) for p, a, b in event[1]]))
                with transaction() as tx:
                    recorder.record_sale(tx, o)
                orders.append(o)
            elif kind == "refund" and orders:
                index = event[1] % len(orders)
                o = orders[index]
                if o.refundable <= 0:
                    continue
                amount = None if event[2] is None else min(event[2], o.refundable)
                r = refund(o, allocate_refund(o, amount, None))
                with transaction() as tx:
                    recorder.record_refund(tx, o, r)
                orders[index] = apply_refund(o, r, at="x")
            elif kind == "payout":
                bal = balance_of(event[1], "usd")
                if bal.balance <= 0:
                    continue
                pid = f"po_{n}"
                with transaction() as tx:
                    recorder.record_payout(tx, payout_id=pid, partner_id=event[1], currency="usd",
                                           amount=bal.balance, run_id=None)
                with transaction() as tx:
                    if event[2]:
                        recorder.record_payout_paid(tx, payout_id=pid, partner_id=event[1], currency="usd",
                                                    amount=bal.balance, transfer_id=f"tr_{n}")
                    else:
                        recorder.record_payout_failed(tx, payout_id=pid, partner_id=event[1], currency="usd",
                                                      amount=bal.balance, reason="refused")
            elif kind == "adjust":
                with transaction() as tx:
                    recorder.record_adjustment(tx, adjustment_id=f"a{n}", partner_id=event[1], currency="usd",
                                               amount=event[2], reason="test")
        for header in JournalItem.gsi1.query(keys.JOURNAL_ALL_PK):
            assert sum(l["debit"] - l["credit"] for l in header.lines) == 0
        for pid in PARTNERS:
            postings = list(PostingItem.query(keys.account_pk(partner_account(pid, "usd"))))
            bal = balance_of(pid, "usd")
            assert bal.balance == -sum(int(p.amount) for p in postings)
            assert 0 <= bal.pending <= max(bal.balance, 0)
        MarketItem._connection = None
