"""Payout runs as jobs: start one (route or schedule), and complete it when its last partner is decided.

Starting writes the run (`queued`), the open-run lock of each of its currencies and the audit record in one
transaction, then queues the run's first planning job (`planning.py`) and returns at once. A run for one
currency holds that currency's lock; a run with no currency pays every currency and holds all three, so it
collides with any open run and any open run collides with it (409 `conflict`, naming the open run). The
daily schedule also takes the day's guard row, so a retried schedule starts nothing twice. If the job
cannot be queued, the run and its locks are removed again and the caller gets 503 having changed nothing.

Completion: every transaction that decides a partner ADDs to the run's counters (`done` among them); the
planning job sets `planning_done` with the last page. Whoever sees `planning_done` and
`done == partners_total` after its own write (the last batch, or the last planning page when its batches
finished first) completes the run with a conditional write that also releases the locks; only one wins.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Iterable

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, NotFound, UpstreamUnavailable
from chalicelib.core.ids import new_id
from chalicelib.core.money import SUPPORTED_CURRENCIES
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.jobs import queue
from chalicelib.payouts import model, repository
from chalicelib.payouts.repository import PayoutRunItem
from chalicelib.telemetry import metrics

log = logging.getLogger("marketplace.payouts")

PLAN_JOB = "payouts.plan"
BATCH_JOB = "payouts.batch"


def currencies_of(currency: str | None) -> list[str]:
    """The currencies a run pays, in planning order."""
    return [currency] if currency else list(SUPPORTED_CURRENCIES)


def start_run(*, actor: str, roles: Iterable[str] = (), currency: str | None, trigger: str = "manual",
              day: date | None = None) -> PayoutRunItem | None:
    """Write the queued run and queue its planning; None if today's scheduled run exists already."""
    run_id = new_id("prun")
    now = clock.now_iso()
    currencies = currencies_of(currency)
    try:
        with transaction() as tx:
            run = repository.add_run(tx, run_id=run_id, status=model.QUEUED, trigger=trigger, actor=actor,
                                     currency=currency, at=now)
            for cur in currencies:
                repository.add_open_lock(tx, currency=cur, run_id=run_id)
            if trigger == "schedule":
                repository.add_day_guard(tx, day=(day or clock.today()).isoformat(), currency=currency,
                                         run_id=run_id)
            tx.save(audit_item(actor=actor, actor_roles=list(roles), action="payout_run.started",
                               entity_type="payout_run", entity_id=run_id,
                               data={"currency": currency, "trigger": trigger}))
    except ConditionsFailed as refused:
        if refused.has("day"):
            return None
        busy = sorted(label.split(":", 1)[1] for label in refused.refusal.labels if label.startswith("open:"))
        if not busy:
            raise
        open_runs = repository.open_locks(busy)
        raise Conflict(
            f"A payout run is already open for {', '.join(busy)}; wait for it to complete.",
            [{"currency": cur, "payout_run_id": open_runs.get(cur)} for cur in busy],
        ) from None
    try:
        queue.enqueue(PLAN_JOB, {"run_id": run_id, "currency": currencies[0], "after": ""})
    except UpstreamUnavailable:
        _undo_start(run, currencies)
        raise
    return run


def _undo_start(run: PayoutRunItem, currencies: list[str]) -> None:
    """The planning job could not be queued: remove the run and its locks (best effort; logged if not)."""
    try:
        with transaction() as tx:
            repository.delete_unstarted_run(tx, run, currencies)
            tx.save(audit_item(actor="payouts", action="payout_run.abandoned", entity_type="payout_run",
                               entity_id=run.run_id, data={"reason": "the job queue could not be reached"}))
    except Exception:  # noqa: BLE001 - the queue failure is what the caller must see
        log.exception("payout run %s could not be queued nor removed: it stays queued (docs/operations.md)",
                      run.run_id)


def complete_if_done(run_id: str) -> bool:
    """Complete the run if every planned partner is decided; True when this call completed it."""
    run = repository.get_run(run_id, consistent=True)
    if run is None or run.status not in model.OPEN_STATUSES or not run.planning_done:
        return False
    if int(run.done) != int(run.partners_total):
        if int(run.done) > int(run.partners_total):
            log.error("payout run %s decided %s partners of %s", run_id, run.done, run.partners_total)
        return False
    status = model.final_status(failed=int(run.failed), pending=int(run.pending))
    try:
        with transaction() as tx:
            repository.complete_run(tx, run, status=status, at=clock.now_iso(), currencies=currencies_of(run.currency))
            tx.save(audit_item(actor="payouts", action=f"payout_run.{status}", entity_type="payout_run",
                               entity_id=run_id, data=run.progress()))
    except ConditionsFailed:
        return False  # completed by a concurrent job
    metrics.count(metrics.PAYOUT_RUNS_COMPLETED)
    log.info("payout run %s %s: %s", run_id, status, run.progress())
    return True


def require_run(run_id: str) -> PayoutRunItem:
    run = repository.get_run(run_id)
    if run is None:
        raise NotFound("No such payout run.")
    return run
