"""Schemas of the partner event feed (`GET /partner/events`)."""
from __future__ import annotations

from chalicelib.core.vocabulary import PARTNER_EVENT_TYPES
from chalicelib.schemas.common import LIMIT, TIMESTAMP

EVENT_ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$",
            "description": "An `event_id` of the caller's partner (`evt_…`)."}
TYPE_LIST = {"type": "string", "minLength": 1, "maxLength": 400, "pattern": "^[a-z_.]+(,[a-z_.]+)*$",
             "description": "Comma-separated event types to return, from: " + ", ".join(PARTNER_EVENT_TYPES)
             + ". The page reads at most 300 events; with a filter that matches little it may be short or "
               "empty while later events exist: keep following `next_cursor`."}

EVENTS_QUERY = {
    "type": "object", "additionalProperties": False,
    "properties": {"after": EVENT_ID, "types": TYPE_LIST, "limit": LIMIT},
}

EVENT = {
    "type": "object",
    "required": ["event_id", "type", "created_at", "data"],
    "properties": {
        "event_id": {"type": "string", "description": "Stable and unique: deduplicate on it."},
        "type": {"type": "string", "enum": list(PARTNER_EVENT_TYPES)},
        "created_at": TIMESTAMP,
        "data": {"type": "object", "description": (
            "sale.completed / refund.completed: `{source: {type: order|invoice, id}, customer, currency, gross, fee, "
            "net, lines: [{listing_id, gross, fee, net}]}` (Money; only your lines; `customer` is your "
            "pseudonymous id of the buyer, the licence's `sub`). listing.*: `{listing_id, name, version, status, "
            "revision, reason?}`. review.*: `{review_id, listing_id, rating, title, body, version, customer, "
            "created_at, updated_at}`.")},
    },
}

EVENTS_PAGE = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": EVENT},
        "next_cursor": {"type": ["string", "null"], "description": (
            "Pass as `after` next time: the last event returned (with `types`, the last event examined); on an "
            "empty page, `after` itself (null when `after` was absent and there are no events yet).")},
    },
}
