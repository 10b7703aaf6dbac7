"""Payout rows: runs, their progress, payouts, skips and the connected-account lookup, in the single table.

- `PAYOUTRUN#<run>/RUN`: a run (`queued -> running -> completed | completed_with_failures`) with its
  progress as atomic counters (`partners_total`, `paid`, `failed`, `skipped`, `pending`, `done`, ADDed by
  the transactions that decide each partner) and `planning_done`; gsi1 `PAYOUTRUNS` newest first.
- `PAYOUTRUN#<run>/PLAN#<cur>#<after>`: one planned page of partners (counted once, its jobs sent once).
- `PAYOUTRUN#<run>/SKIP#<partner>#<cur>`: a partner the run did not pay, with the reason.
- `PAYOUTRUNOPEN#<cur>/LOCK`: the open run of a currency (at most one), removed when the run completes.
- `PAYOUT#<id>/PAYOUT`: one payout (`pending -> paid | failed`); gsi1 the partner's payouts newest
  first, gsi2 the run's payouts, gsi3 `PAYOUTS#pending` while pending only.
- `CONNECT#<account>/PARTNER`: which partner a connected account belongs to (for `account.updated`).

The run-scoped sort keys (`PLAN#`, `SKIP#`) and the lock's key are built here, next to the rows they
name (the run's partition is this aggregate's alone); everything else comes from `db/keys.py`.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import Transaction

PENDING_PAYOUTS_PK = "PAYOUTS#pending"
COUNTERS = ("partners_total", "paid", "failed", "skipped", "pending", "done")


def open_lock_pk(currency: str) -> str:
    return f"PAYOUTRUNOPEN#{currency}"


OPEN_LOCK_SK = "LOCK"


def plan_sk(currency: str, after: str) -> str:
    return f"PLAN#{currency}#{after}"


def skip_sk(partner_id: str, currency: str) -> str:
    return f"SKIP#{partner_id}#{currency}"


class PayoutRunItem(MarketItem, discriminator="PayoutRun"):
    run_id = UnicodeAttribute()
    status = UnicodeAttribute()
    trigger = UnicodeAttribute()  # manual | schedule
    actor = UnicodeAttribute()
    currency = UnicodeAttribute(null=True)  # None: every currency
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    summary = JSONAttribute(null=True)  # runs of the synchronous era kept their figures here
    partners_total = NumberAttribute(default=0)
    paid = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    done = NumberAttribute(default=0)
    paid_usd = NumberAttribute(default=0)
    paid_eur = NumberAttribute(default=0)
    paid_gbp = NumberAttribute(default=0)
    planning_done = BooleanAttribute(default=False)

    def progress(self) -> dict:
        return {name: int(getattr(self, name) or 0) for name in COUNTERS if name != "done"}

    def paid_amounts(self) -> dict:
        amounts = {cur: int(getattr(self, f"paid_{cur}") or 0) for cur in ("usd", "eur", "gbp")}
        return {cur: amount for cur, amount in amounts.items() if amount}

    def to_dict(self) -> dict:
        return {"payout_run_id": self.run_id, "status": self.status, "trigger": self.trigger, "actor": self.actor,
                "currency": self.currency, "started_at": self.started_at, "finished_at": self.finished_at,
                "progress": self.progress(), "paid_amounts": self.paid_amounts(),
                "planning_done": bool(self.planning_done)}


class PayoutRunDayItem(MarketItem, discriminator="PayoutRunDay"):
    """The guard that lets the daily schedule start at most one run per day and currency."""

    run_id = UnicodeAttribute()


class PayoutRunLockItem(MarketItem, discriminator="PayoutRunLock"):
    """The open run of one currency: written with the run, deleted by the transaction that completes it."""

    run_id = UnicodeAttribute()
    currency = UnicodeAttribute()


class PayoutPlanItem(MarketItem, discriminator="PayoutPlan"):
    """One page of partners the run planned: counted into `partners_total` once, its jobs sent (`sent`)."""

    run_id = UnicodeAttribute()
    partner_ids = JSONAttribute()
    next_currency = UnicodeAttribute(null=True)  # None: the run's last page
    next_after = UnicodeAttribute(null=True)
    sent = BooleanAttribute(default=False)


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
    # Counted as `pending` by its run after Stripe stayed unreachable; its late outcome moves the count.
    abandoned = BooleanAttribute(null=True)
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


# --- reads ---------------------------------------------------------------------------------------------
def get_run(run_id: str, *, consistent: bool = False) -> PayoutRunItem | None:
    try:
        return PayoutRunItem.get(keys.payout_run_pk(run_id), keys.PAYOUT_RUN_SK, consistent_read=consistent)
    except PayoutRunItem.DoesNotExist:
        return None


def get_payout(payout_id: str) -> PayoutItem | None:
    try:
        return PayoutItem.get(keys.payout_pk(payout_id), keys.PAYOUT_SK, consistent_read=True)
    except PayoutItem.DoesNotExist:
        return None


def get_plan(run_id: str, currency: str, after: str) -> PayoutPlanItem | None:
    try:
        return PayoutPlanItem.get(keys.payout_run_pk(run_id), plan_sk(currency, after), consistent_read=True)
    except PayoutPlanItem.DoesNotExist:
        return None


def payout_key(payout_id: str) -> tuple[str, str]:
    return keys.payout_pk(payout_id), keys.PAYOUT_SK


def skip_key(run_id: str, partner_id: str, currency: str) -> tuple[str, str]:
    return keys.payout_run_pk(run_id), skip_sk(partner_id, currency)


def run_payouts(run_id: str) -> list[PayoutItem]:
    return list(PayoutItem.gsi2.query(keys.run_payouts_pk(run_id)))


def run_skips(run_id: str) -> list[PayoutSkipItem]:
    return list(PayoutSkipItem.query(keys.payout_run_pk(run_id), PayoutSkipItem.sk.startswith("SKIP#")))


def run_payouts_page(run_id: str, *, limit: int, cursor: str | None) -> Page[PayoutItem]:
    return query_page(
        lambda size, start: PayoutItem.gsi2.query(keys.run_payouts_pk(run_id), limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=f"run-payouts:{run_id}", index="gsi2",
    )


def run_skips_page(run_id: str, *, limit: int, cursor: str | None) -> Page[PayoutSkipItem]:
    return query_page(
        lambda size, start: PayoutSkipItem.query(keys.payout_run_pk(run_id), PayoutSkipItem.sk.startswith("SKIP#"),
                                                 limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=f"run-skips:{run_id}",
    )


def runs_page(*, limit: int, cursor: str | None) -> Page[PayoutRunItem]:
    return query_page(
        lambda size, start: PayoutRunItem.gsi1.query(keys.PAYOUT_RUNS_PK, scan_index_forward=False, limit=size,
                                                     last_evaluated_key=start),
        limit=limit, cursor=cursor, scope="payout-runs", index="gsi1",
    )


def open_locks(currencies: list[str]) -> dict[str, str]:
    """Which of these currencies have an open run, and its id (one BatchGetItem)."""
    found = PayoutRunLockItem.batch_get([(open_lock_pk(c), OPEN_LOCK_SK) for c in currencies], consistent_read=True)
    return {item.currency: item.run_id for item in found}


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
                        actor=actor, currency=currency, started_at=at, planning_done=False)
    tx.save(run, condition=PayoutRunItem.pk.does_not_exist(), label="run")
    return run


def add_open_lock(tx: Transaction, *, currency: str, run_id: str) -> None:
    """The currency's open-run lock: `tx` fails (label `open:<cur>`) while another run of it is open."""
    tx.save(PayoutRunLockItem(open_lock_pk(currency), OPEN_LOCK_SK, run_id=run_id, currency=currency),
            condition=PayoutRunLockItem.pk.does_not_exist(), label=f"open:{currency}")


