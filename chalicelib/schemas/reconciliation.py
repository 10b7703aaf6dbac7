"""Schemas of the reconciliation routes."""
from __future__ import annotations

from chalicelib.schemas.common import CURSOR, DATE, LIMIT, list_query, page_of

KIND = {"type": "string", "enum": ["missing_in_ledger", "missing_in_stripe", "amount_mismatch", "status_mismatch"]}

# A UTC date (the whole day) or an ISO 8601 timestamp (that instant); the service parses both strictly.
DATE_OR_TIMESTAMP = {"anyOf": [DATE, {"type": "string", "format": "date-time"}]}
CREATE_BODY = {
    "type": "object", "additionalProperties": False, "required": ["from", "to"],
    "properties": {"from": DATE_OR_TIMESTAMP, "to": DATE_OR_TIMESTAMP},
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
STATUS = {"type": "string", "enum": ["queued", "running", "completed"]}
SUMMARY_PROPERTIES = {
    "reconciliation_id": {"type": "string"}, "status": STATUS, "from": {"type": "string"}, "to": {"type": "string"},
    "actor": {"type": "string"}, "started_at": {"type": "string"}, "finished_at": {"type": ["string", "null"]},
    "matched": {"type": "integer"}, "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    "stripe_objects": {"type": "integer"}, "ledger_records": {"type": "integer"},
    "phase": {"type": ["string", "null"]},
}
RECONCILIATION_SUMMARY = {"type": "object", "required": ["reconciliation_id", "status"],
                          "properties": SUMMARY_PROPERTIES}
LIST_QUERY = list_query()
RECONCILIATION_PAGE = page_of(RECONCILIATION_SUMMARY)
RECONCILIATION = {
    "type": "object",
    "required": ["reconciliation_id", "status", "from", "to", "matched", "counts", "discrepancies", "next_cursor"],
    "properties": {
        **SUMMARY_PROPERTIES, "from": {"type": "string"},
        "to": {"type": "string"}, "matched": {"type": "integer"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "stripe_objects": {"type": "integer"}, "ledger_records": {"type": "integer"},
        "discrepancies": {"type": "array", "items": DISCREPANCY}, "next_cursor": {"type": ["string", "null"]},
    },
}
