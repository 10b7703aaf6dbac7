"""Payout runs: pay every eligible partner its available balance, once, even across crashes.

A run goes through these steps, each one durable before the next starts:
1. `run_started`: the run row and its audit record (a scheduled run also takes the day's guard row).
2. `resumed`: payouts left `pending` by any earlier run (a crash, Stripe unreachable) are settled
   first: the transfer is looked up by payout id and, if Stripe has none, sent with the payout id as
   idempotency key, so a transfer that was sent before the crash is found, never sent twice.
3. per partner and currency, from the balance rows (a Query per 100 partners, a BatchGet of their
   profiles, one bounded Query of hold-day rows each):
   `payout_opened`: ONE transaction writes the payout (`pending`), its journal entry (balance ->
   transit), the partner balance's in-flight marker (condition: none in flight, balance covers it)
   and the audit record. Only then
   `transfer_sent`: the Stripe transfer (idempotency key = payout id), and
   `payout_settled`: ONE transaction marks it `paid` (journal transit -> cash, `paid_out`, Stripe
   reference, marker cleared) or `failed` (journal returns the amount to the balance).
4. `run_finished`: the summary is written.
A crash between any two steps leaves either nothing, or a pending payout that step 2 of the next
run finishes. A run also stops starting payouts when its time runs low (`time_left`: the Lambda's clock
for the schedule, a few seconds for a run started from the API); it finishes as `completed` with
`stopped_early`, and the partners it did not reach are paid by the next run. DynamoDB calls grow with
the number of partners, never with the number of journal lines.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterable, Iterator

from chalicelib.audit.repository import audit_item
from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.deadlines import UNLIMITED, TimeLeft
from chalicelib.core.errors import Conflict, NotFound, UpstreamUnavailable
from chalicelib.core.ids import new_id
from chalicelib.core.money import SUPPORTED_CURRENCIES
from chalicelib.db.transact import transaction
from chalicelib.ledger import recorder
from chalicelib.ledger.balances import balance_from_row, currency_balance_rows
from chalicelib.partners.repository import load_partners
from chalicelib.payouts import model, repository
from chalicelib.payouts.gateway import ConnectGateway, Transfer, TransferRejected
from chalicelib.payouts.repository import (
    PayoutItem, PayoutRunItem, PayoutSkipItem, get_payout, get_run, pending_payouts,
)
from chalicelib.telemetry import metrics

log = logging.getLogger("marketplace.payouts")

Hook = Callable[[str], None]
BATCH = 100


def _no_hook(_step: str) -> None:
    return None


@dataclass
class Summary:
    paid: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: int = 0
    pending: int = 0
    skipped: int = 0
    resumed: int = 0
    partners_considered: int = 0
    stopped_early: bool = False  # time ran low: the rest waits for the next run

    def add_paid(self, currency: str, amount: int) -> None:
        slot = self.paid.setdefault(currency, {"count": 0, "amount": 0})
        slot["count"] += 1
        slot["amount"] += amount

    def to_dict(self) -> dict:
        return {"paid": self.paid, "failed": self.failed, "pending": self.pending, "skipped": self.skipped,
                "resumed": self.resumed, "partners_considered": self.partners_considered,
                "stopped_early": self.stopped_early}


def start_run(*, actor: str, roles: Iterable[str] = (), currency: str | None, trigger: str,
              day: date | None = None) -> PayoutRunItem | None:
    """Write the run row (and, for the schedule, the day guard); None if today's scheduled run exists."""
    run_id = new_id("prun")
    now = clock.now_iso()
    try:
        with transaction() as tx:
            run = repository.add_run(tx, run_id=run_id, status=model.RUNNING, trigger=trigger, actor=actor,
                                     currency=currency, at=now)
            if trigger == "schedule":
                repository.add_day_guard(tx, day=(day or clock.today()).isoformat(), currency=currency,
                                         run_id=run_id)
            tx.save(audit_item(actor=actor, actor_roles=list(roles), action="payout_run.started",
                               entity_type="payout_run", entity_id=run_id,
                               data={"currency": currency, "trigger": trigger}))
    except Conflict:
        if trigger == "schedule":
            return None
        raise
    return run


