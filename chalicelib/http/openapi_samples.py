"""Hand-written examples for the main operations of the OpenAPI document, and the links it leaves out.

Why by hand: an example generated from a schema is valid but says little; these tell one coherent story
(Acme Apps applies, lists Photo Studio Pro at 19.99 EUR, a customer buys it and reviews it, finance refunds
part of it) that a first-time reader can follow in `/docs`. Keyed by operationId (the handler's name);
each entry may give `request` (body), `response` (success body), `params` (path and query values) and
`description`. `tests/api/test_openapi_examples.py` fails when one no longer validates against its schema.
"""
from __future__ import annotations

from typing import Any

_PARTNER = "ptn_01JD7K2M4Q8RZ3"
_LISTING = "lst_01JD7M9X2B5TQW"
_ORDER = "ord_01JD8A3C6F1HNV"
_AT = "2026-11-22T10:00:00Z"
_PRICE = {"amount": 1999, "currency": "eur"}
_LINE = {
    "line_id": "lin_01JD8A3C6F1HNW", "listing_id": _LISTING, "type": "app", "name": "Photo Studio Pro",
    "price": _PRICE, "refunded": {"amount": 0, "currency": "eur"},
    "parts": [{"listing_id": _LISTING, "partner_id": _PARTNER, "amount": _PRICE, "commission_bps": 2000}],
}
_ORDER_BODY = {
    "order_id": _ORDER, "status": "pending_payment", "currency": "eur", "total": _PRICE,
    "refunded": {"amount": 0, "currency": "eur"}, "lines": [_LINE],
    "payment": {"payment_intent_id": "pi_3Qh8Zr2eZvKYlo2C", "client_secret": "pi_3Qh8Zr2eZvKYlo2C_secret_Jx9"},
    "created_at": _AT, "paid_at": None, "updated_at": _AT, "failure_reason": None, "refunds": [],
}
_RATING = {"count": 12, "average": 4.5, "histogram": {"1": 0, "2": 1, "3": 0, "4": 3, "5": 8}}
_LISTING_BODY = {
    "listing_id": _LISTING, "partner_id": _PARTNER, "partner_name": "Acme Apps", "type": "app",
    "name": "Photo Studio Pro", "slug": "photo-studio-pro",
    "summary": "Edit photos in the browser, with layers and RAW import.", "category": "productivity",
    "tags": ["photo", "editor"], "price": _PRICE, "status": "published", "version": 3, "rating": _RATING,
    "created_at": "2026-11-02T09:15:00Z", "updated_at": _AT, "published_at": "2026-11-03T14:00:00Z",
}

