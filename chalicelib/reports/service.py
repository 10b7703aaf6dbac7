"""Per-partner figures for a period, from the day rows (never from the journal lines).

For each partner and currency: gross sales, fees (net of reversed fees), net earnings (net of
refunds), refunds (gross amount refunded), payouts (net of failed-payout returns), adjustments, the
balance at the end of the period, and today's pending/available split. A page is one Query of the
balance index (partners in id order) plus one BatchGet of their profiles and one bounded Query of day
rows per partner, so the cost follows the partners on the page, not their history.
"""
from __future__ import annotations

from typing import Iterator

from chalicelib.core.errors import BadCursor
from chalicelib.core.money import SUPPORTED_CURRENCIES, format_decimal
from chalicelib.db.cursors import decode_cursor, encode_cursor
from chalicelib.ledger.balances import balance_from_row, currency_balance_rows
from chalicelib.ledger.statements import Period, day_rows
from chalicelib.partners.repository import load_partners
from chalicelib.subscriptions.repository import mrr_of
from chalicelib.core.csvformat import render, safe_text


def partner_row(row, p: Period, names: dict[str, str]) -> dict:
    cur = row.currency
    figures = {"gross": 0, "fees": 0, "net": 0, "refunds": 0, "payouts": 0, "adjustments": 0}
    after_period = 0
    for day in day_rows(row.partner_id, cur, p.start):
        if day.day > p.end.isoformat():
            after_period += int(day.delta or 0)
            continue
        figures["gross"] += int(day.sales_gross or 0)
        figures["fees"] += int(day.sales_fees or 0) - int(day.refunds_fees or 0)
        figures["net"] += int(day.sales_net or 0) - int(day.refunds_net or 0)
        figures["refunds"] += int(day.refunds_gross or 0)
        figures["payouts"] += int(day.payouts or 0) - int(day.payout_returns or 0)
        figures["adjustments"] += int(day.adjustments or 0)
    now = balance_from_row(row)
    return {"partner_id": row.partner_id, "display_name": names.get(row.partner_id), "currency": cur, **figures,
            "balance": now.balance - after_period, "pending": now.pending, "available": now.available,
            "paid_out": now.paid_out}


def _names(partner_ids: list[str]) -> dict[str, str]:
    return {pid: p.display_name for pid, p in load_partners(partner_ids).items()}


def _rows(currencies: list[str], after: tuple[str, str] | None, size: int) -> Iterator:
    """Balance rows in (currency, partner id) order, from just after `after`."""
    for cur in currencies:
        if after and SUPPORTED_CURRENCIES.index(cur) < SUPPORTED_CURRENCIES.index(after[0]):
            continue
        yield from currency_balance_rows(cur, after_partner=after[1] if after and after[0] == cur else None,
                                         page_size=size)


def report_page(p: Period, *, currency: str | None, limit: int, cursor: str | None) -> dict:
    scope = f"report:{currency or '*'}:{p.start}:{p.end}"
    after = None
    if cursor:
        position = decode_cursor(cursor, scope)
        if not isinstance(position.get("cur"), str) or not isinstance(position.get("after"), str) \
                or position["cur"] not in SUPPORTED_CURRENCIES:
            raise BadCursor("The cursor is not valid for this list; start again without it.")
        after = (position["cur"], position["after"])
    currencies = [currency] if currency else list(SUPPORTED_CURRENCIES)
    rows = []
    more = False
    for row in _rows(currencies, after, limit + 1):
        if len(rows) == limit:
            more = True
            break
        rows.append(row)
    names = _names([r.partner_id for r in rows]) if rows else {}
    # Monthly recurring revenue now (not of the period): one BatchGetItem of the page's counters.
    mrr = mrr_of({r.partner_id for r in rows}, {r.currency for r in rows}) if rows else {}
    items = [{**partner_row(r, p, names),
              "mrr": {"amount": mrr.get((r.partner_id, r.currency), 0), "currency": r.currency}} for r in rows]
    next_cursor = encode_cursor({"cur": rows[-1].currency, "after": rows[-1].partner_id}, scope) if more else None
    return {**p.to_dict(), "items": items, "next_cursor": next_cursor}


CSV_HEADER = ("partner_id", "display_name", "currency", "gross", "fees", "net", "refunds", "payouts", "adjustments",
              "balance", "pending", "available", "paid_out", "mrr")


def report_csv(p: Period, *, currency: str | None) -> str:
    def rows():
        cursor = None
        while True:
            page = report_page(p, currency=currency, limit=100, cursor=cursor)
            for item in page["items"]:
                cur = item["currency"]
                yield (item["partner_id"], safe_text(item["display_name"]), cur,
                       *(format_decimal(item[k], cur) for k in CSV_HEADER[3:-1]),
                       format_decimal(item["mrr"]["amount"], cur))
            cursor = page["next_cursor"]
            if not cursor:
                return

    return render(CSV_HEADER, rows())
