"""Schemas of the payout routes: payout accounts, payout runs and a partner's payouts."""
from __future__ import annotations

from chalicelib.schemas.common import CURRENCY, CURSOR, EMPTY_BODY, LIMIT, MONEY, list_query, page_of

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
RUN_STATUS = {"type": "string", "enum": ["queued", "running", "completed", "completed_with_failures", "interrupted"]}
PROGRESS = {
    "type": "object",
    "required": ["partners_total", "paid", "failed", "skipped"],
    "properties": {name: {"type": "integer"} for name in ("partners_total", "paid", "failed", "skipped", "pending")},
}
RUN_SUMMARY = {
    "type": "object",
    "required": ["payout_run_id", "status", "progress"],
    "properties": {
        "payout_run_id": {"type": "string"}, "status": RUN_STATUS, "trigger": {"type": "string"},
        "actor": {"type": "string"}, "currency": {"type": ["string", "null"]}, "started_at": {"type": "string"},
        "finished_at": {"type": ["string", "null"]}, "progress": PROGRESS,
        "paid_amounts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "planning_done": {"type": "boolean"},
    },
}
RUN = {
    "type": "object",
    "required": ["payout_run_id", "status", "progress", "payouts", "skipped"],
    "properties": {
        **RUN_SUMMARY["properties"],
        "payouts": {"type": "array", "items": PAYOUT}, "payouts_next_cursor": {"type": ["string", "null"]},
        "skipped": {"type": "array", "items": SKIP}, "skipped_next_cursor": {"type": ["string", "null"]},
    },
}
RUN_QUERY = {
    "type": "object", "additionalProperties": False,
    "properties": {"limit": LIMIT, "payouts_cursor": CURSOR, "skipped_cursor": CURSOR},
}
RUNS_QUERY = list_query()
RUN_PAGE = page_of(RUN_SUMMARY)
PAYOUTS_QUERY = list_query()
PAYOUT_PAGE = page_of(PAYOUT)