SAMPLES: dict[str, dict[str, Any]] = {
    "apply_as_partner": {
        "request": {"display_name": "Acme Apps", "contact_email": "billing@acme.example", "country": "DE",
                    "website": "https://acme.example"},
        "response": {"partner_id": _PARTNER, "status": "pending", "display_name": "Acme Apps",
                     "contact_email": "billing@acme.example", "country": "DE", "website": "https://acme.example",
                     "commission_bps": 2000, "payouts_enabled": False, "created_at": _AT},
    },
    "create_listing": {
        "request": {"type": "app", "name": "Photo Studio Pro", "slug": "photo-studio-pro",
                    "summary": "Edit photos in the browser, with layers and RAW import.",
                    "category": "productivity", "tags": ["photo", "editor"], "price": _PRICE},
        "response": {**_LISTING_BODY, "status": "draft", "version": 1, "published_at": None,
                     "rating": {"count": 0, "average": 0, "histogram": {str(i): 0 for i in range(1, 6)}}},
    },
    "browse_listings": {
        "params": {"category": "productivity", "sort": "top_rated", "limit": 20},
        "response": {"items": [_LISTING_BODY], "next_cursor": None},
    },
    "get_public_listing": {"params": {"listing_id": _LISTING}, "response": _LISTING_BODY},
    "place_order": {
        "description": "Answers the order with the PaymentIntent's `client_secret`: confirm it with Stripe.js; "
                       "the `payment_intent.succeeded` webhook then marks the order paid and grants the apps.",
        "request": {"items": [{"listing_id": _LISTING}]},
        "response": _ORDER_BODY,
    },
    "get_order": {"params": {"order_id": _ORDER},
                  "response": {**_ORDER_BODY, "status": "paid", "paid_at": "2026-11-22T10:00:41Z"}},
    "refund_order": {
        "params": {"order_id": _ORDER},
        "request": {"reason": "Customer could not import RAW files.", "amount": 500},
    },
    "create_review": {
        "params": {"listing_id": _LISTING},
        "request": {"rating": 5, "title": "Does what it says", "body": "Fast, and RAW import just works."},
    },
    "set_partner_commission": {
        "params": {"partner_id": _PARTNER},
        "request": {"bps": 1500, "effective_from": "2027-01-01"},
    },
    "stripe_webhook": {
        "description": "Stripe's events, signed with the endpoint secret; the types acted on are listed under "
                       "Webhooks. Anything else is acknowledged and ignored.",
        "request": {"id": "evt_3Qh8Zr2eZvKYlo2C", "object": "event", "type": "payment_intent.succeeded",
                    "created": 1795000000, "livemode": False,
                    "data": {"object": {"id": "pi_3Qh8Zr2eZvKYlo2C", "object": "payment_intent",
                                        "status": "succeeded", "amount": 1999, "currency": "eur"}}},
        "response": {"received": True, "event_id": "evt_3Qh8Zr2eZvKYlo2C", "type": "payment_intent.succeeded",
                     "outcome": "applied"},
    },
    # The docs page and Redoc's script are not JSON.
    "docs_page": {"content": {"text/html": {"schema": {"type": "string"}}}},
    "docs_script": {"content": {"text/javascript": {"schema": {"type": "string"}}}},
}

# (create, target) pairs not linked although the target takes the id the create returns: the target does
# not show what the create just made, so following the link would tell a client (or a fuzzer) nothing true.
UNLINKED: set[tuple[str, str]] = {
    (create, target)
    for create in ("create_listing", "create_admin_bundle")  # a new listing is a draft nobody has bought
    for target in ("get_public_listing", "list_listing_reviews", "get_my_entitlement", "get_my_licence",
                   "get_my_review")
}

# Links beyond "create -> what takes its id": from a list to what takes the id of its first item, so a
# client (or the fuzzer's stateful phase) can buy what the catalog shows and act on the orders it lists.
# operationId of the source -> (status, link name, link).
_FIRST_LISTING = "$response.body#/items/0/listing_id"
EXTRA_LINKS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "browse_listings": [
        ("200", "get_public_listing", {"operationId": "get_public_listing",
                                       "parameters": {"path.listing_id": _FIRST_LISTING}}),
        ("200", "list_listing_reviews", {"operationId": "list_listing_reviews",
                                         "parameters": {"path.listing_id": _FIRST_LISTING}}),
        ("200", "place_order", {"operationId": "place_order", "description": "Buy the first listing shown.",
                                "requestBody": {"items": [{"listing_id": _FIRST_LISTING}]}}),
    ],
    "list_orders": [
        ("200", target, {"operationId": target, "parameters": {"path.order_id": "$response.body#/items/0/order_id"}})
        for target in ("get_order", "cancel_order", "refund_order")
    ],
    "list_partners": [
        ("200", target, {"operationId": target,
                         "parameters": {"path.partner_id": "$response.body#/items/0/partner_id"}})
        for target in ("get_partner", "approve_partner", "reject_partner", "suspend_partner", "reinstate_partner")
    ],
    "review_queue": [
        ("200", target, {"operationId": target,
                         "parameters": {"path.listing_id": "$response.body#/items/0/listing_id"}})
        for target in ("get_listing_as_admin", "approve_listing", "reject_listing")
    ],
}
