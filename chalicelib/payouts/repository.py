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
from chalicelib.db.transact import Transaction

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


# --- writes: the rows a payout run adds, keys built here ---------------------------------------------
def add_run(tx: Transaction, *, run_id: str, status: str, trigger: str, actor: str, currency: str | None,
            at: str) -> PayoutRunItem:
    """Add a new run row to `tx` (once per id); returns it."""
    run = PayoutRunItem(keys.payout_run_pk(run_id), keys.PAYOUT_RUN_SK, gsi1pk=keys.PAYOUT_RUNS_PK,
                        gsi1sk=keys.created_sk(at, run_id), run_id=run_id, status=status, trigger=trigger,
                        actor=actor, currency=currency, started_at=at, summary={})
    tx.save(run, condition=PayoutRunItem.pk.does_not_exist())
    return run


def add_day_guard(tx: Transaction, *, day: str, currency: str | None, run_id: str) -> None:
    """Add the day's guard row: `tx` fails when a scheduled run for that day and currency exists."""
    tx.save(PayoutRunDayItem(keys.payout_run_day_pk(day, currency), keys.PAYOUT_RUN_SK, run_id=run_id),
            condition=PayoutRunDayItem.pk.does_not_exist())


def finish_run(run: PayoutRunItem, *, status: str, at: str, summary: dict, only_if_running: str | None = None) -> None:
    """Write the run's final status and summary (UpdateItem); `only_if_running` guards on that status."""
    condition = PayoutRunItem.status == only_if_running if only_if_running is not None else None
    run.update(actions=[PayoutRunItem.status.set(status), PayoutRunItem.finished_at.set(at),
                        PayoutRunItem.summary.set(summary)], condition=condition)


def add_payout(tx: Transaction, *, payout_id: str, run_id: str, partner_id: str, currency: str, amount: int,
               destination: str, status: str, at: str) -> PayoutItem:
    """Add a new payout to `tx` (once per id), listed on the partner's, the run's and the pending indexes."""
    payout = PayoutItem(
        keys.payout_pk(payout_id), keys.PAYOUT_SK,
        gsi1pk=keys.partner_payouts_pk(partner_id), gsi1sk=keys.created_sk(at, payout_id),
        gsi2pk=keys.run_payouts_pk(run_id), gsi2sk=keys.created_sk(at, payout_id),
        gsi3pk=PENDING_PAYOUTS_PK, gsi3sk=keys.created_sk(at, payout_id),
        payout_id=payout_id, run_id=run_id, partner_id=partner_id, currency=currency, amount=amount,
        destination=destination, status=status, attempts=0, created_at=at, updated_at=at,
    )
    tx.save(payout, condition=PayoutItem.pk.does_not_exist())
    return payout


def settle_payout(tx: Transaction, payout: PayoutItem, *, status: str, at: str, transfer_id: str | None,
                  failure_reason: str | None, was: str) -> None:
    """Add the payout's outcome to `tx` (it leaves the pending index), if it is still `was`."""
    actions = [PayoutItem.status.set(status), PayoutItem.updated_at.set(at), PayoutItem.gsi3pk.remove(),
               PayoutItem.gsi3sk.remove(), PayoutItem.attempts.add(1)]
    if transfer_id:
        actions.append(PayoutItem.transfer_id.set(transfer_id))
    if failure_reason:
        actions.append(PayoutItem.failure_reason.set(failure_reason[:500]))
    tx.update(payout, actions=actions, condition=PayoutItem.status == was)


def skip_row(run_id: str, *, partner_id: str, currency: str, reason: str, available: int) -> PayoutSkipItem:
    return PayoutSkipItem(keys.payout_run_pk(run_id), f"SKIP#{partner_id}#{currency}", partner_id=partner_id,
                          currency=currency, reason=reason, available=available)


def save_skips(skips: list[PayoutSkipItem]) -> None:
    """Put the run's skip rows with BatchWriteItem (nothing to send when there are none)."""
    if not skips:
        return
    with PayoutSkipItem.batch_write() as batch:
        for item in skips:
            batch.save(item)


def add_connect_link(tx: Transaction, *, account_id: str, partner_id: str) -> None:
    """Add the lookup from a connected account to its partner (once per account)."""
    tx.save(ConnectLinkItem(keys.connect_account_pk(account_id), keys.CONNECT_ACCOUNT_SK, account_id=account_id,
                            partner_id=partner_id), condition=ConnectLinkItem.pk.does_not_exist())


def set_link_payouts_enabled(tx: Transaction, link: ConnectLinkItem, enabled: bool) -> None:
    tx.update(link, actions=[ConnectLinkItem.payouts_enabled.set(enabled)])
