"""Builders for the subscription tests: subscription listings, subscribing, and Stripe's billing events.

Stripe's billing events are the JSON files under tests/fixtures/stripe_events/ (what Stripe sends for
`invoice.paid`, `invoice.payment_failed`, `customer.subscription.updated` / `.deleted`, `charge.refunded`;
localstripe cannot renew a subscription or send most of them). Their ids are filled in and they are signed
with the test webhook secret when delivered (a signature is only valid for 300 s, so it cannot be stored).
"""
from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

from tests.factories import WEBHOOK_SECRET, Api, _ensure_partner, bundle_body, deliver, new_key, publish

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe_events"
_seq = itertools.count(1)


def monthly(price: int = 1000, *, interval: str = "month", trial_days: int = 0, currency: str = "usd") -> dict:
    """A subscription price body."""
    body = {"amount": price, "currency": currency, "interval": interval}
    if trial_days:
        body["trial_days"] = trial_days
    return body


def publish_subscription_app(api: Api, sub: str, *, price: int = 1000, interval: str = "month",
                             trial_days: int = 0, currency: str = "usd") -> dict:
    """A published app of `sub` (an approved partner from then on) sold by subscription."""
    _ensure_partner(api, sub)
    return publish(api, sub, tags=None, name=f"Sub App {next(_seq)}",
                   price=monthly(price, interval=interval, trial_days=trial_days, currency=currency))


def publish_subscription_bundle(api: Api, sub: str, components: list[str], *, price: int, interval: str = "month",
                                trial_days: int = 0, split: dict | None = None) -> dict:
    """A published bundle of `sub`'s `components` sold by subscription."""
    _ensure_partner(api, sub)
    return publish(api, sub, **bundle_body(components, name=f"Sub Bundle {next(_seq)}", split=split,
                                           price=monthly(price, interval=interval, trial_days=trial_days)))


def subscribe(api: Api, customer: str, listing_id: str, *, key: str | None = None):
    """`POST /subscriptions` by `customer`; the response (not asserted)."""
    return api.post("/subscriptions", {"listing_id": listing_id}, sub=customer,
                    headers={"Idempotency-Key": key or new_key()})


def stripe_event(name: str, *, event_id: str | None = None, **ids: str) -> tuple[bytes, str]:
    """The fixture event `name` with its ids filled in, signed now with the test webhook secret."""
    from chalicelib.webhooks.signature import sign

    text = (FIXTURES / f"{name}.json").read_text()
    for placeholder, value in ids.items():
        text = text.replace("{" + placeholder + "}", value)
    event = json.loads(text)
    event["id"] = event_id or f"{event['id']}_{next(_seq)}_{time.time_ns()}"
    event["created"] = int(time.time())
    raw = json.dumps(event).encode("utf-8")
    return raw, sign(raw, WEBHOOK_SECRET, int(time.time()))


def send(api: Api, name: str, *, event_id: str | None = None, **ids: str):
    """Stripe delivering the fixture event `name`; the response (not asserted)."""
    raw, header = stripe_event(name, event_id=event_id, **ids)
    return deliver(api, raw, header)


def stripe_id(gateway, subscription: dict) -> str:
    """Stripe's id of one of our subscriptions (what its events name)."""
    return next(s for s, view in gateway.subscriptions.items()
                if view.metadata.get("subscription_id") == subscription["subscription_id"])


def pay_first_invoice(api: Api, gateway, subscription: dict) -> dict:
    """The subscriber confirms the first invoice's PaymentIntent; Stripe sends `invoice.paid`."""
    sid = stripe_id(gateway, subscription)
    invoice_id = gateway.subscriptions[sid].latest_invoice_id
    gateway.pay_invoice(invoice_id)
    response = send(api, "invoice.paid", invoice_id=invoice_id, stripe_subscription_id=sid)
    assert response.status_code == 200, response.body
    return response.data
