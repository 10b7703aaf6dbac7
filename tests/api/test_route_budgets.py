"""Each main route stays within its DynamoDB budget: calls made and items read per request.

The scenario is bench/route_costs.py's walk through the marketplace (the table `make bench` prints);
the calls are counted in botocore by tests/ddb_calls.py. A budget is the cost the route has by design
(e.g. a catalog page is one Query, partner names read from its rows, whatever the catalog's size);
a change that adds a read to a route fails here and has to raise the budget on purpose.
"""
from __future__ import annotations

from bench.route_costs import walk

# route -> (most DynamoDB calls, most items read) for one request. A signed-in partner route finds the
# caller's partner in one Query (its profile by owner on gsi3), not a membership GetItem then a profile GetItem.
BUDGETS: dict[str, tuple[int, int]] = {
    "GET /health": (0, 0),
    "GET /categories": (0, 0),
    "POST /partners": (1, 0),
    "GET /admin/partners (pending)": (1, 21),
    "GET /partners/me": (1, 1),
    "PATCH /partners/me": (2, 1),
    "POST /partner/listings": (2, 1),
    "PATCH /partner/listings/{id}": (3, 2),
    "POST /partner/listings/{id}/submit": (3, 2),
    "GET /admin/review-queue": (1, 21),
    "POST /admin/listings/{id}/approve": (3, 3),  # + the partner event counter
    "GET /partner/listings": (2, 22),
    "GET /listings (catalog page)": (1, 21),
    "GET /listings?category=&sort=price_asc": (1, 21),
    "GET /listings?q=bench": (2, 300),
    "GET /listings/{id}": (1, 1),
    "GET /listings/{slug}": (2, 2),
    "GET /listings/{id} (unknown)": (1, 0),
    "POST /orders": (3, 2),
    "GET /orders/{id}": (1, 2),
    "GET /orders": (1, 21),
    "POST /webhooks/stripe (payment_intent.succeeded)": (4, 3),  # + event counters (one batch)
    "GET /me/entitlements": (1, 21),
    "GET /me/entitlements/{id}": (1, 1),
    "POST /listings/{id}/reviews": (6, 5),  # + the partner event counter
    "GET /listings/{id}/reviews": (2, 22),
    "GET /listings/{id}/reviews/mine": (1, 1),
    "POST /admin/orders/{id}/refunds": (4, 4),  # + event counters (one batch)
    "GET /partner/balance": (3, 3),
    "GET /partner/statement": (6, 7),
    "GET /partner/payouts": (2, 22),
    "GET /finance/ledger": (1, 21),
    "GET /admin/audit": (1, 21),
}


def test_every_route_in_the_walk_has_a_budget_and_keeps_it(api, fake_gateway):  # noqa: F811
    costs = walk(api, fake_gateway)
    assert sorted(c.label for c in costs) == sorted(BUDGETS), "a measured route without a budget, or vice versa"
    over = [
        f"{c.label}: {c.call_count} calls ({c.ops()}), {c.items_read} items read; budget {BUDGETS[c.label]}"
        for c in costs
        if c.call_count > BUDGETS[c.label][0] or c.items_read > BUDGETS[c.label][1]
    ]
    assert not over, "over budget:\n" + "\n".join(over)