def release_open_lock(tx: Transaction, *, currency: str, run_id: str) -> None:
    tx.delete(PayoutRunLockItem(open_lock_pk(currency), OPEN_LOCK_SK),
              condition=PayoutRunLockItem.run_id == run_id, label=f"open:{currency}")


def add_day_guard(tx: Transaction, *, day: str, currency: str | None, run_id: str) -> None:
    """Add the day's guard row: `tx` fails when a scheduled run for that day and currency exists."""
    tx.save(PayoutRunDayItem(keys.payout_run_day_pk(day, currency), keys.PAYOUT_RUN_SK, run_id=run_id),
            condition=PayoutRunDayItem.pk.does_not_exist(), label="day")


def delete_unstarted_run(tx: Transaction, run: PayoutRunItem, currencies: list[str]) -> None:
    """Undo a run whose first job could not be queued: its row (still `queued`) and its locks."""
    tx.delete(run, condition=(PayoutRunItem.status == "queued") & (PayoutRunItem.partners_total == 0), label="run")
    for currency in currencies:
        release_open_lock(tx, currency=currency, run_id=run.run_id)


def add_plan_page(tx: Transaction, *, run_id: str, currency: str, after: str, partner_ids: list[str],
                  next_currency: str | None, next_after: str) -> None:
    """Record one planned page and count it into the run, once (the page row's condition); the run is
    `running` from its first page and `planning_done` with its last."""
    tx.save(PayoutPlanItem(keys.payout_run_pk(run_id), plan_sk(currency, after), run_id=run_id,
                           partner_ids=partner_ids, next_currency=next_currency, next_after=next_after),
            condition=PayoutPlanItem.pk.does_not_exist(), label="plan")
    actions = [PayoutRunItem.status.set("running")]
    if partner_ids:
        actions.append(PayoutRunItem.partners_total.add(len(partner_ids)))
    if next_currency is None:
        actions.append(PayoutRunItem.planning_done.set(True))
    tx.update(PayoutRunItem(keys.payout_run_pk(run_id), keys.PAYOUT_RUN_SK), actions=actions,
              condition=PayoutRunItem.status.is_in("queued", "running"), label="run")


