"""Schemas of the subscription routes: subscribe, the subscription and its invoices, invoice refunds."""
from __future__ import annotations

from chalicelib.core.vocabulary import PRICE_INTERVALS, SUBSCRIPTION_STATUSES
from chalicelib.schemas.common import ID, MONEY, REASON, list_query, page_of

SUBSCRIBE_BODY = {
    "type": "object", "additionalProperties": False, "required": ["listing_id"], "properties": {"listing_id": ID},
}
AMOUNT = {**MONEY, "properties": {**MONEY["properties"], "amount": {"type": "integer"}}}
NULLABLE_TIME = {"type": ["string", "null"]}

INVOICE = {
    "type": "object", "required": ["invoice_id", "amount", "paid_at", "refunded"],
    "properties": {"invoice_id": {"type": "string"}, "amount": AMOUNT, "paid_at": NULLABLE_TIME, "refunded": AMOUNT},
}
SUBSCRIPTION = {
    "type": "object",
    "required": ["subscription_id", "listing_id", "status", "current_period_end", "cancel_at_period_end", "payment",
                 "invoices"],
    "properties": {
        "subscription_id": {"type": "string"}, "listing_id": {"type": "string"},
        "listing_type": {"type": "string", "enum": ["app", "bundle"]}, "name": {"type": "string"},
        "listing_version": {"type": "integer"}, "customer_sub": {"type": "string"},
        "status": {"type": "string", "enum": list(SUBSCRIPTION_STATUSES)},
        "price": {"type": "object", "properties": {
            **AMOUNT["properties"], "interval": {"type": "string", "enum": list(PRICE_INTERVALS)},
            "trial_days": {"type": "integer"}}},
        "parts": {"type": "array", "items": {"type": "object", "properties": {
            "listing_id": {"type": "string"}, "partner_id": {"type": "string"}, "amount": AMOUNT}}},
        "current_period_end": NULLABLE_TIME, "cancel_at_period_end": {"type": "boolean"},
        # Until when the subscriber holds the listing (period end + grace while active, grace while past due,
        # the period end after a cancel); null when it does not.
        "access_until": NULLABLE_TIME, "past_due_since": NULLABLE_TIME, "canceled_at": NULLABLE_TIME,
        "payment": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["payment_intent_id", "client_secret"],
            "properties": {"payment_intent_id": {"type": "string"}, "client_secret": {"type": ["string", "null"]}}}]},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"},
        "invoices": {"type": "array", "items": INVOICE},
    },
}
SUBSCRIPTION_PAGE = page_of(SUBSCRIPTION)
SUBSCRIPTIONS_QUERY = list_query()

REFUND_BODY = {
    "type": "object", "additionalProperties": False, "required": ["invoice_id", "reason"],
    "properties": {"invoice_id": ID, "reason": REASON, "amount": {"type": "integer", "minimum": 1,
                                                                   "maximum": 100_000_000}},
}
REFUND = {
    "type": "object", "required": ["refund_id", "invoice_id", "amount", "reason", "created_at"],
    "properties": {"refund_id": {"type": "string"}, "subscription_id": {"type": "string"},
                   "invoice_id": {"type": "string"}, "amount": AMOUNT, "stripe_refund_id": {"type": ["string", "null"]},
                   "reason": {"type": "string"}, "created_at": {"type": "string"}},
}
REFUND_RESPONSE = {
    "type": "object", "required": ["refund", "invoice"],
    "properties": {"refund": {"oneOf": [{"type": "null"}, REFUND]}, "subscription_id": {"type": "string"},
                   "invoice": INVOICE},
}
