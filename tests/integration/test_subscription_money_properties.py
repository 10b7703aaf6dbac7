"""Property: whatever Stripe does to a subscription (renewals paid or failing, refunds in the API or the
dashboard) and however its events arrive (late, reordered, twice), every paid invoice is one sale, every
refund is counted once, every journal entry balances and every partner balance equals a recomputation from
the journal.

Events go through the real webhook endpoint's service (`webhooks.service.handle`, signature included); Stripe
is the fake gateway, so the events are re-read from it exactly as from Stripe.
"""
from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib.core import clock
from chalicelib.core.errors import PaymentFailed
from chalicelib.core.identity import Principal
from chalicelib.core.money import largest_remainder
from chalicelib.db import keys
from chalicelib.db.table import MarketItem, create_table
from chalicelib.ledger.balances import balance_of
from chalicelib.ledger.journal import JournalItem, PostingItem
from chalicelib.ledger.rules import partner_account
from chalicelib.subscriptions import model, refunds, repository, sync
from chalicelib.webhooks import service
from chalicelib.webhooks.signature import sign
from tests.factories import WEBHOOK_SECRET, use_test_secrets
from tests.fakes import FakeGateway

PARTNERS = ("ptn_x", "ptn_y")
STAFF = Principal("finance-1", groups=frozenset({"finance"}))

step = st.one_of(
    st.tuples(st.just("renew"), st.booleans()),
    st.tuples(st.just("deliver"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, 50), st.one_of(st.none(), st.integers(1, 5000))),
    st.tuples(st.just("dashboard_refund"), st.integers(0, 50), st.integers(1, 5000)),
    st.tuples(st.just("updated"),),
)


def _event(event_type: str, obj_id: str, n: int) -> tuple[bytes, str]:
    raw = json.dumps({"id": f"evt_p{n}_{time.time_ns()}", "object": "event", "type": event_type,
                      "created": int(time.time()), "data": {"object": {"id": obj_id}}}).encode()
    return raw, sign(raw, WEBHOOK_SECRET, int(time.time()))


def _start(gateway: FakeGateway, price: int, weights: tuple[int, int], interval: str):
    """A paid subscription to a two-partner bundle, as subscribing and its first invoice leave it."""
    price_ref = gateway.create_price(listing_id="lst_b", version=1, name="B", amount=price, currency="usd",
                                     interval=interval, idempotency_key="p")
    view = gateway.create_subscription(customer_id="cus_1", price_id=price_ref.price_id, trial_days=0,
                                       metadata={"subscription_id": "subs_p"}, idempotency_key="s")
    shares = largest_remainder(price, list(weights))
    at = clock.now_iso()
    sub = model.Subscription(
        subscription_id="subs_p", customer_sub="cust-p", listing_id="lst_b", listing_type="bundle", name="B",
        listing_version=1, currency="usd", price=price, interval=interval, trial_days=0,
        parts=(model.Part("lst_x", PARTNERS[0], shares[0]), model.Part("lst_y", PARTNERS[1], shares[1])),
        status=model.INCOMPLETE, stripe_customer_id="cus_1", stripe_subscription_id=view.stripe_subscription_id,
        created_at=at, updated_at=at)
    sync.write_state(None, sub, action="subscription.created", actor="cust-p")
    return view.stripe_subscription_id, view.latest_invoice_id


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(price=st.integers(1, 10_000), weights=st.tuples(st.integers(1, 50), st.integers(1, 50)),
       interval=st.sampled_from(["month", "year"]), steps=st.lists(step, max_size=10))
def test_any_sequence_keeps_each_invoice_once_and_balances_exact(monkeypatch, price, weights, interval, steps):
    use_test_secrets(monkeypatch)
    with mock_aws():
        MarketItem._connection = None
        create_table()
        gateway = FakeGateway()
        sid, first = _start(gateway, price, weights, interval)
        gateway.pay_invoice(first)
        outbox = [_event("invoice.paid", first, 0)]  # events Stripe has sent, not yet delivered
        delivered: list[tuple[bytes, str]] = []
        for n, s in enumerate(steps, start=1):
            kind = s[0]
            if kind == "renew":
                invoice = gateway.renew(sid, pay=s[1])
                outbox.append(_event("invoice.paid" if s[1] else "invoice.payment_failed", invoice.invoice_id, n))
            elif kind == "deliver" and (outbox or delivered):
                pool = outbox or delivered  # an empty outbox: Stripe retries something already delivered
                raw, header = pool.pop(s[1] % len(pool)) if pool is outbox else pool[s[1] % len(pool)]
                service.handle(raw, header, gateway=gateway)
                delivered.append((raw, header))
                if s[2]:
                    service.handle(raw, header, gateway=gateway)  # a duplicate delivery
            elif kind in ("refund", "dashboard_refund"):
                _, invoices = repository.get_with_invoices("subs_p")
                refundable = [i for i in invoices if int(i.amount) - int(i.refunded or 0) > 0]
                if not refundable:
                    continue
                inv = refundable[s[1] % len(refundable)]
                left = int(inv.amount) - int(inv.refunded or 0)
                try:
                    if kind == "refund":
                        body = {"invoice_id": inv.invoice_id, "reason": "property"}
                        if s[2] is not None:
                            body["amount"] = min(s[2], left)
                        refunds.refund_invoice(actor=STAFF, subscription_id="subs_p", body=body,
                                               headers={"idempotency-key": f"k{n}"}, gateway=gateway)
                    else:
                        gateway.refund_in_dashboard(inv.payment_intent_id, min(s[2], left))
                except PaymentFailed:
                    continue  # Stripe refused: a dashboard refund we have not heard of yet took the rest
                charge = gateway.intents[inv.payment_intent_id].latest_charge_id
                outbox.append(_event("charge.refunded", charge, n))
            elif kind == "updated":
                outbox.append(_event("customer.subscription.updated", sid, n))
        for raw, header in outbox:  # in the end Stripe delivers everything
            service.handle(raw, header, gateway=gateway)

        paid = {i.invoice_id: i for i in gateway.invoices.values() if i.status == "paid"}
        sub, recorded = repository.get_with_invoices("subs_p")
        assert sorted(i.invoice_id for i in recorded) == sorted(paid)  # each paid invoice once, none other
        headers = list(JournalItem.gsi1.query(keys.JOURNAL_ALL_PK))
        sales = [h for h in headers if h.txn_kind == "sale"]
        assert sorted(h.txn_id for h in sales) == sorted(f"sale-{i}" for i in paid)
        for header in headers:
            assert sum(line["debit"] - line["credit"] for line in header.lines) == 0
        refunded_in_stripe = sum(r.amount for r in gateway.refunds.values())
        assert sum(int(i.refunded or 0) for i in recorded) == refunded_in_stripe
        cash = PostingItem.query(keys.account_pk("platform:cash:usd"))
        assert sum(int(p.amount) for p in cash) == sum(i.amount_paid for i in paid.values()) - refunded_in_stripe
        for pid in PARTNERS:
            postings = list(PostingItem.query(keys.account_pk(partner_account(pid, "usd"))))
            assert balance_of(pid, "usd").balance == -sum(int(p.amount) for p in postings)
        # MRR follows the status: counted while active or past due, never twice.
        mrr = repository.mrr_of(PARTNERS, ["usd"])
        expected = model.monthly_shares(sub) if sub.status in model.RECURRING else {}
        assert {p: mrr.get((p, "usd"), 0) for p in PARTNERS} == {p: expected.get(p, 0) for p in PARTNERS}
        MarketItem._connection = None
