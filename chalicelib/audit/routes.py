"""`GET /admin/audit`: the audit trail, for admins and finance."""
from __future__ import annotations

from chalicelib.http.routing import Request, Router
from chalicelib.schemas import audit as schemas

router = Router("audit", tag="operations")


@router.route(
    "/admin/audit", "GET", summary="Read audit records, newest first (optionally of one entity)",
    auth=("admin", "finance"), query=schemas.AUDIT_QUERY, response=schemas.AUDIT_PAGE,
)
def list_audit_records(req: Request) -> dict:
    from chalicelib.audit import repository

    entity_id = req.query.get("entity_id")
    page = repository.list_audit(
        entity_id=entity_id, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"),
        scope=f"audit:{entity_id or '*'}",
    )
    return {"items": [r.to_dict() for r in page.items], "next_cursor": page.next_cursor}
