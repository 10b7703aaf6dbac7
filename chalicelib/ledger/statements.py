"""Reads of the journal: partner statements with a running balance, and the finance journal.

A statement lists the postings of one partner account in a period, oldest first. Its opening balance
is the current balance minus the day rows' `delta` since the period began (bounded by the number of
days, never by the number of postings), and each page's cursor carries the running balance reached so
far inside its signed body, so page N+1 continues from page N without re-reading anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterator

from chalicelib.core import clock
from chalicelib.core.errors import BadCursor, ValidationFailed
from chalicelib.core.money import format_decimal
from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.cursors import decode_cursor, encode_cursor
from chalicelib.ledger.balances import balance_of, balance_rows
from chalicelib.ledger.journal import BalanceDayItem, JournalItem, PostingItem
from chalicelib.ledger.rules import partner_account
from chalicelib.core.csvformat import render, safe_text

DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def lo(self) -> str:
        """Lowest sort key (`<at>#<id>`) inside the period."""
        return f"{self.start.isoformat()}T00:00:00.000Z"

    @property
    def hi(self) -> str:
        """Highest sort key inside the period: ids sort below `~`."""
        return f"{self.end.isoformat()}T23:59:59.999Z~"

    def to_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def period(start: str | None, end: str | None, *, default_days: int = DEFAULT_PERIOD_DAYS,
           where: str = "query") -> Period:
    """A UTC date period, both ends inclusive; defaults to the last `default_days` days up to today."""
    to = date.fromisoformat(end) if end else clock.today()
    frm = date.fromisoformat(start) if start else to - timedelta(days=default_days - 1)
    if frm > to:
        raise ValidationFailed("`from` must not be after `to`.",
                               [{"field": "from", "message": "must not be after to", "in": where}])
    if (to - frm).days > MAX_PERIOD_DAYS:
        raise ValidationFailed("The period is longer than ten years.",
                               [{"field": "from", "message": "period too long", "in": where}])
    return Period(frm, to)


def day_rows(partner_id: str, currency: str, start: date, end: date | None = None) -> Iterator:
    """The partner's day rows from `start` (inclusive) to `end` (inclusive, default: open)."""
    lo = keys.balance_day_sk(currency, start.isoformat())
    hi = keys.balance_day_sk(currency, end.isoformat() if end else "9999-12-31")
    return BalanceDayItem.query(keys.partner_pk(partner_id), BalanceDayItem.sk.between(lo, hi), consistent_read=True)


def statement_currency(partner_id: str, requested: str | None) -> str:
    if requested:
        return requested
    currencies = sorted(row.currency for row in balance_rows(partner_id))
    if len(currencies) > 1:
        raise ValidationFailed(
            f"This partner has balances in {', '.join(currencies)}; choose one with `currency`.",
            [{"field": "currency", "message": f"one of {', '.join(currencies)}", "in": "query"}],
        )
    return currencies[0] if currencies else "usd"


def period_totals(partner_id: str, currency: str, p: Period) -> tuple[int, dict[str, int]]:
    """(opening balance, totals of the period) from the day rows, never from postings."""
    current = balance_of(partner_id, currency).balance
    since_start = 0
    totals = {"sales": 0, "fees": 0, "refunds": 0, "refunds_fees": 0, "net": 0, "payouts": 0,
              "payout_returns": 0, "adjustments": 0, "change": 0}
    for row in day_rows(partner_id, currency, p.start):
        delta = int(row.delta or 0)
        since_start += delta
        if row.day > p.end.isoformat():
            continue
        totals["sales"] += int(row.sales_gross or 0)
        totals["fees"] += int(row.sales_fees or 0) - int(row.refunds_fees or 0)
        totals["refunds"] += int(row.refunds_gross or 0)
        totals["refunds_fees"] += int(row.refunds_fees or 0)
        totals["net"] += int(row.sales_net or 0) - int(row.refunds_net or 0)
        totals["payouts"] += int(row.payouts or 0)
        totals["payout_returns"] += int(row.payout_returns or 0)
        totals["adjustments"] += int(row.adjustments or 0)
        totals["change"] += delta
    return current - since_start, totals


_TYPES = {"sale": "sale", "refund": "refund", "payout": "payout", "payout_failed": "payout_returned",
          "adjustment": "adjustment"}


