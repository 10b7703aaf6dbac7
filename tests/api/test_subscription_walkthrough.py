"""The walk-through of issue 16, as a new user would do it: a monthly bundle of two partners' apps.

Subscribe, pay the first invoice, own the bundle and its apps; a renewal invoice (Stripe's signed
`invoice.paid`, delivered twice and after a stale `customer.subscription.updated`) adds exactly one more
split sale per partner; cancel keeps access until the period ends; then the entitlement ends, and
Stripe's `customer.subscription.deleted` at the period's end removes it for good.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.core import clock
from tests.factories import ADMIN, publish_app
from tests.subscription_kit import pay_first_invoice, send, stripe_id, subscribe

ALICE, BOB, CAROL = "walk-alice", "walk-bob", "walk-carol"


def _sales(api, partner_sub: str) -> list[dict]:
    events = api.get("/partner/events?types=sale.completed", sub=partner_sub)
    assert events.status_code == 200, events.body
    return events.data["items"]


def _pending(api, partner_sub: str) -> int:
    return api.get("/partner/balance", sub=partner_sub).data["usd"]["pending"]


def _owed(api, partner_sub: str) -> int:
    """Pending plus available: what the partner has earned so far (nothing is paid out here)."""
    usd = api.get("/partner/balance", sub=partner_sub).data["usd"]
    return usd["pending"] + usd["available"]


def test_monthly_bundle_of_two_partners_from_subscribe_to_end(api, fake_gateway):
    a = publish_app(api, ALICE, price=1000)
    b = publish_app(api, BOB, price=3000)
    created = api.post("/admin/bundles", {
        "name": "Team Suite", "summary": "Two vendors, one monthly price", "category": "productivity",
        "price": {"amount": 2000, "currency": "usd", "interval": "month"},
        "components": [a["listing_id"], b["listing_id"]]}, **ADMIN)
    assert created.status_code in (200, 201), created.body
    bundle = created.data
    if bundle["status"] != "published":
        bundle = api.post(f"/admin/listings/{bundle['listing_id']}/approve", {}, **ADMIN).data
    assert bundle["price"]["interval"] == "month"

    sub = subscribe(api, CAROL, bundle["listing_id"]).data
    assert [p["amount"]["amount"] for p in sub["parts"]] == [500, 1500]  # pro rata 1000 : 3000
    pay_first_invoice(api, fake_gateway, sub)
    owned = {e["listing_id"] for e in api.get("/me/entitlements", sub=CAROL).data["items"]}
    assert owned == {bundle["listing_id"], a["listing_id"], b["listing_id"]}
    assert _pending(api, ALICE) == 400 and _pending(api, BOB) == 1200  # 20% commission
    first_sales = {ALICE: _sales(api, ALICE), BOB: _sales(api, BOB)}
    assert [len(v) for v in first_sales.values()] == [1, 1]
    assert first_sales[ALICE][0]["data"]["source"]["type"] == "invoice"
    assert first_sales[BOB][0]["data"]["lines"] == [{"listing_id": b["listing_id"], "gross": {"amount": 1500, "currency": "usd"},
                                                     "fee": {"amount": 300, "currency": "usd"},
                                                     "net": {"amount": 1200, "currency": "usd"}}]

    # A month later Stripe renews: the renewal's invoice.paid arrives twice, after a stale subscription event.
    sid = stripe_id(fake_gateway, sub)
    start = clock.now()
    clock.set_now(lambda: start + timedelta(days=30))
    try:
        renewal = fake_gateway.renew(sid)
        assert send(api, "customer.subscription.updated", stripe_subscription_id=sid).status_code == 200
        for _ in range(2):
            assert send(api, "invoice.paid", invoice_id=renewal.invoice_id, stripe_subscription_id=sid,
                        event_id="evt_walk_renewal").status_code == 200
        assert send(api, "invoice.paid", invoice_id=renewal.invoice_id,
                    stripe_subscription_id=sid).data["outcome"].startswith("noop:invoice_recorded")
        assert _owed(api, ALICE) == 800 and _owed(api, BOB) == 2400
        assert len(_sales(api, ALICE)) == 2 and len(_sales(api, BOB)) == 2
        assert len(api.get(f"/subscriptions/{sub['subscription_id']}", sub=CAROL).data["invoices"]) == 2

        canceled = api.post(f"/subscriptions/{sub['subscription_id']}/cancel", sub=CAROL)
        assert canceled.status_code == 200, canceled.body
        assert canceled.data["cancel_at_period_end"] is True
        period_end = canceled.data["current_period_end"]
        assert canceled.data["access_until"] == period_end
        assert api.get(f"/me/entitlements/{a['listing_id']}", sub=CAROL).status_code == 200
        canceled_events = api.get("/partner/events?types=subscription.canceled", sub=ALICE).data["items"]
        assert len(canceled_events) == 1 and "walk-carol" not in str(canceled_events)

        # The period ends: access ends with it, whether or not Stripe's deletion has arrived yet.
        clock.set_now(lambda: clock.parse_iso(period_end) + timedelta(seconds=1))
        assert api.get(f"/me/entitlements/{a['listing_id']}", sub=CAROL).status_code == 404
        assert api.get("/me/entitlements", sub=CAROL).data["items"] == []
        fake_gateway.end(sid)
        assert send(api, "customer.subscription.deleted", stripe_subscription_id=sid).data["outcome"] == "canceled"
        assert api.get(f"/subscriptions/{sub['subscription_id']}", sub=CAROL).data["status"] == "canceled"
    finally:
        clock.set_now(None)
    # Nothing more was sold: two sales per partner in all.
    assert _owed(api, ALICE) == 800 and _owed(api, BOB) == 2400
