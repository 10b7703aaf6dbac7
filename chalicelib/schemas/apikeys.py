"""Schemas of the partner API-key routes: create, list, revoke."""
from __future__ import annotations

from chalicelib.core import vocabulary as words
from chalicelib.schemas.common import TIMESTAMP, list_query, page_of, single_line

SCOPE = {"type": "string", "enum": list(words.API_KEY_SCOPES)}

CREATE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "scopes"],
    "properties": {
        "name": single_line(100),
        "scopes": {"type": "array", "items": SCOPE, "minItems": 1, "maxItems": len(words.API_KEY_SCOPES),
                   "uniqueItems": True},
    },
}

LIST_QUERY = list_query()

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

KEY = {
    "type": "object",
    "required": ["key_id", "name", "scopes", "created_at", "last_used_at", "revoked_at"],
    "properties": {
        "key_id": {"type": "string"},
        "name": {"type": "string"},
        "scopes": {"type": "array", "items": SCOPE},
        "created_at": TIMESTAMP,
        "last_used_at": _NULLABLE_TIME,
        "revoked_at": _NULLABLE_TIME,
    },
}

CREATED = {
    "type": "object",
    "required": ["key_id", "name", "scopes", "secret", "created_at"],
    "properties": {
        **KEY["properties"],
        "secret": {"type": "string", "pattern": "^mpk_",
                   "description": "Shown only in this answer; the marketplace keeps only its SHA-256."},
    },
}

KEY_PAGE = page_of(KEY)
