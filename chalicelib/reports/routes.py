"""`GET /finance/reports/partners`: per partner and currency figures for a period, JSON or CSV."""
from __future__ import annotations

from chalicelib.http.routing import Request, Router
from chalicelib.http.responses import csv_response
from chalicelib.schemas import reports as schemas

router = Router("reports", tag="money")


@router.route(
    "/finance/reports/partners", "GET",
    summary="Per partner and currency for a period (UTC dates, inclusive): gross, fees, net, refunds, payouts, "
            "balance at the period's end; `format=csv` for every partner as CSV",
    auth=("finance",), query=schemas.REPORT_QUERY, response=schemas.REPORT,
)
def get_partner_report(req: Request):
    from chalicelib.ledger.statements import period
    from chalicelib.reports import service

    q = req.query
    p = period(q.get("from"), q.get("to"))
    if q.get("format") == "csv":
        return csv_response(service.report_csv(p, currency=q.get("currency")), f"partners-{p.start}-{p.end}.csv")
    return service.report_page(p, currency=q.get("currency"), limit=q.get("limit", 20), cursor=q.get("cursor"))
