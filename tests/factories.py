"""Test data builders with overridable defaults: one place that makes partners, listings, orders, payments.

Most build through the API, the way a user does (`api` first: an `Api` over chalice's test client):
`apply_partner` / `approved_partner`, `create_listing` / `publish` (a draft, then submit and approval),
`publish_app` / `publish_bundle` / `publish_admin_bundle`, `place_order`, `pay`, `request_refund`, and
Stripe's webhook deliveries (`signed_event`, `deliver`). Tests without a client (state machines,
concurrency) build through the services: `publish_app_directly`, `give`. The pure money rules and the
repositories take model objects: `part`, `line`, `order`, `refund`, `cross_partner_bundle`.

The fixtures that use them (`api`, `fake_gateway`, `client`, `ddb`) are in tests/conftest.py; the fake
providers are in tests/fakes.py.
"""
from __future__ import annotations

import itertools
import json
import time
from typing import Any

from chalicelib.core.identity import Principal
from chalicelib.orders.model import LinePart, Order, OrderLine, Refund

ADMIN = {"sub": "admin-1", "groups": ["admin"]}
FINANCE = {"sub": "finance-1", "groups": ["finance"]}
ADMIN_USER = Principal(ADMIN["sub"], groups=frozenset(ADMIN["groups"]))  # the admin, for the services
WEBHOOK_SECRET = "whsec_test_checkout"
STRIPE_KEY = "sk_test_checkout"

_seq = itertools.count(1)


class Api:
    """Calls the API through chalice.test.Client with JSON bodies and a token for `sub`."""

    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, body: Any = None, *, sub: str | None = None,
             groups: list[str] | None = None, headers: dict | None = None, raw: str | bytes | None = None):
        from tests.conftest import make_token

        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if sub:
            all_headers["Authorization"] = f"Bearer {make_token(sub, groups)}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)
        response.data = json.loads(response.body) if response.body and response.headers.get(
            "Content-Type", "").startswith("application/json") else response.body
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


# --- partners ----------------------------------------------------------------------------------------
def apply_partner(api: Api, sub: str, **overrides) -> dict:
    """A pending partner application by `sub`."""
    body = {"display_name": f"Vendor {sub}", "contact_email": f"{sub}@example.com", "country": "DE", **overrides}
    response = api.post("/partners", body, sub=sub)
    assert response.status_code == 201, response.body
    return response.data


def approved_partner(api: Api, sub: str, **overrides) -> dict:
    """A partner application by `sub`, approved by an admin."""
    partner = apply_partner(api, sub, **overrides)
    response = api.post(f"/admin/partners/{partner['partner_id']}/approve", {}, **ADMIN)
    assert response.status_code == 200, response.body
    return response.data


def _ensure_partner(api: Api, sub: str) -> None:
    if api.get("/partners/me", sub=sub).status_code == 404:
        approved_partner(api, sub)


