"""Schemas of checkout: orders, refunds, entitlements and the Stripe webhook's answer."""
from __future__ import annotations

from chalicelib.core.vocabulary import MAX_ORDER_LINES as MAX_LINES, ORDER_STATUSES as STATUSES
from chalicelib.schemas.common import ID, MONEY, REASON, list_query, page_of

ORDER_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array", "minItems": 1, "maxItems": MAX_LINES, "uniqueItems": True,
            "items": {"type": "object", "additionalProperties": False, "required": ["listing_id"],
                      "properties": {"listing_id": ID}},
        },
    },
}

ORDER_STATUS = {"type": "string", "enum": list(STATUSES)}
AMOUNT = {**MONEY, "properties": {**MONEY["properties"], "amount": {"type": "integer"}}}

LINE = {
    "type": "object",
    "required": ["line_id", "listing_id", "type", "name", "price", "refunded", "parts"],
    "properties": {
        "line_id": {"type": "string"}, "listing_id": {"type": "string"},
        "type": {"type": "string", "enum": ["app", "bundle"]}, "name": {"type": "string"},
        "price": AMOUNT, "refunded": AMOUNT,
        "parts": {"type": "array", "items": {
            "type": "object", "required": ["listing_id", "partner_id", "amount", "commission_bps"],
            "properties": {"listing_id": {"type": "string"}, "partner_id": {"type": "string"}, "amount": AMOUNT,
                           "commission_bps": {"type": "integer"}}}},
    },
}

REFUND = {
    "type": "object",
    "required": ["refund_id", "order_id", "amount", "lines", "reason", "created_at"],
    "properties": {
        "refund_id": {"type": "string"}, "order_id": {"type": "string"}, "amount": AMOUNT,
        "lines": {"type": "array", "items": {"type": "object", "properties": {
            "line_id": {"type": "string"}, "amount": AMOUNT}}},
        "stripe_refund_id": {"type": ["string", "null"]}, "reason": {"type": "string"},
        "created_at": {"type": "string"},
    },
}

ORDER = {
    "type": "object",
    "required": ["order_id", "status", "total", "lines", "payment", "currency", "created_at"],
    "properties": {
        "order_id": {"type": "string"}, "status": ORDER_STATUS, "customer_sub": {"type": "string"},
        "currency": {"type": "string"}, "total": AMOUNT, "refunded": AMOUNT,
        "lines": {"type": "array", "items": LINE},
        "payment": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["payment_intent_id", "client_secret"],
            "properties": {"payment_intent_id": {"type": "string"}, "client_secret": {"type": ["string", "null"]}}}]},
        "created_at": {"type": "string"}, "paid_at": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"]}, "failure_reason": {"type": ["string", "null"]},
        "refunds": {"type": "array", "items": REFUND},
    },
}
ORDER_PAGE = page_of(ORDER)
ORDERS_QUERY = list_query(customer={**ID, "maxLength": 256, "pattern": "^[^\\x00-\\x1f\\x7f]+$"})

REFUND_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {
        "reason": REASON,
        "amount": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
        "listing_ids": {"type": "array", "minItems": 1, "maxItems": MAX_LINES, "uniqueItems": True, "items": ID},
    },
}
REFUND_RESPONSE = {
    "type": "object", "required": ["refund", "order"],
    "properties": {"refund": {"oneOf": [{"type": "null"}, REFUND]}, "order": ORDER},
}

ENTITLEMENT = {
    "type": "object",
    "required": ["listing_id", "type", "order_id", "granted_at"],
    "properties": {
        "listing_id": {"type": "string"}, "type": {"type": "string", "enum": ["app", "bundle"]},
        "name": {"type": ["string", "null"]}, "order_id": {"type": ["string", "null"]},
        "via_bundle": {"type": ["string", "null"]}, "granted_at": {"type": "string"},
        # Held through a subscription: which one, and until when at the latest (null for a purchase).
        "via": {"type": "string", "enum": ["order", "subscription"]},
        "subscription_id": {"type": ["string", "null"]}, "expires_at": {"type": ["string", "null"]},
    },
}
ENTITLEMENT_PAGE = page_of(ENTITLEMENT)
ENTITLEMENTS_QUERY = list_query()

WEBHOOK_RESPONSE = {
    "type": "object", "required": ["received"],
    "properties": {"received": {"type": "boolean"}, "event_id": {"type": "string"}, "type": {"type": "string"},
                   "outcome": {"type": "string"}},
}