def statement_line(posting: PostingItem, running: int) -> dict:
    """One statement row: gross and fee explain the net; amounts are signed from the partner's side."""
    net = -int(posting.amount)
    lines = list(posting.lines)
    gross = fee = 0
    if posting.txn_kind == "sale":
        gross = sum(int(l["source"].get("part_amount", 0)) for l in lines)
        fee = -sum(int(l["source"].get("fee", 0)) for l in lines)
    elif posting.txn_kind == "refund":
        gross = -sum(int(l["source"].get("refunded_part", 0)) for l in lines)
        fee = sum(int(l["source"].get("fee_reversed", 0)) for l in lines)
    else:
        gross = net
    refs = dict(posting.refs or {})
    reference = refs.get("refund_id") or refs.get("order_id") or refs.get("payout_id") or refs.get("adjustment_id")
    return {"at": posting.at, "type": _TYPES.get(posting.txn_kind, posting.txn_kind), "txn_id": posting.txn_id,
            "reference": reference, "currency": posting.currency, "gross": gross, "fee": fee, "net": net,
            "balance": running + net, "lines": lines}


def _postings(account: str, p: Period, limit: int | None, start_key: dict | None):
    return PostingItem.query(keys.account_pk(account), PostingItem.sk.between(p.lo, p.hi),
                             limit=limit, last_evaluated_key=start_key, consistent_read=True)


def statement(partner_id: str, *, currency: str | None, p: Period, limit: int, cursor: str | None) -> dict:
    cur = statement_currency(partner_id, currency)
    scope = f"statement:{partner_id}:{cur}:{p.start}:{p.end}"
    opening, totals = period_totals(partner_id, cur, p)
    running, start_key = opening, None
    if cursor:
        position = decode_cursor(cursor, scope)
        try:
            running = int(position.pop("running"))
        except (KeyError, TypeError, ValueError):
            raise BadCursor("The cursor is not valid for this list; start again without it.") from None
        start_key = position
    items: list[dict] = []
    last = None
    next_cursor = None
    for posting in _postings(partner_account(partner_id, cur), p, limit + 1, start_key):
        if len(items) == limit:
            next_cursor = encode_cursor({"pk": {"S": last.pk}, "sk": {"S": last.sk}, "running": running}, scope)
            break
        item = statement_line(posting, running)
        running = item["balance"]
        items.append(item)
        last = posting
    return {"partner_id": partner_id, "currency": cur, **p.to_dict(), "opening_balance": opening,
            "closing_balance": opening + totals["change"], "totals": totals, "items": items,
            "next_cursor": next_cursor}


STATEMENT_CSV_HEADER = ("date", "type", "reference", "currency", "gross", "fee", "net", "balance")


def statement_csv(partner_id: str, *, currency: str | None, p: Period) -> str:
    """The whole period as CSV, read page by page."""
    cur = statement_currency(partner_id, currency)
    opening, _ = period_totals(partner_id, cur, p)

    def rows():
        running = opening
        yield ("", "opening_balance", "", cur, "", "", "", format_decimal(opening, cur))
        for posting in _postings(partner_account(partner_id, cur), p, None, None):
            item = statement_line(posting, running)
            running = item["balance"]
            yield (item["at"], item["type"], safe_text(item["reference"]), cur, format_decimal(item["gross"], cur),
                   format_decimal(item["fee"], cur), format_decimal(item["net"], cur),
                   format_decimal(item["balance"], cur))

    return render(STATEMENT_CSV_HEADER, rows())


def journal_page(*, account: str | None, p: Period, limit: int, cursor: str | None) -> Page:
    """Journal transactions in time order: every one, or the postings of one account."""
    if account:
        return query_page(lambda size, start: _postings(account, p, size, start), limit=limit, cursor=cursor,
                          scope=f"ledger:{account}:{p.start}:{p.end}")
    return query_page(
        lambda size, start: JournalItem.gsi1.query(
            keys.JOURNAL_ALL_PK, JournalItem.gsi1sk.between(p.lo, p.hi), limit=size, last_evaluated_key=start,
        ),
        limit=limit, cursor=cursor, scope=f"ledger:*:{p.start}:{p.end}", index="gsi1",
    )