# --- listings ----------------------------------------------------------------------------------------
def app_body(**overrides) -> dict:
    """The body of `POST /partner/listings` for an app; an override of None leaves the field out."""
    body = {
        "type": "app", "name": "Chart Wizard", "summary": "Charts for everyone", "category": "analytics",
        "tags": ["charts", "BI"], "price": {"amount": 1000, "currency": "usd"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def bundle_body(components: list[str], **overrides) -> dict:
    """The body of `POST /partner/listings` for a bundle of `components` (listing ids)."""
    defaults = {"type": "bundle", "name": "Starter Pack", "tags": ["bundle"], "components": components,
                "price": {"amount": 1500, "currency": "usd"}}
    return app_body(**{**defaults, **overrides})


def create_listing(api: Api, sub: str, **overrides) -> dict:
    """A draft listing of the partner `sub` (who must be an approved partner); overrides are body fields."""
    response = api.post("/partner/listings", app_body(**overrides), sub=sub)
    assert response.status_code == 201, response.body
    return response.data


def publish(api: Api, sub: str, **overrides) -> dict:
    """A published listing: the draft of `create_listing`, submitted by the partner, approved by an admin."""
    listing = create_listing(api, sub, **overrides)
    submitted = api.post(f"/partner/listings/{listing['listing_id']}/submit", {}, sub=sub)
    assert submitted.status_code == 200, submitted.body
    approved = api.post(f"/admin/listings/{listing['listing_id']}/approve", {}, **ADMIN)
    assert approved.status_code == 200, approved.body
    return approved.data


def publish_app(api: Api, sub: str, *, name: str | None = None, price: int = 1000, currency: str = "usd",
                **overrides) -> dict:
    """A published app of `sub`, who becomes an approved partner if not one yet; named uniquely by default."""
    _ensure_partner(api, sub)
    return publish(api, sub, **{"tags": None, **overrides, "name": name or f"App {next(_seq)}",
                                "price": {"amount": price, "currency": currency}})


def publish_bundle(api: Api, sub: str, components: list[str], *, price: int, currency: str = "usd",
                   split: dict | None = None, name: str | None = None) -> dict:
    """A published bundle of `sub`'s `components` (listing ids), with an optional revenue split."""
    _ensure_partner(api, sub)
    return publish(api, sub, **bundle_body(components, name=name or f"Bundle {next(_seq)}", split=split,
                                           price={"amount": price, "currency": currency}))


def publish_admin_bundle(api: Api, components: list[str], *, price: int, currency: str = "usd",
                         split: dict | None = None) -> dict:
    """A cross-partner bundle, created and published by an admin."""
    body = {"name": f"Suite {next(_seq)}", "summary": "Apps of several vendors", "category": "analytics",
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


def approved_partner_directly(user: Principal, *, display_name: str | None = None) -> str:
    """An approved partner owned by `user`, through the services (no HTTP client); returns its id."""
    from chalicelib.partners import service as partners

    partner = partners.apply(user=user, display_name=display_name or f"Vendor {user.sub}",
                             contact_email="v@example.com", country="DE")
    partners.decide(admin=ADMIN_USER, partner_id=partner.partner_id, action="approve")
    return partner.partner_id


def publish_app_directly(sub: str, *, name: str = "Rated App") -> dict:
    """`publish_app` through the services, without an HTTP client (for state machines and threads)."""
    from chalicelib.catalog import decisions, lifecycle

    admin = ADMIN_USER
    user = Principal(sub)
    approved_partner_directly(user)
    draft = lifecycle.create_listing(user=user, body=app_body(name=name, tags=None))
    lifecycle.partner_action(user=user, listing_id=draft["listing_id"], action="submit")
    return decisions.decide(admin=admin, listing_id=draft["listing_id"], action="approve")


def give(customer_sub: str, listing: dict, *, components: list[dict] | None = None) -> None:
    """Record that the customer bought `listing` (a bundle grants its `components` too).

    Ownership is granted with checkout's own `orders.repository.grant_entitlements` for a paid order, so an
    app bought through a bundle is owned exactly the way checkout records it.
    """
    from chalicelib.core import clock
    from chalicelib.db.transact import transaction
    from chalicelib.orders.model import PAID
    from chalicelib.orders.repository import grant_entitlements as grant

    parts = tuple(LinePart(c["listing_id"], c["partner_id"], 0, 0) for c in (components or [])) or (
        LinePart(listing["listing_id"], listing["partner_id"], 0, 0),)
    bought = OrderLine("l1", listing["listing_id"], listing["type"], listing["name"], 0, parts)
    now = clock.now_iso()
    paid = Order(f"ord_test{next(_seq)}", customer_sub, "usd", 0, PAID, (bought,), None, now, paid_at=now)
    with transaction() as tx:
        grant(tx, paid, at=now)


# --- checkout: orders, Stripe's webhooks, refunds ----------------------------------------------------
def new_key() -> str:
    """A fresh Idempotency-Key."""
    return f"key-{time.time_ns()}-{next(_seq)}"


def place_order(api: Api, sub: str, listing_ids: list[str], *, key: str | None = None):
    """`POST /orders` of `listing_ids` by the customer `sub`; the response (not asserted)."""
    return api.post("/orders", {"items": [{"listing_id": i} for i in listing_ids]}, sub=sub,
                    headers={"Idempotency-Key": key or new_key()})


def request_refund(api: Api, order_id: str, body: dict, *, key: str | None = None, who: dict = ADMIN):
    """`POST /admin/orders/{id}/refunds` by `who`; the response (not asserted)."""
    return api.post(f"/admin/orders/{order_id}/refunds", body, headers={"Idempotency-Key": key or new_key()}, **who)


def use_test_secrets(monkeypatch) -> None:
    """Make the webhook verify with the test secret, without touching the process's cached settings."""
    from chalicelib.secrets import StripeSecrets
    from chalicelib.webhooks import service

    monkeypatch.setattr(service, "get_stripe_secrets", lambda: StripeSecrets(STRIPE_KEY, WEBHOOK_SECRET))


def signed_event(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None,
                 secret: str = WEBHOOK_SECRET, signed_at: int | None = None) -> tuple[bytes, str]:
    """A Stripe event as Stripe sends it: raw JSON bytes and its `Stripe-Signature` header."""
    from chalicelib.webhooks.signature import sign

    created = int(time.time()) if created is None else created
    event = {"id": event_id or f"evt_test{next(_seq):08d}", "object": "event", "type": event_type,
             "created": created, "api_version": "2024-06-20", "livemode": False, "data": {"object": obj}}
    raw = json.dumps(event).encode("utf-8")
    return raw, sign(raw, secret, signed_at if signed_at is not None else int(time.time()))


def deliver(api: Api, raw: bytes, header: str | None):
    """Stripe posting `raw` to the webhook with the `Stripe-Signature` header (None: without it)."""
    headers = {"Stripe-Signature": header} if header is not None else {}
    return api.call("POST", "/webhooks/stripe", headers=headers, raw=raw)


def pay(api: Api, gateway, placed: dict, *, event_id: str | None = None):
    """The customer confirms; Stripe (the fake) charges the card and sends `payment_intent.succeeded`."""
    pi_id = placed["payment"]["payment_intent_id"]
    gateway.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"},
                               event_id=event_id)
    return deliver(api, raw, header)


# --- model objects for the money rules and repositories ---------------------------------------------
def part(partner_id: str = "ptn_a", amount: int = 1000, bps: int = 2000, listing_id: str | None = None) -> LinePart:
    """One partner's share of a line: `amount` in minor units, the commission in basis points."""
    return LinePart(listing_id or f"lst_{next(_seq)}", partner_id, amount, bps)


def line(*parts: LinePart, line_id: str | None = None, listing_id: str | None = None, refunded: int = 0) -> OrderLine:
    """An order line of `parts`: an app with one part (the default), a bundle with several."""
    parts = parts or (part(),)
    kind = "bundle" if len(parts) > 1 else "app"
    listing = listing_id or (parts[0].listing_id if kind == "app" else f"lst_b{next(_seq)}")
    return OrderLine(line_id or f"ln_{next(_seq)}", listing, kind, f"Item {listing}",
                     sum(p.amount for p in parts), tuple(parts), refunded)


def order(*lines: OrderLine, order_id: str | None = None, currency: str = "usd", pi: str | None = "auto") -> Order:
    """A paid order of `lines` (one app line by default); `pi="auto"` names its PaymentIntent after it."""
    lines = lines or (line(),)
    oid = order_id or f"ord_{next(_seq)}"
    return Order(oid, "cust-1", currency, sum(ln.price for ln in lines), "paid", tuple(lines),
                 f"pi_{oid}" if pi == "auto" else pi, "2026-11-22T10:00:00.000Z", "2026-11-22T10:00:01.000Z")


def refund(o: Order, line_amounts: dict[str, int], refund_id: str | None = None, stripe: str | None = "auto") -> Refund:
    """A refund of `o`, `line_amounts` by line id; `stripe="auto"` names its Stripe refund after it."""
    rid = refund_id or f"rfd_{next(_seq)}"
    return Refund(rid, o.order_id, sum(line_amounts.values()), dict(line_amounts),
                  f"re_{rid}" if stripe == "auto" else stripe, "requested_by_customer", "2026-11-22T11:00:00.000Z")


def cross_partner_bundle(price: int = 2999, currency: str = "usd") -> Order:
    """A bundle of two partners' apps plus a single app of the first partner."""
    bundle = line(part("ptn_a", 750, 2000), part("ptn_b", price - 750, 1500))
    app = line(part("ptn_a", 1000, 2000))
    return order(bundle, app, currency=currency)
