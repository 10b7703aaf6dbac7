"""Schemas of the reconciliation routes."""
from __future__ import annotations

from chalicelib.schemas.common import CURSOR, DATE, LIMIT

KIND = {"type": "string", "enum": ["missing_in_ledger", "missing_in_stripe", "amount_mismatch", "status_mismatch"]}

CREATE_BODY = {
    "type": "object", "additionalProperties": False, "required": ["from", "to"],
    "properties": {"from": DATE, "to": DATE},
}
GET_QUERY = {
    "type": "object", "additionalProperties": False,
    "properties": {"format": {"type": "string", "enum": ["json", "csv"]}, "limit": LIMIT, "cursor": CURSOR},
}
DISCREPANCY = {
    "type": "object",
    "required": ["kind", "object_kind", "currency", "stripe_id", "stripe_amount", "ledger_txn_id", "ledger_amount"],
    "properties": {
        "kind": KIND, "object_kind": {"type": "string", "enum": ["payment", "refund", "transfer"]},
        "currency": {"type": "string"}, "stripe_id": {"type": ["string", "null"]},
        "stripe_amount": {"type": ["integer", "null"]}, "stripe_status": {"type": ["string", "null"]},
        "ledger_txn_id": {"type": ["string", "null"]}, "ledger_amount": {"type": ["integer", "null"]},
        "ledger_status": {"type": ["string", "null"]}, "entity_id": {"type": ["string", "null"]},
    },
}
RECONCILIATION = {
    "type": "object",
    "required": ["reconciliation_id", "status", "from", "to", "matched", "counts", "discrepancies", "next_cursor"],
    "properties": {
        "reconciliation_id": {"type": "string"}, "status": {"type": "string"}, "from": {"type": "string"},
        "to": {"type": "string"}, "matched": {"type": "integer"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "stripe_objects": {"type": "integer"}, "ledger_records": {"type": "integer"},
        "discrepancies": {"type": "array", "items": DISCREPANCY}, "next_cursor": {"type": ["string", "null"]},
    },
}
