"""Reconciliation routes: run one for a period, read it back as JSON (paged) or CSV."""
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
    summary="Compare the ledger with Stripe's payments, refunds and transfers for a period (UTC dates, "
            "inclusive); reports `matched` and each discrepancy",
    auth=FINANCE, body=schemas.CREATE_BODY, status=201, response=schemas.RECONCILIATION,
)
def create_reconciliation(req: Request) -> dict:
    from chalicelib.ledger.statements import period
    from chalicelib.reconciliation import service
    from chalicelib.reconciliation.sources import stripe_listing

    p = period(req.body["from"], req.body["to"], where="body")
    recon = service.reconcile(actor=req.user.sub, roles=req.user.groups, p=p, listing=stripe_listing())
    return _result(recon, limit=100, cursor=None)


@router.route(
    "/finance/reconciliations/{reconciliation_id}", "GET",
    summary="A reconciliation and its discrepancies (paged); `format=csv` for all of them as CSV",
    auth=FINANCE, query=schemas.GET_QUERY, response=schemas.RECONCILIATION, errors=(404,),
)
def get_reconciliation(req: Request):
    from chalicelib.reconciliation import service

    recon = service.require(req.params["reconciliation_id"])
    if req.query.get("format") == "csv":
        return csv_response(service.as_csv(recon.recon_id), f"reconciliation-{recon.recon_id}.csv")
    return _result(recon, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))
