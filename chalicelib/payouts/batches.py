"""A payout run's pay job: decide and pay a batch of partners of one currency, each exactly once.

`pay_batch({run_id, currency, partners, attempt})`:
1. one consistent BatchGetItem reads, for every partner of the batch, what this run already did for it
   (its payout, by the deterministic id, or its skip row), its balance row and its profile;
2. per partner, in order: already skipped -> nothing; this run's payout exists -> settle it if still
   pending (a redelivery after a crash: its transfer is looked up by payout id before any send); an
   older run's payout still in flight on the balance -> settled first (counted in that run), then the
   partner is judged on the fresh balance; otherwise `model.skip_reason` decides: skipped (written in one
   transaction for the batch, with the counters) or paid (`settlement.open_payout`, then `settle`);
3. transfers whose outcome Stripe left unknown: the job sends itself back for just those partners with a
   growing delay; after `MAX_UNKNOWN_ATTEMPTS` rounds the run counts them `pending` and goes on;
4. the run completes if this was its last undecided partner (`runs.complete_if_done`).
When the worker's time runs low the job sends itself back with the partners it did not reach. Every write
is conditional on the run's and the partner's state, so a message delivered twice, or a worker killed
after any step and the message redelivered, pays nobody twice and counts every partner once.
"""
from __future__ import annotations

import logging
from typing import Any

from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.db import keys
from chalicelib.db.table import get_rows
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.jobs.registry import JobContext
from chalicelib.jobs.worker import RunLater
from chalicelib.ledger.balances import balance_from_row
from chalicelib.partners.repository import partners_among, profile_key
from chalicelib.payouts import model, repository, runs, settlement
from chalicelib.payouts.gateway import connect_gateway
from chalicelib.payouts.repository import PayoutItem, PayoutSkipItem
from chalicelib.payouts.settlement import Hook, no_hook

log = logging.getLogger("marketplace.payouts")

SKIPS_PER_TRANSACTION = 45  # 2 items each (the row, the "no payout" check) + the run's counters: <= 100
_hook: list[Hook] = [no_hook]


def set_hook(hook: Hook | None) -> None:
    """Tests: call `hook(step)` after each durable step (raise from it to kill the worker there)."""
    _hook[0] = hook or no_hook


def _balance_key(partner_id: str, currency: str) -> tuple[str, str]:
    return keys.partner_pk(partner_id), keys.balance_sk(currency)


def _read(run_id: str, currency: str, partners: list[str]) -> tuple[dict, set, dict, dict]:
    wanted = []
    for pid in partners:
        wanted += [repository.payout_key(model.payout_id_for(run_id, pid, currency)),
                   repository.skip_key(run_id, pid, currency), _balance_key(pid, currency), profile_key(pid)]
    rows = get_rows(wanted, consistent=True)
    payouts = {row.partner_id: row for row in rows if isinstance(row, PayoutItem)}
    skipped = {row.partner_id for row in rows if isinstance(row, PayoutSkipItem)}
    balances = {row.partner_id: row for row in rows if row.sk == keys.balance_sk(currency)
                and row.pk.startswith(keys.partner_pk(""))}
    return payouts, skipped, balances, partners_among(rows)


