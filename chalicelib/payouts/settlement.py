"""One payout, from the commitment to pay to its outcome: open it, send the transfer, settle it, once.

1. `open_payout`: ONE transaction writes the payout (`pending`, id = `model.payout_id_for(run, partner,
   currency)`), its journal entry (balance -> transit), the partner balance's in-flight marker (condition:
   none in flight, the balance covers it), the audit record, and the condition that the run did not skip
   the partner. A second delivery of the same batch meets the payout row instead of paying again.
2. `settle`: the Stripe transfer with the payout id as idempotency key (a resumed payout first looks its
   transfer up by `transfer_group`, so a transfer older than Stripe's 24-hour key window is found too),
   then ONE transaction marks it `paid` (transit -> cash, `paid_out`, Stripe reference, marker cleared) or
   `failed` (the amount returns to the balance), ADDs the outcome to the progress counters of the payout's
   own run, and records the partner's `payout.paid` / `payout.failed` event (partner_feed's outbox). Whoever settles first wins (condition: still `pending`); the others change nothing.
A transfer whose outcome Stripe left unknown (timeout, 5xx) leaves the payout `pending`: the caller asks
again later with the same key.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Callable

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, UpstreamUnavailable
from chalicelib.core.money import Money
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.ledger import recorder
from chalicelib.partner_feed import outbox
from chalicelib.payouts import model, repository
from chalicelib.payouts.gateway import ConnectGateway, Transfer, TransferRejected
from chalicelib.payouts.repository import PayoutItem
from chalicelib.telemetry import metrics

log = logging.getLogger("marketplace.payouts")

Hook = Callable[[str], None]
OPENED, TAKEN, SKIPPED_BY_RUN, BALANCE_CHANGED = "opened", "taken", "skipped", "balance_changed"
PAID, FAILED, UNKNOWN, ALREADY = model.PAID, model.FAILED, "unknown", "already"


def no_hook(_step: str) -> None:
    return None


CONFLICT_RETRIES = 4


def retrying(write: Callable[[], None]) -> None:
    """Run a transactional `write` again when DynamoDB cancelled it for a concurrent transaction on the same
    item (every decided partner ADDs to its run's row, so concurrent workers meet there). Nothing was written
    by a cancelled transaction and every write is conditional, so trying again is safe; a refusal
    (`ConditionsFailed`) is an answer and is not retried."""
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            write()
            return
        except UpstreamUnavailable:
            if attempt == CONFLICT_RETRIES:
                raise
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))


def open_payout(*, run_id: str, actor: str, c: model.Candidate, hook: Hook = no_hook) -> tuple[str, PayoutItem | None]:
    """Commit to paying `c` its available balance in run `run_id`: (OPENED, payout) or why not."""
    payout_id = model.payout_id_for(run_id, c.partner_id, c.currency)
    try:
        with transaction() as tx:
            payout = repository.add_payout(tx, payout_id=payout_id, run_id=run_id, partner_id=c.partner_id,
                                           currency=c.currency, amount=c.available,
                                           destination=c.stripe_account_id or "", status=model.PENDING,
                                           at=clock.now_iso())
            recorder.record_payout(tx, payout_id=payout_id, partner_id=c.partner_id, currency=c.currency,
                                   amount=c.available, run_id=run_id)
            tx.save(audit_item(actor=actor, action="payout.created", entity_type="payout", entity_id=payout_id,
                               data={"partner_id": c.partner_id, "amount": c.available, "currency": c.currency,
                                     "run_id": run_id}))
    except ConditionsFailed as refused:
        if refused.has("payout"):
            return TAKEN, repository.get_payout(payout_id)  # a concurrent delivery opened it first
        if refused.has("skip"):
            return SKIPPED_BY_RUN, None
        return BALANCE_CHANGED, None  # another payout in flight, or the balance fell since it was read
    hook("payout_opened")
    return OPENED, payout


def settle(payout: PayoutItem, *, gateway: ConnectGateway, resuming: bool, hook: Hook = no_hook) -> str:
    """Send (or find) the payout's transfer and record the outcome: PAID, FAILED, UNKNOWN or ALREADY."""
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
        outcome = FAILED if _finish(payout, failed_reason=exc.message, transfer=None) else ALREADY
        hook("payout_settled")
        return outcome
    except (UpstreamUnavailable, Conflict) as exc:
        log.warning("payout %s: transfer outcome unknown (%s); asked again later", payout.payout_id, exc)
        return UNKNOWN
    hook("transfer_sent")
    outcome = PAID if _finish(payout, failed_reason=None, transfer=transfer) else ALREADY
    hook("payout_settled")
    return outcome


def _finish(payout: PayoutItem, *, failed_reason: str | None, transfer: Transfer | None) -> bool:
    """Record the outcome once, with the partner's `payout.paid` / `payout.failed` event; False when another
    worker recorded it first."""
    now = clock.now_iso()
    amount = int(payout.amount)
    status = model.FAILED if failed_reason else model.PAID
    was_counted_pending = bool(payout.abandoned)

    def write(tx) -> None:
        repository.settle_payout(tx, payout, status=status, at=now,
                                 transfer_id=transfer.transfer_id if transfer else None,
                                 failure_reason=failed_reason, was=model.PENDING,
                                 abandoned=was_counted_pending)
        if transfer:
            recorder.record_payout_paid(tx, payout_id=payout.payout_id, partner_id=payout.partner_id,
                                        currency=payout.currency, amount=amount, transfer_id=transfer.transfer_id)
        else:
            recorder.record_payout_failed(tx, payout_id=payout.payout_id, partner_id=payout.partner_id,
                                          currency=payout.currency, amount=amount, reason=failed_reason or "")
        if payout.run_id:
            repository.count_outcome(
                tx, payout.run_id, paid=1 if transfer else 0, failed=0 if transfer else 1,
                pending=-1 if was_counted_pending else 0, done=0 if was_counted_pending else 1,
                paid_amount=amount if transfer else 0, currency=payout.currency)
        tx.save(audit_item(actor="payouts", action=f"payout.{status}", entity_type="payout",
                           entity_id=payout.payout_id,
                           data={"partner_id": payout.partner_id, "amount": amount, "currency": payout.currency,
                                 "transfer_id": transfer.transfer_id if transfer else None,
                                 "reason": failed_reason}))
        outbox.record(tx, partner_id=payout.partner_id, type=f"payout.{status}", data=_event_data(
            payout, transfer_id=transfer.transfer_id if transfer else None, reason=failed_reason, at=now))

    try:
        retrying(lambda: outbox.commit(write))
    except ConditionsFailed:
        return False  # settled already (a concurrent or earlier delivery): nothing more to record
    payout.status = status
    payout.transfer_id = transfer.transfer_id if transfer else None
    payout.failure_reason = failed_reason
    metrics.count(metrics.PAYOUTS_FAILED if failed_reason else metrics.PAYOUTS_PAID)
    return True


def _event_data(payout: PayoutItem, *, transfer_id: str | None, reason: str | None, at: str) -> dict:
    """The `data` of a partner's `payout.paid` / `payout.failed` event."""
    data = {"payout_id": payout.payout_id, "amount": Money(int(payout.amount), payout.currency).to_dict(),
            "currency": payout.currency, "payout_run_id": payout.run_id, "settled_at": at}
    if transfer_id:
        data["transfer_id"] = transfer_id
    if reason:
        data["failure_reason"] = reason[:500]
    return data


def give_up_waiting(payout: PayoutItem) -> bool:
    """Count a payout Stripe kept silent about as its run's `pending` (once); it stays pending for later."""
    if not payout.run_id:
        return False
    def write() -> None:
        with transaction() as tx:
            repository.abandon_payout(tx, payout)
            repository.count_outcome(tx, payout.run_id, pending=1, done=1)

    try:
        retrying(write)
    except ConditionsFailed:
        return False
    payout.abandoned = True
    return True
