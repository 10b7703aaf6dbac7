"""Schemas of the partner webhook routes (`/partner/webhook-endpoints...`)."""
from __future__ import annotations

from chalicelib.core.vocabulary import PARTNER_EVENT_TYPES
from chalicelib.schemas.common import CURSOR, LIMIT, TIMESTAMP, page_of

URL = {"type": "string", "minLength": 8, "maxLength": 2048, "pattern": "^[hH][tT][tT][pP][sS]?://[^\\s]+$",
       "description": "https only in AWS stages (the local stage also accepts http://127.0.0.1:<port>); "
                      "never a private, loopback, link-local or reserved address, checked now and at every "
                      "delivery after DNS.",
       "examples": ["http://127.0.0.1:9000/marketplace", "https://hooks.partner.example/marketplace"]}

CREATE_BODY = {
    "type": "object", "additionalProperties": False, "required": ["url", "events"],
    "properties": {
        "url": URL,
        "events": {"type": "array", "minItems": 1, "maxItems": len(PARTNER_EVENT_TYPES) + 1, "uniqueItems": True,
                   "items": {"type": "string", "enum": ["*", *PARTNER_EVENT_TYPES]},
                   "description": "Event types to receive; `*` for all."},
    },
}

ENDPOINT = {
    "type": "object", "required": ["endpoint_id", "url", "events", "created_at"],
    "properties": {
        "endpoint_id": {"type": "string"}, "url": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string"}}, "created_at": TIMESTAMP,
    },
}
CREATED = {"allOf": [ENDPOINT, {"type": "object", "required": ["secret"], "properties": {
    "secret": {"type": "string", "pattern": "^whsec_", "description": (
        "Signs every delivery: `Marketplace-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`. "
        "Shown only in this response.")}}}]}
ENDPOINT_LIST = page_of(ENDPOINT)
DELETED = {"type": "object", "required": ["endpoint_id", "deleted"],
           "properties": {"endpoint_id": {"type": "string"}, "deleted": {"type": "boolean"}}}

DELIVERY = {
    "type": "object",
    "required": ["event_id", "type", "attempts", "status", "last_status_code", "next_attempt_at"],
    "properties": {
        "event_id": {"type": "string"}, "type": {"type": "string"}, "attempts": {"type": "integer"},
        "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
        "last_status_code": {"type": ["integer", "null"]}, "last_error": {"type": ["string", "null"]},
        "last_attempt_at": {"type": ["string", "null"]}, "next_attempt_at": {"type": ["string", "null"]},
        "created_at": TIMESTAMP,
    },
}
DELIVERY_PAGE = page_of(DELIVERY)
DELIVERIES_QUERY = {"type": "object", "additionalProperties": False,
                    "properties": {"limit": LIMIT, "cursor": CURSOR}}

REPLAY_BODY = {
    "type": "object", "additionalProperties": False,
    "properties": {"after": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$",
                             "description": "An event id: replay the events after it (absent: every event "
                                            "since the endpoint was registered)."}},
}
REPLAY_ACCEPTED = {"type": "object", "required": ["endpoint_id", "status"], "properties": {
    "endpoint_id": {"type": "string"}, "status": {"type": "string", "enum": ["queued"]},
    "after": {"type": ["string", "null"]}}}
