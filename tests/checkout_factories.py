"""Builders and fixtures for checkout tests: published listings, orders, signed Stripe events, gateways."""
from __future__ import annotations

import itertools
import json
import time

import pytest

from tests.api.helpers import ADMIN, Api, approved_partner

WEBHOOK_SECRET = "whsec_test_checkout"
STRIPE_KEY = "sk_test_checkout"

_keys = itertools.count(1)
_events = itertools.count(1)


def use_test_secrets(monkeypatch) -> None:
    """Make the webhook verify with the test secret, without touching the process's cached settings."""
    from chalicelib.secrets import StripeSecrets
    from chalicelib.webhooks import service

    monkeypatch.setattr(service, "get_stripe_secrets", lambda: StripeSecrets(STRIPE_KEY, WEBHOOK_SECRET))


@pytest.fixture
def fake_gateway(monkeypatch):
    """A FakeGateway installed as the process's gateway, with the webhook secret configured."""
    from chalicelib.payments.fake_gateway import FakeGateway
    from chalicelib.payments.gateway import set_gateway

    use_test_secrets(monkeypatch)
    gateway = FakeGateway()
    set_gateway(gateway)
    yield gateway
    set_gateway(None)


@pytest.fixture
def api(client, fake_gateway):
    return Api(client)


def new_key() -> str:
    return f"key-{time.time_ns()}-{next(_keys)}"


def published_app(api: Api, partner_sub: str, *, name: str | None = None, price: int = 1000,
                  currency: str = "usd") -> dict:
    """An approved partner (created if needed) with one published app."""
    if api.get("/partners/me", sub=partner_sub).status_code == 404:
        approved_partner(api, partner_sub)
    name = name or f"App {next(_keys)}"
    body = {"type": "app", "name": name, "summary": "Does things", "category": "analytics",
            "price": {"amount": price, "currency": currency}}
    return _publish(api, partner_sub, body)


def published_bundle(api: Api, partner_sub: str, components: list[str], *, price: int, currency: str = "usd",
                     split: dict | None = None, name: str | None = None) -> dict:
    body = {"type": "bundle", "name": name or f"Bundle {next(_keys)}", "summary": "Several apps",
            "category": "analytics", "price": {"amount": price, "currency": currency}, "components": components}
    if split:
        body["split"] = split
    return _publish(api, partner_sub, body)


def admin_bundle(api: Api, components: list[str], *, price: int, currency: str = "usd",
                 split: dict | None = None) -> dict:
    """A cross-partner bundle, created and published by an admin."""
    body = {"name": f"Suite {next(_keys)}", "summary": "Apps of several vendors", "category": "analytics",
            "price": {"amount": price, "currency": currency}, "components": components}
    if split:
        body["split"] = split
    created = api.post("/admin/bundles", body, **ADMIN)
    assert created.status_code in (200, 201), created.body
    listing = created.data
    if listing["status"] != "published":
        approved = api.post(f"/admin/listings/{listing['listing_id']}/approve", {}, **ADMIN)
        assert approved.status_code == 200, approved.body
        listing = approved.data
    return listing


def _publish(api: Api, partner_sub: str, body: dict) -> dict:
    created = api.post("/partner/listings", body, sub=partner_sub)
    assert created.status_code == 201, created.body
    listing_id = created.data["listing_id"]
    submitted = api.post(f"/partner/listings/{listing_id}/submit", {}, sub=partner_sub)
    assert submitted.status_code == 200, submitted.body
    approved = api.post(f"/admin/listings/{listing_id}/approve", {}, **ADMIN)
    assert approved.status_code == 200, approved.body
    return approved.data


def place_order(api: Api, sub: str, listing_ids: list[str], *, key: str | None = None):
    return api.post("/orders", {"items": [{"listing_id": i} for i in listing_ids]}, sub=sub,
                    headers={"Idempotency-Key": key or new_key()})


def refund(api: Api, order_id: str, body: dict, *, key: str | None = None, who: dict = ADMIN):
    return api.post(f"/admin/orders/{order_id}/refunds", body, headers={"Idempotency-Key": key or new_key()}, **who)


def signed_event(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None,
                 secret: str = WEBHOOK_SECRET, signed_at: int | None = None) -> tuple[bytes, str]:
    """A Stripe event as Stripe sends it: raw JSON bytes and its `Stripe-Signature` header."""
    from chalicelib.webhooks.signature import sign

    created = int(time.time()) if created is None else created
    event = {"id": event_id or f"evt_test{next(_events):08d}", "object": "event", "type": event_type,
             "created": created, "api_version": "2024-06-20", "livemode": False, "data": {"object": obj}}
    raw = json.dumps(event).encode("utf-8")
    return raw, sign(raw, secret, signed_at if signed_at is not None else int(time.time()))


def deliver(api: Api, raw: bytes, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return api.call("POST", "/webhooks/stripe", headers=headers, raw=raw)


def pay_with_fake(api: Api, gateway, order: dict, *, event_id: str | None = None):
    """The customer confirms; Stripe (the fake) charges the card and sends `payment_intent.succeeded`."""
    pi_id = order["payment"]["payment_intent_id"]
    gateway.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"},
                               event_id=event_id)
    return deliver(api, raw, header)
