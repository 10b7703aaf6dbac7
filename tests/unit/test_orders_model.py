"""Pure order rules: refunds move totals and status, complete lines, grants; idempotency hashing; the seam."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.errors import Conflict, ValidationFailed
from chalicelib.orders import model
from chalicelib.db.idempotency import Answer, IdempotencyKey, replay, request_hash
from chalicelib.orders.model import LinePart, Order, OrderLine, Refund
from chalicelib.orders import money_seam


def make_order(prices=(1000, 3000), status=model.PAID, refunded=()) -> Order:
    lines = []
    for i, price in enumerate(prices, start=1):
        done = refunded[i - 1] if refunded else 0
        if i == 2:
            parts = (LinePart("a2", "p2", price // 2, 2000), LinePart("a3", "p3", price - price // 2, 1500))
            lines.append(OrderLine(f"L{i}", f"b{i}", "bundle", "Bundle", price, parts, done))
        else:
            lines.append(OrderLine(f"L{i}", f"a{i}", "app", "App", price, (LinePart(f"a{i}", "p1", price, 2000),), done))
    return Order("ord_1", "carol", "usd", sum(prices), status, tuple(lines), "pi_1", "2026-11-22T10:00:00.000Z",
                 refunded=sum(refunded))


def refund_of(order, line_amounts):
    return Refund("ref_1", order.order_id, sum(line_amounts.values()), line_amounts, "re_1", "x", "t")


def test_grants_expand_bundles_to_their_apps():
    order = make_order()
    assert model.granted_listings(order) == {"a1": "L1", "b2": "L2", "a2": "L2", "a3": "L2"}


@pytest.mark.parametrize("amounts,status,completed", [
    ({"L1": 500}, model.PARTIALLY_REFUNDED, []),
    ({"L1": 1000}, model.PARTIALLY_REFUNDED, ["L1"]),
    ({"L1": 1000, "L2": 3000}, model.REFUNDED, ["L1", "L2"]),
])
def test_apply_refund_moves_totals_status_and_completes_lines(amounts, status, completed):
    order = make_order()
    refund = refund_of(order, amounts)
    after = model.apply_refund(order, refund, at="t")
    assert after.status == status
    assert after.refunded == sum(amounts.values())
    assert [line.line_id for line in model.lines_completed_by(order, refund)] == completed
    assert all(line.refunded == amounts.get(line.line_id, 0) for line in after.lines)


def test_a_refund_during_a_dispute_keeps_the_order_disputed():
    order = make_order(status=model.DISPUTED)
    assert model.apply_refund(order, refund_of(order, {"L1": 10}), at="t").status == model.DISPUTED


def test_status_sets():
    assert model.PAID not in model.PAYABLE and model.FAILED in model.PAYABLE
    assert model.DISPUTED not in model.REFUNDABLE


def test_allocation_spreads_over_lines_and_refuses_over_refunds():
    allocate = money_seam.allocate_refund
    order = make_order()
    assert allocate(order, 1000, None) == {"L1": 250, "L2": 750}
    assert allocate(order, None, ["b2"]) == {"L2": 3000}
    assert allocate(order, None, None) == {"L1": 1000, "L2": 3000}
    with pytest.raises(Conflict):
        allocate(order, 4001, None)
    with pytest.raises(Conflict):
        allocate(order, 1001, ["a1"])
    with pytest.raises(ValidationFailed):
        allocate(order, None, ["zz"])


@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=5), st.data())
def test_allocation_never_exceeds_what_each_line_has_left(prices, data):
    prices = tuple(prices) + (0,) * 0
    done = tuple(data.draw(st.integers(0, p)) for p in prices)
    lines = tuple(OrderLine(f"L{i}", f"a{i}", "app", "A", p, (LinePart(f"a{i}", "p", p, 0),), d)
                  for i, (p, d) in enumerate(zip(prices, done)))
    order = Order("o", "c", "usd", sum(prices), model.PARTIALLY_REFUNDED, lines, "pi", "t", refunded=sum(done))
    left = order.refundable
    if left == 0:
        return
    amount = data.draw(st.integers(1, left))
    alloc = money_seam.allocate_refund(order, amount, None)
    assert sum(alloc.values()) == amount
    assert all(0 <= alloc.get(line.line_id, 0) <= line.refundable for line in lines)


def test_idempotency_hash_ignores_key_order_but_not_values():
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})
    assert request_hash({"a": 1}, target="POST /orders") != request_hash({"a": 1}, target="POST /x")


def test_replay_of_a_different_body_is_a_conflict():
    from chalicelib.core.errors import IdempotencyConflict

    key = IdempotencyKey("orders", "carol", "k", request_hash({"a": 1}))
    assert replay(None, key) is None

    class Stored:
        request_hash, status, response = key.request_hash, 201, {"order_id": "o"}

    assert replay(Stored, key) == Answer(201, {"order_id": "o"}, replayed=True)
    assert replay(Stored, key).headers == {"Idempotent-Replayed": "true"}
    Stored.request_hash = "other"
    with pytest.raises(IdempotencyConflict):
        replay(Stored, key)


def test_orders_that_cannot_be_paid_in_one_transaction_are_refused():
    from chalicelib.orders.model import fits_one_transaction as _fits_one_transaction

    def bundle(n, partners):
        parts = tuple(LinePart(f"a{n}-{i}", f"p{i % partners}", 10, 2000) for i in range(10))
        return OrderLine(f"L{n}", f"b{n}", "bundle", "B", 100, parts)

    _fits_one_transaction(tuple(bundle(n, 2) for n in range(7)))  # 77 grants, 2 partners: fits
    with pytest.raises(ValidationFailed):
        _fits_one_transaction(tuple(bundle(n, 2) for n in range(9)))  # 99 grants
    with pytest.raises(ValidationFailed):
        _fits_one_transaction(tuple(bundle(n, 10) for n in range(6)))  # 66 grants, 10 partners
