"""Reconciliation routes: start one (202, a queued job), list them, read one back as JSON (paged) or CSV."""
from __future__ import annotations

from chalicelib.http.routing import Request, Router
from chalicelib.http.responses import csv_response
from chalicelib.schemas import reconciliation as schemas

router = Router("reconciliation", tag="money")
FINANCE = ("finance",)


def _result(recon, *, limit: int, cursor: str | None) -> dict:
    from chalicelib.db.pages import query_page
    from chalicelib.reconciliation import service

    page = query_page(lambda size, start: service.discrepancies(recon.recon_id, limit=size, start=start),
                      limit=limit, cursor=cursor, scope=f"recon:{recon.recon_id}")
    return {**recon.to_dict(), "discrepancies": [item.data for item in page.items], "next_cursor": page.next_cursor}


@router.route(
    "/finance/reconciliations", "POST",
    summary="Start comparing the ledger with Stripe's payments, refunds and transfers for a period (202 at once; "
            "a queued job reads Stripe page by page). `from` and `to` are each a UTC date (the whole day) or an "
            "ISO 8601 timestamp; both ends inclusive",
    auth=FINANCE, body=schemas.CREATE_BODY, status=202, response=schemas.RECONCILIATION_SUMMARY, errors=(503,),
)
def create_reconciliation(req: Request) -> dict:
    from chalicelib.reconciliation import service
    from chalicelib.reconciliation.window import window

    w = window(req.body["from"], req.body["to"])
    return service.start(actor=req.user.sub, roles=req.user.groups, w=w).to_dict()


@router.route(
    "/finance/reconciliations", "GET", summary="Reconciliations, newest first, with their status and counts",
    auth=FINANCE, query=schemas.LIST_QUERY, response=schemas.RECONCILIATION_PAGE,
)
def list_reconciliations(req: Request) -> dict:
    from chalicelib.reconciliation import repository

    page = repository.reconciliations_page(limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))
    return {"items": [recon.to_dict() for recon in page.items], "next_cursor": page.next_cursor}


@router.route(
    "/finance/reconciliations/{reconciliation_id}", "GET",
    summary="A reconciliation: `status` (queued, running, completed), then `matched` and its discrepancies "
            "(paged); `format=csv` for all of them as CSV once completed (409 before)",
    auth=FINANCE, query=schemas.GET_QUERY, response=schemas.RECONCILIATION, errors=(404, 409),
)
def get_reconciliation(req: Request):
    from chalicelib.reconciliation import service

    recon = service.require(req.params["reconciliation_id"])
    if req.query.get("format") == "csv":
        return csv_response(service.as_csv(recon), f"reconciliation-{recon.recon_id}.csv")
    return _result(recon, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))
