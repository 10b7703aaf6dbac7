"""Schemas of the ledger routes: balances, statements and the finance journal."""
from __future__ import annotations

from chalicelib.schemas.common import CURRENCY, DATE, ID, REASON, list_query, page_of

FORMAT = {"type": "string", "enum": ["json", "csv"], "default": "json"}
ACCOUNT = {"type": "string", "maxLength": 120,
           "pattern": "^(partner:[A-Za-z0-9_-]{1,64}|platform:[a-z_]{1,40}):(usd|eur|gbp)$"}

BALANCE_ENTRY = {
    "type": "object",
    "required": ["pending", "available", "paid_out"],
    "properties": {"pending": {"type": "integer"}, "available": {"type": "integer"},
                   "paid_out": {"type": "integer"}, "balance": {"type": "integer"}},
}
BALANCE_RESPONSE = {"type": "object", "propertyNames": CURRENCY, "additionalProperties": BALANCE_ENTRY}

STATEMENT_QUERY = list_query(**{"from": DATE, "to": DATE, "currency": CURRENCY, "format": FORMAT})
STATEMENT_ITEM = {
    "type": "object",
    "required": ["at", "type", "currency", "gross", "fee", "net", "balance"],
    "properties": {
        "at": {"type": "string"}, "type": {"type": "string"}, "txn_id": {"type": "string"},
        "reference": {"type": ["string", "null"]}, "currency": CURRENCY, "gross": {"type": "integer"},
        "fee": {"type": "integer"}, "net": {"type": "integer"}, "balance": {"type": "integer"},
        "lines": {"type": "array", "items": {"type": "object"}},
    },
}
STATEMENT_RESPONSE = {
    "type": "object",
    "required": ["partner_id", "currency", "from", "to", "opening_balance", "closing_balance", "totals", "items",
                 "next_cursor"],
    "properties": {
        "partner_id": {"type": "string"}, "currency": CURRENCY, "from": {"type": "string"}, "to": {"type": "string"},
        "opening_balance": {"type": "integer"}, "closing_balance": {"type": "integer"},
        "totals": {"type": "object", "additionalProperties": {"type": "integer"}},
        "items": {"type": "array", "items": STATEMENT_ITEM}, "next_cursor": {"type": ["string", "null"]},
    },
}

LEDGER_QUERY = list_query(**{"account": ACCOUNT, "from": DATE, "to": DATE})
JOURNAL_LINE = {
    "type": "object",
    "required": ["account", "debit", "credit"],
    "properties": {"account": {"type": "string"}, "debit": {"type": "integer"}, "credit": {"type": "integer"},
                   "memo": {"type": "string"}, "source": {"type": "object"}},
}
JOURNAL_ENTRY = {
    "type": "object",
    "required": ["txn_id", "kind", "at", "currency", "lines"],
    "properties": {
        "txn_id": {"type": "string"}, "kind": {"type": "string"}, "at": {"type": "string"}, "currency": CURRENCY,
        "account": {"type": "string"}, "debit": {"type": "integer"}, "credit": {"type": "integer"},
        "lines": {"type": "array", "items": JOURNAL_LINE}, "refs": {"type": "object"},
    },
}
LEDGER_PAGE = page_of(JOURNAL_ENTRY)

ADJUSTMENT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["partner_id", "amount", "reason"],
    "properties": {
        "partner_id": ID,
        "amount": {"type": "object", "additionalProperties": False, "required": ["amount", "currency"],
                   "properties": {"amount": {"type": "integer", "minimum": -100_000_000, "maximum": 100_000_000},
                                  "currency": CURRENCY}},
        "reason": REASON,
    },
}
ADJUSTMENT = {
    "type": "object", "required": ["adjustment_id", "partner_id", "amount", "reason", "txn_id"],
    "properties": {"adjustment_id": {"type": "string"}, "partner_id": {"type": "string"},
                   "amount": {"type": "object"}, "reason": {"type": "string"}, "txn_id": {"type": "string"}},
}
