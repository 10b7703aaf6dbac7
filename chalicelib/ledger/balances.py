"""Partner balances: pending vs available, read from counters without summing history.

The balance row (`PARTNER#<id>/BALANCE#<cur>`) holds the running balance (`delta`: what we owe the
partner), `paid_out` and lifetime totals. What is still on hold is read from the day rows of the last
HOLD_DAYS days: earnings of day D become available on D + HOLD_DAYS, so `pending` is the sum of `held`
over at most HOLD_DAYS day rows (one Query, bounded by the hold, never by the number of sales).

Refunds, payouts and adjustments take effect at once on the balance. Pending is clamped to
`0..max(balance, 0)`: a refund first eats what is on hold, and a negative balance shows as negative
`available` until later earnings net it off. `available = balance - pending`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterator

from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.db import keys
from chalicelib.ledger.journal import BalanceDayItem, BalanceItem, counters_of


@dataclass(frozen=True)
class Balance:
    partner_id: str
    currency: str
    balance: int
    pending: int
    paid_out: int
    totals: dict[str, int]

    @property
    def available(self) -> int:
        return self.balance - self.pending

    def to_dict(self) -> dict:
        return {"pending": self.pending, "available": self.available, "paid_out": self.paid_out,
                "balance": self.balance}


def hold_start(today: date, hold_days: int) -> date:
    """The first day whose earnings are still on hold on `today`."""
    return today - timedelta(days=hold_days - 1)


def held_since(partner_id: str, currency: str, *, today: date, hold_days: int) -> int:
    """Sum of `held` over the day rows still inside the hold (at most `hold_days` rows)."""
    if hold_days <= 0:
        return 0
    start = keys.balance_day_sk(currency, hold_start(today, hold_days).isoformat())
    end = keys.balance_day_sk(currency, "9999-12-31")
    return sum(int(row.held or 0) for row in BalanceDayItem.query(
        keys.partner_pk(partner_id), BalanceDayItem.sk.between(start, end), consistent_read=True,
    ))


def balance_from_row(row, *, today: date | None = None, hold_days: int | None = None) -> Balance:
    today = today or clock.today()
    hold = get_settings().hold_days if hold_days is None else hold_days
    counters = counters_of(row)
    held = held_since(row.partner_id, row.currency, today=today, hold_days=hold)
    pending = min(max(held, 0), max(counters["delta"], 0))
    return Balance(row.partner_id, row.currency, counters["delta"], pending, counters["paid_out"], counters)


def balance_rows(partner_id: str) -> list:
    """A partner's balance rows, one per currency it has ever earned in (at most three)."""
    return list(BalanceItem.query(
        keys.partner_pk(partner_id), BalanceItem.sk.startswith(keys.balance_sk("")), consistent_read=True,
    ))


def currency_balance_rows(currency: str, *, after_partner: str | None = None,
                          page_size: int | None = None) -> Iterator[BalanceItem]:
    """Every partner's balance row in `currency`, in partner id order (gsi1), after `after_partner` if given."""
    condition = BalanceItem.gsi1sk > after_partner if after_partner is not None else None
    return BalanceItem.gsi1.query(keys.balances_pk(currency), condition, page_size=page_size)


def partner_balances(partner_id: str, *, today: date | None = None) -> dict[str, Balance]:
    return {row.currency: balance_from_row(row, today=today) for row in balance_rows(partner_id)}


def balance_of(partner_id: str, currency: str, *, today: date | None = None) -> Balance:
    try:
        row = BalanceItem.get(keys.partner_pk(partner_id), keys.balance_sk(currency), consistent_read=True)
    except BalanceItem.DoesNotExist:
        return Balance(partner_id, currency, 0, 0, 0, {})
    return balance_from_row(row, today=today)