def execute_run(run: PayoutRunItem, *, gateway: ConnectGateway, today: date | None = None,
                hook: Hook = _no_hook, time_left: TimeLeft = UNLIMITED) -> PayoutRunItem:
    """Resume pending payouts, then pay every eligible partner until time runs low; returns the run."""
    settings = get_settings()
    today = today or clock.today()
    summary = Summary()
    hook("run_started")
    for payout in list(_pending(run.currency)):
        if _out_of_time(time_left, summary):
            break
        summary.resumed += 1
        _settle(payout, gateway=gateway, summary=summary, hook=hook, resuming=True)
    hook("resumed")
    for currency in ([run.currency] if run.currency else list(SUPPORTED_CURRENCIES)):
        for rows in _chunks(currency_balance_rows(currency), BATCH):
            if _out_of_time(time_left, summary):
                break
            partners = load_partners(row.partner_id for row in rows)
            skips: list[PayoutSkipItem] = []
            for row in rows:
                if _out_of_time(time_left, summary):
                    break
                summary.partners_considered += 1
                partner = partners.get(row.partner_id)
                balance = balance_from_row(row, today=today, hold_days=settings.hold_days)
                candidate = model.Candidate(
                    row.partner_id, currency, balance.available, partner.status if partner else None,
                    partner.payouts_enabled if partner else False,
                    partner.stripe_account_id if partner else None, row.open_payout,
                )
                reason = model.skip_reason(candidate, min_payout=settings.min_payout)
                payout = None if reason else _open(run, candidate, hook=hook)
                if payout is None:
                    skips.append(_skip(run, candidate, reason or model.IN_PROGRESS))
                    continue
                _settle(payout, gateway=gateway, summary=summary, hook=hook, resuming=False)
            summary.skipped += len(skips)
            repository.save_skips(skips)
    repository.finish_run(run, status=model.COMPLETED, at=clock.now_iso(), summary=summary.to_dict())
    metrics.count(metrics.PAYOUT_RUNS_COMPLETED)
    hook("run_finished")
    return run


def _out_of_time(time_left: TimeLeft, summary: Summary) -> bool:
    """True (and noted in the summary) once the run must start nothing new."""
    if not summary.stopped_early and time_left.running_low():
        summary.stopped_early = True
        log.warning("payout run: time is running low, stopping; the rest waits for the next run")
    return summary.stopped_early


def _pending(currency: str | None) -> Iterator[PayoutItem]:
    """Payouts still pending, re-read consistently (the index may lag behind a settlement)."""
    for entry in pending_payouts():
        if currency is not None and entry.currency != currency:
            continue
        payout = get_payout(entry.payout_id)
        if payout is not None and payout.status == model.PENDING:
            yield payout


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _skip(run: PayoutRunItem, c: model.Candidate, reason: str) -> PayoutSkipItem:
    return repository.skip_row(run.run_id, partner_id=c.partner_id, currency=c.currency, reason=reason,
                               available=c.available)


def _open(run: PayoutRunItem, c: model.Candidate, *, hook: Hook) -> PayoutItem | None:
    """Commit to paying `c` its available balance; None if another payout got there first."""
    payout_id = new_id("po")
    try:
        with transaction() as tx:
            payout = repository.add_payout(tx, payout_id=payout_id, run_id=run.run_id, partner_id=c.partner_id,
                                           currency=c.currency, amount=c.available,
                                           destination=c.stripe_account_id or "", status=model.PENDING,
                                           at=clock.now_iso())
            recorder.record_payout(tx, payout_id=payout_id, partner_id=c.partner_id, currency=c.currency,
                                   amount=c.available, run_id=run.run_id)
            tx.save(audit_item(actor=run.actor, action="payout.created", entity_type="payout", entity_id=payout_id,
                               data={"partner_id": c.partner_id, "amount": c.available, "currency": c.currency,
                                     "run_id": run.run_id}))
    except Conflict:
        return None
    hook("payout_opened")
    return payout


