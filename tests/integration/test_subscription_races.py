"""Racing requests and deliveries on one subscription: one subscription starts, one sale per invoice, MRR once.

As in test_webhooks_concurrency.py, each DynamoDB call is serialised (DynamoDB's own per-request atomicity;
moto's in-process transactions are not thread-safe); the reads, Stripe calls and decisions between the
racing requests stay concurrent.
"""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from chalicelib.catalog.model import LiveListing
from chalicelib.core.errors import DomainError
from chalicelib.core.identity import Principal
from chalicelib.core.money import Money
from chalicelib.ledger.balances import balance_of
from chalicelib.subscriptions import repository, subscribing
from chalicelib.webhooks import service as webhooks
from tests.factories import signed_event, use_test_secrets
from tests.fakes import FakeGateway
from tests.integration.test_webhooks_concurrency import serialised_dynamodb  # noqa: F401 - fixture

LISTING = LiveListing(listing_id="lst_race", partner_id="ptn_race", type="app", name="Race App", slug="race-app",
                      price=Money(1200, "usd"), status="published", version=1, interval="month")


def _catalog(ids):
    return {LISTING.listing_id: LISTING}


def test_racing_subscribes_start_one_and_racing_deliveries_sell_once(serialised_dynamodb, monkeypatch):
    use_test_secrets(monkeypatch)
    gateway = FakeGateway()
    user = Principal("race-customer")

    def attempt(n: int):
        try:
            return subscribing.subscribe(user=user, body={"listing_id": LISTING.listing_id},
                                         headers={"idempotency-key": f"race-{n}"}, gateway=gateway, catalog=_catalog)
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    started = [r for r in results if not isinstance(r, DomainError)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(started) == 1, results
    assert all(r.status == 409 for r in refused)
    live_in_stripe = [s for s in gateway.subscriptions.values() if s.status != "canceled"]
    assert len(live_in_stripe) == 1  # the losers' Stripe subscriptions were canceled, so they never bill

    sub_id = started[0].body["subscription_id"]
    sid = live_in_stripe[0].stripe_subscription_id
    invoice = gateway.pay_invoice(live_in_stripe[0].latest_invoice_id)
    deliveries = [signed_event("invoice.paid", {"id": invoice.invoice_id}, event_id=f"evt_paid_{i % 3}")
                  for i in range(6)]
    deliveries += [signed_event("customer.subscription.updated", {"id": sid}, event_id=f"evt_upd_{i % 2}")
                   for i in range(4)]
    random.Random(7).shuffle(deliveries)

    def deliver(delivery):
        try:
            return webhooks.handle(*delivery, gateway=gateway)["outcome"]
        except DomainError as exc:  # a conflict a redelivery would retry: Stripe delivers again
            return f"retry:{exc.code}"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(deliver, deliveries))
    for delivery in deliveries:  # Stripe redelivers whatever was not acknowledged
        deliver(delivery)
    sub, invoices = repository.get_with_invoices(sub_id)
    assert [i.invoice_id for i in invoices] == [invoice.invoice_id], outcomes
    assert sub.status == "active"
    assert balance_of("ptn_race", "usd").balance == 960  # one sale: 1200 - 20%
    assert repository.mrr_of(["ptn_race"], ["usd"]) == {("ptn_race", "usd"): 1200}
