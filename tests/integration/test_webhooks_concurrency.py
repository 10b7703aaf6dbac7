"""50 paid orders, each `payment_intent.succeeded` delivered 5 times, shuffled, from 8 threads.

Every order must end paid once (one `order.paid` audit record, one sale in the ledger), every entitlement
must exist once, and partner balances must equal exactly one sale per order.

moto's in-process backend is not safe for concurrent requests (its transaction applies conditions and
writes without a lock), so each DynamoDB call is serialised here: that is DynamoDB's own guarantee (a
request, and a TransactWriteItems in particular, is atomic). What stays concurrent is everything that
matters: the reads, the Stripe calls and the decisions made between separate requests of the
racing deliveries.
"""
from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import botocore.client
import pytest

from chalicelib.core import clock
from chalicelib.core.errors import DomainError
from chalicelib.db import keys
from chalicelib.orders import model, repository
from chalicelib.orders.model import LinePart, Order, OrderLine
from chalicelib.db.transact import transaction
from chalicelib.webhooks import service as webhooks
from tests.factories import signed_event, use_test_secrets
from tests.fakes import FakeGateway

ORDERS, DELIVERIES, THREADS = 50, 5, 8
PARTNERS = [f"ptn_conc{i}" for i in range(5)]


@pytest.fixture
def serialised_dynamodb(ddb, monkeypatch):
    lock = threading.Lock()
    inner = botocore.client.BaseClient._make_api_call

    def one_at_a_time(self, operation, params):
        if self.meta.service_model.service_name != "dynamodb":
            return inner(self, operation, params)
        with lock:
            return inner(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", one_at_a_time)


def _pending_order(gateway: FakeGateway, number: int) -> Order:
    """An order awaiting payment whose PaymentIntent the customer has just paid (not yet stored)."""
    order_id = f"ord_conc{number:03d}"
    partner = PARTNERS[number % len(PARTNERS)]
    listing = f"lst_conc{number:03d}"
    intent = gateway.create_payment_intent(order_id=order_id, amount=1000, currency="usd",
                                           customer_ref="x", idempotency_key=order_id)
    at = clock.now_iso()
    order = Order(order_id=order_id, customer_sub=f"cust{number % 10}", currency="usd", total=1000,
                  status=model.PENDING_PAYMENT, payment_intent_id=intent.payment_intent_id, created_at=at,
                  lines=(OrderLine("L1", listing, "app", f"App {number}", 1000,
                                   (LinePart(listing, partner, 1000, 2000),)),))
    gateway.succeed(intent.payment_intent_id)
    return order


def test_each_order_is_paid_once_and_each_entitlement_exists_once(serialised_dynamodb, monkeypatch):
    use_test_secrets(monkeypatch)
    gateway = FakeGateway()
    orders = [_pending_order(gateway, n) for n in range(ORDERS)]
    # moto copies the whole table for every transaction: store the orders in two rather than fifty.
    for start in range(0, ORDERS, 25):
        with transaction() as tx:
            for order in orders[start:start + 25]:
                repository.put_new(tx, order)
    deliveries = []
    for order in orders:
        raw, header = signed_event("payment_intent.succeeded", {"id": order.payment_intent_id})
        deliveries += [(raw, header)] * DELIVERIES
    random.Random(4).shuffle(deliveries)

    outcomes: list[str] = []
    retried = Counter()
    outcome_lock = threading.Lock()

    def deliver(delivery) -> None:
        # Stripe redelivers whatever was not answered 2xx; do the same until it is.
        for attempt in range(10):
            try:
                result = webhooks.handle(delivery[0], delivery[1], gateway=gateway)
                with outcome_lock:
                    outcomes.append(result["outcome"])
                return
            except DomainError as exc:
                with outcome_lock:
                    retried[exc.code] += 1
        raise AssertionError("a delivery never succeeded")

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(deliver, deliveries))

    counts = Counter(outcomes)
    assert counts["paid"] == ORDERS, (counts, retried)
    assert sum(counts.values()) == ORDERS * DELIVERIES
    assert set(counts) <= {"paid", "duplicate"}, counts

    from chalicelib.audit.repository import AuditItem
    from chalicelib.entitlements.repository import EntitlementItem

    for order in orders:
        stored = repository.get(order.order_id)
        assert stored.status == model.PAID and stored.version == 1
    paid_records = Counter(a.entity_id for a in AuditItem.gsi1.query(keys.AUDIT_ALL_PK) if a.action == "order.paid")
    assert paid_records == Counter({o.order_id: 1 for o in orders})
    for customer in {o.customer_sub for o in orders}:
        rows = list(EntitlementItem.query(keys.user_pk(customer), EntitlementItem.sk.startswith("ENT#")))
        listings = [r.listing_id for r in rows]
        assert sorted(listings) == sorted(o.lines[0].listing_id for o in orders if o.customer_sub == customer)

    from chalicelib.ledger.balances import partner_balances

    per_partner = Counter(PARTNERS[n % len(PARTNERS)] for n in range(ORDERS))
    for partner, sold in per_partner.items():
        assert partner_balances(partner)["usd"].balance == sold * 800
