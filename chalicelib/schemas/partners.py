"""Schemas of the partner routes."""
from __future__ import annotations

from chalicelib.core.countries import ISO_COUNTRIES
from chalicelib.schemas.common import DATE, list_query, page_of, reason_body, single_line

DISPLAY_NAME = single_line(100)
EMAIL = {"type": "string", "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"}
COUNTRY = {"type": "string", "enum": sorted(ISO_COUNTRIES)}
WEBSITE = {"type": "string", "maxLength": 2000, "pattern": "^https?://[^\\s/?#]+\\.[^\\s]+$"}
STATUS = {"type": "string", "enum": ["pending", "approved", "rejected", "suspended"]}

APPLY_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["display_name", "contact_email", "country"],
    "properties": {"display_name": DISPLAY_NAME, "contact_email": EMAIL, "country": COUNTRY, "website": WEBSITE},
}

UPDATE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "display_name": DISPLAY_NAME, "contact_email": EMAIL, "country": COUNTRY,
        "website": {"anyOf": [WEBSITE, {"type": "null"}]},
    },
}

ADMIN_LIST_QUERY = list_query(status=STATUS)
REASON_BODY = reason_body()

COMMISSION_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["bps", "effective_from"],
    "properties": {"bps": {"type": "integer", "minimum": 0, "maximum": 10000}, "effective_from": DATE},
}

COMMISSION_ENTRY = {
    "type": "object",
    "properties": {
        "bps": {"type": "integer"}, "effective_from": {"type": "string"},
        "set_at": {"type": "string"}, "set_by": {"type": "string"},
    },
}

PARTNER = {
    "type": "object",
    "required": ["partner_id", "status", "display_name", "commission_bps", "payouts_enabled"],
    "properties": {
        "partner_id": {"type": "string"}, "status": STATUS, "display_name": {"type": "string"},
        "contact_email": {"type": "string"}, "country": {"type": "string"},
        "website": {"type": ["string", "null"]}, "status_reason": {"type": ["string", "null"]},
        "commission_bps": {"type": "integer"},
        "commission_history": {"type": "array", "items": COMMISSION_ENTRY},
        "payouts_enabled": {"type": "boolean"}, "stripe_account_id": {"type": ["string", "null"]},
        "owner_sub": {"type": "string"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"},
    },
}
APPLY_RESPONSE = {**PARTNER, "required": ["partner_id", "status"]}
PARTNER_PAGE = page_of(PARTNER)

# Approval takes an optional note for the audit record.
EMPTY_OR_REASON = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": REASON_BODY["properties"]["reason"]},
}
