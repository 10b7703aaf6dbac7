"""Refund allocation and reversal rules, by example and by property."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import Conflict, ValidationFailed
from chalicelib.core.money import capped_largest_remainder
from chalicelib.ledger import rules
from chalicelib.orders.model import apply_refund
from tests.factories import cross_partner_bundle, line, order, part, refund


def test_sale_entry_splits_fee_and_net_half_up():
    o = cross_partner_bundle()
    entry, effects = rules.sale_entry(o, rules.sale_state(o))
    assert entry.balanced and entry.txn_id == f"sale-{o.order_id}"
    by_partner = {e.partner_id: e.counters for e in effects}
    assert by_partner["ptn_a"]["sales_fees"] == 150 + 200
    assert by_partner["ptn_b"]["sales_fees"] == 337  # 2249 * 15% = 337.35 -> 337
    assert sum(c["sales_gross"] for c in by_partner.values()) == o.total


def test_allocate_refund_in_proportion_to_prices():
    o = order(line(part(amount=3000)), line(part(amount=1000)))
    assert list(allocate(o, 1000).values()) == [750, 250]
    assert list(allocate(o, 1).values()) == [1]


def allocate(o, amount, listing_ids=None):
    return rules.allocate_refund(o, amount, listing_ids)


def test_allocate_refund_by_listing_and_whole_remaining():
    o = order(line(part(amount=3000)), line(part(amount=1000)))
    second = o.lines[1]
    assert allocate(o, None, [second.listing_id]) == {second.line_id: 1000}
    assert allocate(o, None) == {o.lines[0].line_id: 3000, second.line_id: 1000}


def test_allocate_refund_refuses_over_refund_and_bad_input():
    o = order(line(part(amount=500)))
    with pytest.raises(Conflict):
        allocate(o, 501)
    with pytest.raises(ValidationFailed):
        allocate(o, 10, ["lst_unknown"])
    with pytest.raises(ValidationFailed):
        allocate(o, 0)
    done = apply_refund(o, refund(o, {o.lines[0].line_id: 500}), at="x")
    with pytest.raises(Conflict):
        allocate(done, None)


def test_allocation_skips_lines_already_refunded():
    o = order(line(part(amount=1000)), line(part(amount=1000)))
    first = apply_refund(o, refund(o, {o.lines[0].line_id: 1000}), at="x")
    assert allocate(first, 600) == {o.lines[1].line_id: 600}


def test_completing_refund_reverses_exactly_the_remainder():
    # part 10 at 50%: fee 5. Ten refunds of 1 would each reverse a half-up fee of 1 without the cap.
    o = order(line(part(amount=10, bps=5000)))
    state = rules.sale_state(o)
    fees = nets = 0
    for _ in range(10):
        entry, effects, state = rules.refund_entry(o.order_id, "usd", state, refund(o, {o.lines[0].line_id: 1}))
        fees += effects[0].counters["refunds_fees"]
        nets += effects[0].counters["refunds_net"]
    assert (fees, nets) == (5, 5)


def test_capped_largest_remainder_respects_caps():
    assert capped_largest_remainder(10, [1, 1, 1], [0, 10, 10]) == [0, 5, 5]
    assert capped_largest_remainder(5, [3, 1], [2, 10]) == [2, 3]
    with pytest.raises(ValueError):
        capped_largest_remainder(5, [1], [4])


parts_st = st.lists(st.tuples(st.sampled_from(["ptn_a", "ptn_b", "ptn_c"]), st.integers(0, 50_000),
                              st.integers(0, 10_000)), min_size=1, max_size=4)
orders_st = st.lists(parts_st, min_size=1, max_size=4).filter(
    lambda ls: sum(a for ps in ls for _, a, _ in ps) > 0
).map(lambda ls: order(*[line(*[part(p, a, b) for p, a, b in ps]) for ps in ls]))


@settings(max_examples=150, deadline=None)
@given(orders_st, st.lists(st.integers(1, 40_000), max_size=8))
def test_any_sequence_of_partial_refunds_never_exceeds_the_sale_and_full_refund_reverses_exactly(o, amounts):
    state = rules.sale_state(o)
    sale, sale_effects = rules.sale_entry(o, state)
    assert sale.balanced
    current = o
    totals: dict[str, dict[str, int]] = {}
    for amount in [*amounts, None]:  # finish with "refund everything left"
        left = current.total - sum(ln.refunded for ln in current.lines)
        if left == 0:
            break
        if amount is not None and amount > left:
            with pytest.raises(Conflict):
                rules.allocate_refund(current, amount, None)
            continue
        split = rules.allocate_refund(current, amount, None)
        assert sum(split.values()) == (amount if amount is not None else left)
        assert all(v > 0 for v in split.values())
        r = refund(current, split)
        entry, effects, state = rules.refund_entry(o.order_id, "usd", state, r)
        assert entry.balanced
        for e in effects:
            assert all(e.counters[k] >= 0 for k in ("refunds_gross", "refunds_fees", "refunds_net"))
            t = totals.setdefault(e.partner_id, {"refunds_fees": 0, "refunds_net": 0})
            t["refunds_fees"] += e.counters["refunds_fees"]
            t["refunds_net"] += e.counters["refunds_net"]
        current = apply_refund(current, r, at="x")
        for ln in state:
            for p in ln.parts:
                assert 0 <= p.refunded <= p.amount
                assert 0 <= p.fee_refunded <= p.fee and 0 <= p.net_refunded <= p.net
    sold = {e.partner_id: e.counters for e in sale_effects}
    for pid, t in totals.items():
        assert t["refunds_fees"] == sold[pid]["sales_fees"]
        assert t["refunds_net"] == sold[pid]["sales_net"]


@given(st.integers(0, 10**7), st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 10**6)), min_size=1, max_size=10))
def test_capped_split_sums_exactly_within_caps(total, pairs):
    weights, caps = [w for w, _ in pairs], [c for _, c in pairs]
    total = min(total, sum(caps))
    parts = capped_largest_remainder(total, weights, caps)
    assert sum(parts) == total
    assert all(0 <= p <= c for p, c in zip(parts, caps))