def _settle(payout: PayoutItem, *, gateway: ConnectGateway, summary: Summary, hook: Hook, resuming: bool) -> None:
    """Send (or find) the payout's transfer and record the outcome."""
    amount = int(payout.amount)
    try:
        transfer = gateway.find_transfer(payout_id=payout.payout_id) if resuming else None
        if transfer is None:
            transfer = gateway.create_transfer(
                payout_id=payout.payout_id, amount=amount, currency=payout.currency, destination=payout.destination,
                metadata={"payout_id": payout.payout_id, "partner_id": payout.partner_id,
                          "run_id": payout.run_id or ""},
            )
    except TransferRejected as exc:
        hook("transfer_sent")
        if _finish(payout, failed_reason=exc.message, transfer=None):
            summary.failed += 1
        hook("payout_settled")
        return
    except (UpstreamUnavailable, Conflict):
        summary.pending += 1  # unknown outcome: the next run asks Stripe again with the same key
        return
    hook("transfer_sent")
    if _finish(payout, failed_reason=None, transfer=transfer):
        summary.add_paid(payout.currency, amount)
    hook("payout_settled")


def _finish(payout: PayoutItem, *, failed_reason: str | None, transfer: Transfer | None) -> bool:
    """Record the outcome once; False when another run recorded it first."""
    now = clock.now_iso()
    amount = int(payout.amount)
    status = model.FAILED if failed_reason else model.PAID
    try:
        with transaction() as tx:
            repository.settle_payout(tx, payout, status=status, at=now,
                                     transfer_id=transfer.transfer_id if transfer else None,
                                     failure_reason=failed_reason, was=model.PENDING)
            if transfer:
                recorder.record_payout_paid(tx, payout_id=payout.payout_id, partner_id=payout.partner_id,
                                            currency=payout.currency, amount=amount, transfer_id=transfer.transfer_id)
            else:
                recorder.record_payout_failed(tx, payout_id=payout.payout_id, partner_id=payout.partner_id,
                                              currency=payout.currency, amount=amount, reason=failed_reason or "")
            tx.save(audit_item(actor="payouts", action=f"payout.{status}", entity_type="payout",
                               entity_id=payout.payout_id,
                               data={"partner_id": payout.partner_id, "amount": amount, "currency": payout.currency,
                                     "transfer_id": transfer.transfer_id if transfer else None,
                                     "reason": failed_reason}))
    except Conflict:
        return False  # settled already (a concurrent run resumed it): nothing more to record
    payout.status = status
    payout.transfer_id = transfer.transfer_id if transfer else None
    payout.failure_reason = failed_reason
    metrics.count(metrics.PAYOUTS_FAILED if failed_reason else metrics.PAYOUTS_PAID)
    return True


def run_payouts(*, actor: str, roles: Iterable[str] = (), currency: str | None, gateway: ConnectGateway,
                trigger: str = "manual", today: date | None = None, hook: Hook = _no_hook,
                time_left: TimeLeft = UNLIMITED) -> PayoutRunItem | None:
    """Start and execute a run (the route and the daily schedule both come here)."""
    run = start_run(actor=actor, roles=roles, currency=currency, trigger=trigger, day=today)
    if run is None:
        return None
    try:
        return execute_run(run, gateway=gateway, today=today, hook=hook, time_left=time_left)
    except Exception as exc:
        _mark_interrupted(run, exc)
        raise


def _mark_interrupted(run: PayoutRunItem, exc: Exception) -> None:
    """Best effort: say the run stopped early (the next run resumes its pending payouts either way)."""
    try:
        repository.finish_run(run, status=model.INTERRUPTED, at=clock.now_iso(),
                              summary={"error": type(exc).__name__}, only_if_running=model.RUNNING)
    except Exception:  # noqa: BLE001 - the original failure is what the caller must see
        log.warning("could not mark payout run %s interrupted", run.run_id)


def require_run(run_id: str) -> PayoutRunItem:
    run = get_run(run_id)
    if run is None:
        raise NotFound("No such payout run.")
    return run

