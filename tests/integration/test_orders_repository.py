"""Order rows under moto: the mapping round-trips, stale writes are refused by key, indexes find orders."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.db import keys
from chalicelib.orders import model, repository
from chalicelib.orders.model import LinePart, Order, OrderLine, Refund
from chalicelib.db.transact import ConditionsFailed, transaction


def make(order_id="ord_r1", sub="carol", created="2026-11-22T10:00:00.000Z", pi="pi_r1") -> Order:
    line = OrderLine("L1", "b1", "bundle", "Suite", 2999,
                     (LinePart("a1", "p1", 1000, 2000), LinePart("a2", "p2", 1999, 1500)))
    return Order(order_id, sub, "eur", 2999, model.PENDING_PAYMENT, (line,), pi, created,
                 client_secret="sec", updated_at=created)


def test_round_trip_and_lookup_by_payment_intent(ddb):
    order = make()
    with transaction() as tx:
        repository.put_new(tx, order)
    assert repository.get(order.order_id) == order
    assert repository.by_payment_intent("pi_r1") == order
    assert repository.by_payment_intent("pi_other") is None


def test_a_write_from_a_stale_read_is_refused_naming_the_order_row(ddb):
    order = make()
    with transaction() as tx:
        repository.put_new(tx, order)
    paid = replace(order, status=model.PAID, version=1)
    with transaction() as tx:
        repository.put_changed(tx, paid, read_version=0)
    with pytest.raises(ConditionsFailed) as caught:
        with transaction() as tx:
            repository.put_changed(tx, replace(order, status=model.FAILED, version=1), read_version=0)
    assert caught.value.hit(keys.order_pk(order.order_id), keys.ORDER_SK)
    assert repository.get(order.order_id).status == model.PAID
    with pytest.raises(ConditionsFailed):
        with transaction() as tx:
            repository.put_new(tx, order)


def test_refunds_are_read_with_their_order_and_a_stripe_refund_counts_once(ddb):
    order = make()
    refund = Refund("ref_1", order.order_id, 500, {"L1": 500}, "re_1", "asked", "2026-11-22T11:00:00.000Z", "admin")
    with transaction() as tx:
        repository.put_new(tx, order)
        repository.put_refund(tx, refund)
    found, refunds = repository.get_with_refunds(order.order_id)
    assert found == order and refunds == [refund]
    with pytest.raises(ConditionsFailed) as caught:
        with transaction() as tx:
            repository.put_refund(tx, replace(refund, refund_id="ref_2"))
    assert caught.value.hit(keys.stripe_refund_pk("re_1"))


def test_customer_lists_are_newest_first_and_separate(ddb):
    for n, created in enumerate(["2026-11-20T10:00:00.000Z", "2026-11-22T10:00:00.000Z", "2026-11-21T10:00:00.000Z"]):
        with transaction() as tx:
            repository.put_new(tx, make(f"ord_l{n}", created=created, pi=f"pi_l{n}"))
    with transaction() as tx:
        repository.put_new(tx, make("ord_other", sub="dave", pi="pi_o"))
    page = repository.list_for_customer("carol", limit=10, cursor=None, scope="t")
    assert [i.order_id for i in page.items] == ["ord_l1", "ord_l2", "ord_l0"]
    assert [i.order_id for i in repository.list_all(limit=10, cursor=None, scope="t").items][-1] == "ord_l0"