def mark_plan_sent(run_id: str, currency: str, after: str) -> None:
    PayoutPlanItem(keys.payout_run_pk(run_id), plan_sk(currency, after)).update(
        actions=[PayoutPlanItem.sent.set(True)])


def count_outcome(tx: Transaction, run_id: str, *, paid: int = 0, failed: int = 0, skipped: int = 0,
                  pending: int = 0, done: int = 0, paid_amount: int = 0, currency: str | None = None) -> None:
    """ADD to the run's progress counters inside `tx` (the transaction that decides those partners)."""
    actions = [getattr(PayoutRunItem, name).add(value) for name, value in
               (("paid", paid), ("failed", failed), ("skipped", skipped), ("pending", pending), ("done", done))
               if value]
    if paid_amount and currency:
        actions.append(getattr(PayoutRunItem, f"paid_{currency}").add(paid_amount))
    if actions:
        tx.update(PayoutRunItem(keys.payout_run_pk(run_id), keys.PAYOUT_RUN_SK), actions=actions,
                  condition=PayoutRunItem.pk.exists(), label="run")


def complete_run(tx: Transaction, run: PayoutRunItem, *, status: str, at: str, currencies: list[str]) -> None:
    """Finish the run once: every planned partner decided (`done == partners_total`), locks released."""
    tx.update(run, actions=[PayoutRunItem.status.set(status), PayoutRunItem.finished_at.set(at)],
              condition=(PayoutRunItem.status == "running") & (PayoutRunItem.planning_done == True)  # noqa: E712
              & (PayoutRunItem.done == int(run.done)) & (PayoutRunItem.partners_total == int(run.done)),
              label="run")
    for currency in currencies:
        release_open_lock(tx, currency=currency, run_id=run.run_id)


