"""Builders for review tests: a published listing (through the catalog's API) and ownership.

Ownership is granted with checkout's own `entitlements.repository.grant` for a paid order, so an app
bought through a bundle is owned exactly the way checkout records it. This module holds no tests.
"""
from __future__ import annotations

from chalicelib.catalog import service as catalog
from chalicelib.core import clock
from chalicelib.db.transact import transaction
from chalicelib.entitlements.repository import grant
from chalicelib.core.identity import Principal
from chalicelib.orders.model import PAID, LinePart, Order, OrderLine
from chalicelib.partners import service as partners
from tests.api.helpers import ADMIN, Api, approved_partner

_counter = [0]
ADMIN_USER = Principal(ADMIN["sub"], groups=frozenset(ADMIN["groups"]))


def published_listing_direct(partner_sub: str, *, name: str = "Rated App") -> dict:
    """The same as `published_listing`, through the services (no HTTP client, for state machines)."""
    user = Principal(partner_sub)
    partner = partners.apply(user=user, display_name=f"Vendor {partner_sub}", contact_email="v@example.com",
                             country="DE")
    partners.decide(admin=ADMIN_USER, partner_id=partner.partner_id, action="approve")
    draft = catalog.create_listing(user=user, body={
        "type": "app", "name": name, "summary": "Something useful", "category": "productivity",
        "price": {"amount": 900, "currency": "usd"},
    })
    catalog.partner_action(user=user, listing_id=draft["listing_id"], action="submit")
    return catalog.decide(admin=ADMIN_USER, listing_id=draft["listing_id"], action="approve")


def published_listing(api: Api, partner_sub: str, *, name: str | None = None, price: int = 1900,
                      listing_type: str = "app", components: list[str] | None = None) -> dict:
    """An approved partner's published listing (draft, submit, admin approval)."""
    if api.get("/partners/me", sub=partner_sub).status_code == 404:
        approved_partner(api, partner_sub)
    _counter[0] += 1
    body = {
        "type": listing_type, "name": name or f"Review Target {_counter[0]}", "summary": "Something useful",
        "category": "productivity", "price": {"amount": price, "currency": "usd"},
    }
    if components:
        body["components"] = components
    created = api.post("/partner/listings", body, sub=partner_sub)
    assert created.status_code == 201, created.body
    listing_id = created.data["listing_id"]
    submitted = api.post(f"/partner/listings/{listing_id}/submit", {}, sub=partner_sub)
    assert submitted.status_code == 200, submitted.body
    approved = api.post(f"/admin/listings/{listing_id}/approve", {}, **ADMIN)
    assert approved.status_code == 200, approved.body
    return approved.data


def give(customer_sub: str, listing: dict, *, components: list[dict] | None = None) -> None:
    """Record that the customer bought `listing` (a bundle grants its `components` too)."""
    _counter[0] += 1
    order_id = f"ord_test{_counter[0]}"
    parts = tuple(
        LinePart(c["listing_id"], c["partner_id"], 0, 0) for c in (components or [])
    ) or (LinePart(listing["listing_id"], listing["partner_id"], 0, 0),)
    line = OrderLine("l1", listing["listing_id"], listing["type"], listing["name"], 0, parts)
    now = clock.now_iso()
    order = Order(order_id, customer_sub, "usd", 0, PAID, (line,), None, now, paid_at=now)
    with transaction() as tx:
        grant(tx, order, at=now)
