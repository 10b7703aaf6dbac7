"""Audit records in the single table, written inside the transaction of the action they record.

Rows live under `AUDIT#<entity_id>` (history of one thing, newest first) and on `gsi1` under `AUDIT`
(the global feed, newest first). Records are append-only: nothing updates or deletes them.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, UnicodeAttribute

from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem


class AuditItem(MarketItem, discriminator="Audit"):
    audit_id = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    actor_roles = ListAttribute(of=UnicodeAttribute, default=list)
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)

    def to_dict(self) -> dict:
        return {
            "audit_id": self.audit_id, "at": self.at, "actor": self.actor, "actor_roles": list(self.actor_roles),
            "action": self.action, "entity_type": self.entity_type, "entity_id": self.entity_id,
            "reason": self.reason, "data": self.data or {},
        }


def audit_item(
    *, actor: str, actor_roles: frozenset[str] | list[str] = (), action: str, entity_type: str, entity_id: str,
    reason: str | None = None, data: dict | None = None, at: str | None = None,
) -> AuditItem:
    """Build (not save) an audit row, to be put in the same transaction as the change it records."""
    at = at or clock.now_iso()
    audit_id = new_id("aud")
    return AuditItem(
        pk=keys.audit_pk(entity_id), sk=keys.audit_sk(at, audit_id),
        gsi1pk=keys.AUDIT_ALL_PK, gsi1sk=keys.audit_sk(at, audit_id),
        audit_id=audit_id, at=at, actor=actor, actor_roles=sorted(actor_roles), action=action,
        entity_type=entity_type, entity_id=entity_id, reason=reason, data=data or {},
    )


def list_audit(*, entity_id: str | None, limit: int, cursor: str | None, scope: str) -> Page[AuditItem]:
    """Newest first: one entity's history (table key) or the global feed (gsi1)."""
    if entity_id:
        return query_page(
            lambda size, start: AuditItem.query(
                keys.audit_pk(entity_id), scan_index_forward=False, limit=size, last_evaluated_key=start
            ),
            limit=limit, cursor=cursor, scope=scope,
        )
    return query_page(
        lambda size, start: AuditItem.gsi1.query(
            keys.AUDIT_ALL_PK, scan_index_forward=False, limit=size, last_evaluated_key=start
        ),
        limit=limit, cursor=cursor, scope=scope, index="gsi1",
    )
