"""Ledger routes: a partner's balance and statement, and the finance journal."""
from __future__ import annotations

from chalicelib.http.routing import Reply, Request, Router
from chalicelib.http.responses import csv_response
from chalicelib.schemas import ledger as schemas

router = Router("ledger", tag="money")
FINANCE = ("finance",)


@router.route(
    "/partner/balance", "GET", summary="The caller's partner balance per currency: pending, available, paid out",
    response=schemas.BALANCE_RESPONSE, errors=(404,), key_scope="sales:read",
)
def get_partner_balance(req: Request) -> dict:
    from chalicelib.ledger import balances
    from chalicelib.partners.service import partner_of

    partner = partner_of(req.user)
    return {cur: bal.to_dict() for cur, bal in sorted(balances.partner_balances(partner.partner_id).items())}


@router.route(
    "/partner/statement", "GET",
    summary="The caller's statement for a period (dates, UTC, inclusive): sales, refunds, fees, payouts and "
            "running balance; `format=csv` for a spreadsheet",
    query=schemas.STATEMENT_QUERY, response=schemas.STATEMENT_RESPONSE, errors=(404,), key_scope="sales:read",
)
def get_partner_statement(req: Request):
    from chalicelib.ledger import statements
    from chalicelib.partners.service import partner_of

    partner = partner_of(req.user)
    q = req.query
    p = statements.period(q.get("from"), q.get("to"))
    if q.get("format") == "csv":
        text = statements.statement_csv(partner.partner_id, currency=q.get("currency"), p=p)
        return csv_response(text, f"statement-{partner.partner_id}-{p.start}-{p.end}.csv")
    return statements.statement(partner.partner_id, currency=q.get("currency"), p=p, limit=q.get("limit", 20),
                                cursor=q.get("cursor"))


@router.route(
    "/finance/ledger", "GET",
    summary="Journal entries in time order, optionally the postings of one account "
            "(`partner:<id>:<cur>`, `platform:cash:<cur>`, `platform:fees:<cur>`, ...)",
    auth=FINANCE, query=schemas.LEDGER_QUERY, response=schemas.LEDGER_PAGE,
)
def get_finance_ledger(req: Request) -> dict:
    from chalicelib.ledger import statements

    q = req.query
    p = statements.period(q.get("from"), q.get("to"))
    page = statements.journal_page(account=q.get("account"), p=p, limit=q.get("limit", 20), cursor=q.get("cursor"))
    return {"items": [item.to_dict() for item in page.items], "next_cursor": page.next_cursor}


@router.route(
    "/finance/adjustments", "POST",
    summary="Correct a partner's balance with a new balanced journal entry (positive credits the partner); "
            "`Idempotency-Key` required: a retry with the same key and body replays the first answer",
    auth=FINANCE, body=schemas.ADJUSTMENT_BODY, status=201, response=schemas.ADJUSTMENT, errors=(404, 409),
)
def create_adjustment(req: Request) -> Reply:
    from chalicelib.ledger import adjustments

    answer = adjustments.adjust(actor=req.user, body=req.body, headers=req.headers)
    return Reply(answer.body, answer.status, headers=answer.headers)
