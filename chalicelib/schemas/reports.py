"""Schemas of the finance reports."""
from __future__ import annotations

from chalicelib.schemas.common import CURRENCY, DATE, list_query

REPORT_QUERY = list_query(**{"from": DATE, "to": DATE, "currency": CURRENCY,
                             "format": {"type": "string", "enum": ["json", "csv"]}})
FIGURES = ("gross", "fees", "net", "refunds", "payouts", "adjustments", "balance", "pending", "available", "paid_out")
PARTNER_FIGURES = {
    "type": "object",
    "required": ["partner_id", "currency", "gross", "fees", "net", "refunds", "payouts", "balance"],
    "properties": {"partner_id": {"type": "string"}, "display_name": {"type": ["string", "null"]},
                   "currency": CURRENCY, **{name: {"type": "integer"} for name in FIGURES},
                   # Monthly recurring revenue now: the partner's gross share of its active and past-due
                   # subscriptions (trials excluded), a yearly price counted as price / 12 rounded half up.
                   "mrr": {"type": "object", "required": ["amount", "currency"],
                           "properties": {"amount": {"type": "integer"}, "currency": CURRENCY}}},
}
REPORT = {
    "type": "object",
    "required": ["from", "to", "items", "next_cursor"],
    "properties": {"from": {"type": "string"}, "to": {"type": "string"},
                   "items": {"type": "array", "items": PARTNER_FIGURES}, "next_cursor": {"type": ["string", "null"]}},
}