def add_payout(tx: Transaction, *, payout_id: str, run_id: str, partner_id: str, currency: str, amount: int,
               destination: str, status: str, at: str) -> PayoutItem:
    """Add a new payout to `tx` (once per id, and only if the run did not skip the partner)."""
    payout = PayoutItem(
        keys.payout_pk(payout_id), keys.PAYOUT_SK,
        gsi1pk=keys.partner_payouts_pk(partner_id), gsi1sk=keys.created_sk(at, payout_id),
        gsi2pk=keys.run_payouts_pk(run_id), gsi2sk=keys.created_sk(at, payout_id),
        gsi3pk=PENDING_PAYOUTS_PK, gsi3sk=keys.created_sk(at, payout_id),
        payout_id=payout_id, run_id=run_id, partner_id=partner_id, currency=currency, amount=amount,
        destination=destination, status=status, attempts=0, created_at=at, updated_at=at,
    )
    tx.save(payout, condition=PayoutItem.pk.does_not_exist(), label="payout")
    tx.condition_check(PayoutSkipItem, *skip_key(run_id, partner_id, currency),
                       condition=PayoutSkipItem.pk.does_not_exist(), label="skip")
    return payout


def settle_payout(tx: Transaction, payout: PayoutItem, *, status: str, at: str, transfer_id: str | None,
                  failure_reason: str | None, was: str, abandoned: bool = False) -> None:
    """Add the payout's outcome to `tx` (it leaves the pending index), if it is still `was` and still
    (not) counted as its run's `pending` as read, so the run's counters move exactly once."""
    actions = [PayoutItem.status.set(status), PayoutItem.updated_at.set(at), PayoutItem.gsi3pk.remove(),
               PayoutItem.gsi3sk.remove(), PayoutItem.attempts.add(1)]
    if transfer_id:
        actions.append(PayoutItem.transfer_id.set(transfer_id))
    if failure_reason:
        actions.append(PayoutItem.failure_reason.set(failure_reason[:500]))
    counted = PayoutItem.abandoned == True if abandoned else PayoutItem.abandoned.does_not_exist()  # noqa: E712
    tx.update(payout, actions=actions, condition=(PayoutItem.status == was) & counted, label="settle")


def abandon_payout(tx: Transaction, payout: PayoutItem) -> None:
    """Note that the run counted this still-pending payout as `pending` (once)."""
    tx.update(payout, actions=[PayoutItem.abandoned.set(True)],
              condition=(PayoutItem.status == "pending") & PayoutItem.abandoned.does_not_exist(), label="abandon")


def add_skip(tx: Transaction, run_id: str, *, partner_id: str, currency: str, reason: str, available: int,
             payout_id: str) -> None:
    """Add a skip row (once per run and partner, and only if the run opened no payout `payout_id` for it)."""
    tx.save(PayoutSkipItem(*skip_key(run_id, partner_id, currency), partner_id=partner_id, currency=currency,
                           reason=reason, available=available),
            condition=PayoutSkipItem.pk.does_not_exist(), label="skip")
    tx.condition_check(PayoutItem, *payout_key(payout_id), condition=PayoutItem.pk.does_not_exist(), label="payout")


def add_connect_link(tx: Transaction, *, account_id: str, partner_id: str) -> None:
    """Add the lookup from a connected account to its partner (once per account)."""
    tx.save(ConnectLinkItem(keys.connect_account_pk(account_id), keys.CONNECT_ACCOUNT_SK, account_id=account_id,
                            partner_id=partner_id), condition=ConnectLinkItem.pk.does_not_exist())


def set_link_payouts_enabled(tx: Transaction, link: ConnectLinkItem, enabled: bool) -> None:
    tx.update(link, actions=[ConnectLinkItem.payouts_enabled.set(enabled)])
