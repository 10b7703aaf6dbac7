"""DynamoDB calls and items read per route, measured by walking a marketplace through its main routes.

One scenario (a partner publishes apps, a customer buys, pays through the Stripe webhook, reviews, is
refunded; the partner and finance look at the money) runs through chalice.test.Client under moto, and
tests/ddb_calls.py records the calls each request makes. `make bench` prints the table
(bench/bench_routes.py); tests/api/test_route_budgets.py holds each route to its budget. Counting calls
and items, not time, is what carries over from moto to DynamoDB: a call's latency there does not grow
with the table.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tests import ddb_calls
from tests.factories import ADMIN, FINANCE, Api, approved_partner, pay, place_order, publish_app, request_refund


@dataclass
class RouteCost:
    label: str  # what the request does, e.g. "GET /listings/{id}"
    status: int
    calls: Counter
    items_read: int

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())

    def ops(self) -> str:
        return ", ".join(f"{op} {n}" if n > 1 else op for op, n in sorted(self.calls.items())) or "-"


class Meter:
    """Calls the API and keeps the DynamoDB cost of each measured request."""

    def __init__(self, api: Api):
        self.api = api
        self.costs: list[RouteCost] = []

    def measure(self, label: str, call, expect: int = 200):
        with ddb_calls.recording() as log:
            response = call()
        assert response.status_code == expect, (label, response.status_code, response.body)
        self.costs.append(RouteCost(label, response.status_code, Counter(log.calls), log.items_read))
        return response


def walk(api: Api, gateway) -> list[RouteCost]:
    """Run the scenario; each measured request's cost, in order. `gateway` is the installed FakeGateway."""
    m = Meter(api)
    customer, partner_sub = "bench-customer", "bench-partner"
    m.measure("GET /health", lambda: api.get("/health"))
    m.measure("GET /categories", lambda: api.get("/categories"))
    m.measure("POST /partners", lambda: api.post(
        "/partners", {"display_name": "Bench Two", "contact_email": "two@example.com", "country": "DE"},
        sub="bench-partner-2"), expect=201)
    m.measure("GET /admin/partners (pending)", lambda: api.get("/admin/partners?status=pending", **ADMIN))
    approved_partner(api, partner_sub)
    m.measure("GET /partners/me", lambda: api.get("/partners/me", sub=partner_sub))
    m.measure("PATCH /partners/me", lambda: api.patch("/partners/me", {"website": "https://bench.example.com"},
                                                      sub=partner_sub))
    created = m.measure("POST /partner/listings", lambda: api.post("/partner/listings", {
        "type": "app", "name": "Bench Metrics", "summary": "Counts things", "category": "analytics",
        "price": {"amount": 1500, "currency": "usd"}}, sub=partner_sub), expect=201).data
    lid = created["listing_id"]
    m.measure("PATCH /partner/listings/{id}", lambda: api.patch(
        f"/partner/listings/{lid}", {"summary": "Counts more things"}, sub=partner_sub))
    m.measure("POST /partner/listings/{id}/submit", lambda: api.post(
        f"/partner/listings/{lid}/submit", {}, sub=partner_sub))
    m.measure("GET /admin/review-queue", lambda: api.get("/admin/review-queue", **ADMIN))
    m.measure("POST /admin/listings/{id}/approve", lambda: api.post(f"/admin/listings/{lid}/approve", {}, **ADMIN))
    for _ in range(3):
        publish_app(api, partner_sub)
    m.measure("GET /partner/listings", lambda: api.get("/partner/listings", sub=partner_sub))
    m.measure("GET /listings (catalog page)", lambda: api.get("/listings?limit=20"))
    m.measure("GET /listings?category=&sort=price_asc", lambda: api.get("/listings?category=analytics&sort=price_asc"))
    m.measure("GET /listings?q=bench", lambda: api.get("/listings?q=bench"))
    m.measure("GET /listings/{id}", lambda: api.get(f"/listings/{lid}"))
    m.measure("GET /listings/{slug}", lambda: api.get(f"/listings/{created['slug']}"))
    m.measure("GET /listings/{id} (unknown)", lambda: api.get("/listings/lst_00000000000000000000000000"), 404)

    order = m.measure("POST /orders", lambda: place_order(api, customer, [lid]), expect=201).data
    oid = order["order_id"]
    m.measure("GET /orders/{id}", lambda: api.get(f"/orders/{oid}", sub=customer))
    m.measure("GET /orders", lambda: api.get("/orders", sub=customer))
    m.measure("POST /webhooks/stripe (payment_intent.succeeded)", lambda: pay(api, gateway, order))
    m.measure("GET /me/entitlements", lambda: api.get("/me/entitlements", sub=customer))
    m.measure("GET /me/entitlements/{id}", lambda: api.get(f"/me/entitlements/{lid}", sub=customer))
    m.measure("POST /listings/{id}/reviews", lambda: api.post(
        f"/listings/{lid}/reviews", {"rating": 4, "title": "Solid"}, sub=customer), expect=201)
    m.measure("GET /listings/{id}/reviews", lambda: api.get(f"/listings/{lid}/reviews"))
    m.measure("GET /listings/{id}/reviews/mine", lambda: api.get(f"/listings/{lid}/reviews/mine", sub=customer))
    m.measure("POST /admin/orders/{id}/refunds",
              lambda: request_refund(api, oid, {"amount": 500, "reason": "goodwill"}), expect=201)
    m.measure("GET /partner/balance", lambda: api.get("/partner/balance", sub=partner_sub))
    m.measure("GET /partner/statement", lambda: api.get("/partner/statement", sub=partner_sub))
    m.measure("GET /partner/payouts", lambda: api.get("/partner/payouts", sub=partner_sub))
    m.measure("GET /finance/ledger", lambda: api.get("/finance/ledger", **FINANCE))
    m.measure("GET /admin/audit", lambda: api.get("/admin/audit", **ADMIN))
    return m.costs


def table(costs: list[RouteCost]) -> str:
    width = max(len(c.label) for c in costs)
    lines = [f"{'route':<{width}}  status  calls  items read  operations"]
    for c in costs:
        lines.append(f"{c.label:<{width}}  {c.status:>6}  {c.call_count:>5}  {c.items_read:>10}  {c.ops()}")
    return "\n".join(lines)
