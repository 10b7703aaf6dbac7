"""Payout rows: runs, payouts, skips and the connected-account lookup, in the single table.

- `PAYOUTRUN#<run>/RUN`: a run and its summary; gsi1 `PAYOUTRUNS` newest first.
- `PAYOUTRUN#<run>/SKIP#<partner>#<cur>`: a partner the run did not pay, with the reason.
- `PAYOUT#<id>/PAYOUT`: one payout (`pending -> paid | failed`); gsi1 the partner's payouts newest
  first, gsi2 the run's payouts, gsi3 `PAYOUTS#pending` while pending only (a sparse index the next
  run reads to finish what a crashed run left half done).
- `CONNECT#<account>/PARTNER`: which partner a connected account belongs to (for `account.updated`).
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem

PENDING_PAYOUTS_PK = "PAYOUTS#pending"


class PayoutRunItem(MarketItem, discriminator="PayoutRun"):
    run_id = UnicodeAttribute()
    status = UnicodeAttribute()
    trigger = UnicodeAttribute()  # manual | schedule
    actor = UnicodeAttribute()
    currency = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    summary = JSONAttribute(null=True)

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "status": self.status, "trigger": self.trigger, "actor": self.actor,
                "currency": self.currency, "started_at": self.started_at, "finished_at": self.finished_at,
                "summary": dict(self.summary or {})}


class PayoutRunDayItem(MarketItem, discriminator="PayoutRunDay"):
    """The guard that lets the daily schedule start at most one run per day and currency."""

    run_id = UnicodeAttribute()


class PayoutSkipItem(MarketItem, discriminator="PayoutSkip"):
    partner_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    reason = UnicodeAttribute()
    available = NumberAttribute()

    def to_dict(self) -> dict:
        return {"partner_id": self.partner_id, "currency": self.currency, "reason": self.reason,
                "available": int(self.available)}


class PayoutItem(MarketItem, discriminator="Payout"):
    payout_id = UnicodeAttribute()
    run_id = UnicodeAttribute(null=True)
    partner_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount = NumberAttribute()
    destination = UnicodeAttribute()
    status = UnicodeAttribute()
    transfer_id = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def to_dict(self) -> dict:
        return {"payout_id": self.payout_id, "run_id": self.run_id, "partner_id": self.partner_id,
                "amount": {"amount": int(self.amount), "currency": self.currency}, "status": self.status,
                "destination": self.destination, "transfer_id": self.transfer_id,
                "failure_reason": self.failure_reason, "created_at": self.created_at,
                "updated_at": self.updated_at}


class ConnectLinkItem(MarketItem, discriminator="ConnectLink"):
    account_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    payouts_enabled = BooleanAttribute(default=False)


def get_run(run_id: str) -> PayoutRunItem | None:
    try:
        return PayoutRunItem.get(keys.payout_run_pk(run_id), keys.PAYOUT_RUN_SK)
    except PayoutRunItem.DoesNotExist:
        return None


def get_payout(payout_id: str) -> PayoutItem | None:
    try:
        return PayoutItem.get(keys.payout_pk(payout_id), keys.PAYOUT_SK, consistent_read=True)
    except PayoutItem.DoesNotExist:
        return None


def run_payouts(run_id: str) -> list[PayoutItem]:
    return list(PayoutItem.gsi2.query(keys.run_payouts_pk(run_id)))


def run_skips(run_id: str) -> list[PayoutSkipItem]:
    return list(PayoutSkipItem.query(keys.payout_run_pk(run_id), PayoutSkipItem.sk.startswith("SKIP#")))


def pending_payouts():
    return PayoutItem.gsi3.query(PENDING_PAYOUTS_PK)


def partner_payouts(partner_id: str, *, limit: int, cursor: str | None) -> Page[PayoutItem]:
    return query_page(
        lambda size, start: PayoutItem.gsi1.query(keys.partner_payouts_pk(partner_id), scan_index_forward=False,
                                                  limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=f"partner-payouts:{partner_id}", index="gsi1",
    )


def connect_link(account_id: str) -> ConnectLinkItem | None:
    try:
        return ConnectLinkItem.get(keys.connect_account_pk(account_id), keys.CONNECT_ACCOUNT_SK)
    except ConnectLinkItem.DoesNotExist:
        return None