def pay_batch(data: dict[str, Any], ctx: JobContext) -> None:
    """Decide and pay one batch of partners (see the module docstring)."""
    run_id, currency = data["run_id"], data["currency"]
    partners: list[str] = list(data.get("partners") or [])
    attempt = int(data.get("attempt") or 0)
    run = repository.get_run(run_id, consistent=True)
    if run is None:
        log.warning("payout batch for unknown run %s dropped", run_id)
        return
    gateway = connect_gateway()
    settings = get_settings()
    today = clock.today()
    payouts, skipped, balances, profiles = _read(run_id, currency, partners)
    _hook[0]("batch_read")
    skips: list[tuple[model.Candidate, str]] = []
    unknown: list[str] = []
    for i, pid in enumerate(partners):
        if ctx.time_left.running_low():
            _write_skips(run_id, skips)
            log.info("payout batch of run %s: time running low, %d partners sent back", run_id, len(partners) - i)
            raise RunLater(0, {**data, "partners": unknown + partners[i:]})
        if pid in skipped:
            continue
        mine = payouts.get(pid)
        if mine is not None:
            if mine.status == model.PENDING and not mine.abandoned:
                if settlement.settle(mine, gateway=gateway, resuming=True, hook=_hook[0]) == settlement.UNKNOWN:
                    unknown.append(pid)
            continue
        row = balances.get(pid)
        if row is not None and row.open_payout:
            row = _finish_older_payout(row, currency, gateway)
        partner = profiles.get(pid)
        available = balance_from_row(row, today=today, hold_days=settings.hold_days).available if row else 0
        candidate = model.Candidate(pid, currency, available, partner.status if partner else None,
                                    partner.payouts_enabled if partner else False,
                                    partner.stripe_account_id if partner else None,
                                    row.open_payout if row is not None else None)
        reason = model.skip_reason(candidate, min_payout=settings.min_payout)
        if reason:
            skips.append((candidate, reason))
            continue
        outcome, payout = settlement.open_payout(run_id=run_id, actor=run.actor, c=candidate, hook=_hook[0])
        if outcome == settlement.BALANCE_CHANGED:
            skips.append((candidate, model.IN_PROGRESS))
        elif payout is not None and payout.status == model.PENDING:
            resumed = outcome == settlement.TAKEN
            if settlement.settle(payout, gateway=gateway, resuming=resumed, hook=_hook[0]) == settlement.UNKNOWN:
                unknown.append(pid)
    _write_skips(run_id, skips)
    _hook[0]("skips_written")
    if unknown:
        _wait_for_stripe(data, run_id, currency, unknown, attempt)
    runs.complete_if_done(run_id)
    _hook[0]("batch_done")


def _finish_older_payout(row, currency: str, gateway):
    """Settle the payout an earlier run left in flight on this balance; the balance row as it is now."""
    older = repository.get_payout(row.open_payout)
    if older is not None and older.status == model.PENDING:
        settlement.settle(older, gateway=gateway, resuming=True, hook=_hook[0])
    fresh = get_rows([_balance_key(row.partner_id, currency)], consistent=True)
    return fresh[0] if fresh else row


def _wait_for_stripe(data: dict, run_id: str, currency: str, unknown: list[str], attempt: int) -> None:
    """Ask again later about transfers of unknown outcome; after the last round, count them `pending`."""
    if attempt + 1 < model.MAX_UNKNOWN_ATTEMPTS:
        raise RunLater(model.unknown_outcome_delay(attempt), {**data, "partners": unknown, "attempt": attempt + 1})
    for pid in unknown:
        payout = repository.get_payout(model.payout_id_for(run_id, pid, currency))
        if payout is not None and payout.status == model.PENDING:
            settlement.give_up_waiting(payout)
            log.error("payout %s: Stripe's answer unknown after %d rounds; left pending for the next run",
                      payout.payout_id, attempt + 1)


def _write_skips(run_id: str, skips: list[tuple[model.Candidate, str]]) -> None:
    """Skip rows and their count, in as few transactions as fit; one by one if any was written before."""
    for start in range(0, len(skips), SKIPS_PER_TRANSACTION):
        group = skips[start:start + SKIPS_PER_TRANSACTION]
        try:
            _skip_transaction(run_id, group)
        except ConditionsFailed:
            for one in group:  # a concurrent delivery decided some of them: write the others alone
                try:
                    _skip_transaction(run_id, [one])
                except ConditionsFailed:
                    continue


def _skip_transaction(run_id: str, group: list[tuple[model.Candidate, str]]) -> None:
    if not group:
        return

    def write() -> None:
        with transaction() as tx:
            for c, reason in group:
                repository.add_skip(tx, run_id, partner_id=c.partner_id, currency=c.currency, reason=reason,
                                    available=c.available,
                                    payout_id=model.payout_id_for(run_id, c.partner_id, c.currency))
            repository.count_outcome(tx, run_id, skipped=len(group), done=len(group))

    settlement.retrying(write)
