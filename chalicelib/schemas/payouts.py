"""Schemas of the payout routes: payout accounts, payout runs and a partner's payouts."""
from __future__ import annotations

from chalicelib.schemas.common import CURRENCY, EMPTY_BODY, MONEY, list_query, page_of

PAYOUT_ACCOUNT_BODY = EMPTY_BODY
PAYOUT_ACCOUNT = {
    "type": "object",
    "required": ["stripe_account_id", "onboarding_url"],
    "properties": {"stripe_account_id": {"type": "string"}, "onboarding_url": {"type": "string"},
                   "payouts_enabled": {"type": "boolean"}},
}

SANDBOX_ONBOARD_QUERY = {
    "type": "object", "additionalProperties": False, "required": ["token"],
    "properties": {"token": {"type": "string", "minLength": 1, "maxLength": 100}},
}
SANDBOX_ONBOARDED = {
    "type": "object",
    "required": ["account_id", "payouts_enabled"],
    "properties": {"account_id": {"type": "string"}, "partner_id": {"type": ["string", "null"]},
                   "payouts_enabled": {"type": "boolean"}},
}

RUN_BODY = {"type": "object", "additionalProperties": False, "properties": {"currency": CURRENCY}}

PAYOUT = {
    "type": "object",
    "required": ["payout_id", "partner_id", "amount", "status"],
    "properties": {
        "payout_id": {"type": "string"}, "run_id": {"type": ["string", "null"]}, "partner_id": {"type": "string"},
        "amount": {**MONEY, "properties": {**MONEY["properties"], "amount": {"type": "integer"}}},
        "status": {"type": "string", "enum": ["pending", "paid", "failed"]},
        "destination": {"type": "string"}, "transfer_id": {"type": ["string", "null"]},
        "failure_reason": {"type": ["string", "null"]}, "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
    },
}
SKIP = {
    "type": "object",
    "required": ["partner_id", "currency", "reason"],
    "properties": {"partner_id": {"type": "string"}, "currency": CURRENCY, "available": {"type": "integer"},
                   "reason": {"type": "string", "enum": [
                       "partner_not_approved", "payouts_disabled", "no_payout_account", "below_minimum",
                       "payout_in_progress", "unknown_partner"]}},
}
RUN = {
    "type": "object",
    "required": ["run_id", "status", "summary", "payouts", "skipped"],
    "properties": {
        "run_id": {"type": "string"}, "status": {"type": "string", "enum": ["running", "completed", "interrupted"]},
        "trigger": {"type": "string"}, "actor": {"type": "string"}, "currency": {"type": ["string", "null"]},
        "started_at": {"type": "string"}, "finished_at": {"type": ["string", "null"]},
        "summary": {"type": "object"}, "payouts": {"type": "array", "items": PAYOUT},
        "skipped": {"type": "array", "items": SKIP},
    },
}
PAYOUTS_QUERY = list_query()
PAYOUT_PAGE = page_of(PAYOUT)
