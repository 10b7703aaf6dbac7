"""Schemas of the audit trail routes."""
from __future__ import annotations

from chalicelib.schemas.common import ID, list_query, page_of

AUDIT_QUERY = list_query(entity_id=ID)

AUDIT_RECORD = {
    "type": "object",
    "required": ["audit_id", "at", "actor", "action", "entity_type", "entity_id"],
    "properties": {
        "audit_id": {"type": "string"}, "at": {"type": "string"}, "actor": {"type": "string"},
        "actor_roles": {"type": "array", "items": {"type": "string"}}, "action": {"type": "string"},
        "entity_type": {"type": "string"}, "entity_id": {"type": "string"},
        "reason": {"type": ["string", "null"]}, "data": {"type": "object"},
    },
}
AUDIT_PAGE = page_of(AUDIT_RECORD)
