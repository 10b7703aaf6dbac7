"""The reconciliation job: one page per step, the reconciliation row saying where the next step starts.

Phases, in order: Stripe's `payment`s, `refund`s and `transfer`s created in the window (pass 1: each
page's ledger references fetched with one BatchGet, each pair compared, discrepancies written, the ids
Stripe showed recorded as `SEEN` rows), then the `ledger` (pass 2: the ledger's references recorded in the
window, page by page; only those Stripe's listing did not show are fetched from Stripe by id).

A step reads the row (consistently), works one page from the position the row holds, writes the page's
rows (discrepancies numbered on from the row's `seq`, so a repeated page writes the same keys), then commits
the new counters and position under the condition that the row is still at the step it read. A duplicate
or stale delivery loses that race and stops; a redelivery after a crash repeats the page the row still
points at. The job keeps stepping until its time runs low or `PAGES_PER_JOB` pages are done, then sends
itself back (`RunLater`). Memory holds one page and its pending writes.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.core import clock
from chalicelib.jobs.registry import JobContext
from chalicelib.jobs.worker import RunLater
from chalicelib.ledger.journal import stripe_ref_pages, stripe_refs
from chalicelib.payouts.gateway import PAYMENT, REFUND, TRANSFER
from chalicelib.reconciliation import model, repository
from chalicelib.reconciliation.model import LedgerRecord
from chalicelib.reconciliation.sources import stripe_listing
from chalicelib.reconciliation.window import window
from chalicelib.telemetry import metrics

log = logging.getLogger("marketplace.reconciliation")

PHASES = (PAYMENT, REFUND, TRANSFER, "ledger", "done")
PAGES_PER_JOB = 50
LEDGER_PAGE = 100
MORE, DONE, LOST = "more", "done", "lost"


class _Page:
    """One step's work: the counters as read, what the page adds, the rows to write."""

    def __init__(self, recon):
        self.recon_id = recon.recon_id
        self.matched = int(recon.matched)
        self.counts = {kind: 0 for kind in model.KINDS}
        self.counts.update(recon.counts or {})
        self.stripe_objects = int(recon.stripe_objects)
        self.ledger_records = int(recon.ledger_records)
        self.seq = int(recon.seq)
        self.rows: list = []

    def found(self, d, *, has_ledger: bool) -> None:
        if d is None:
            self.matched += 1 if has_ledger else 0
            return
        self.counts[d.kind] += 1
        self.seq += 1
        self.rows.append(repository.discrepancy_row(self.recon_id, self.seq, d.to_dict()))


def _ledger(ref) -> LedgerRecord:
    return LedgerRecord(ref.ref_kind, ref.stripe_id, int(ref.amount), ref.currency, ref.status, ref.txn_id,
                        ref.entity_id)


def run_step(data: dict[str, Any], ctx: JobContext) -> None:
    """Advance reconciliation `data["reconciliation_id"]` page by page (see the module docstring)."""
    recon_id = data["reconciliation_id"]
    listing = stripe_listing()
    for _ in range(PAGES_PER_JOB):
        recon = repository.get_reconciliation(recon_id, consistent=True)
        if recon is None or recon.status == "completed":
            return
        if ctx.time_left.running_low():
            break
        outcome = _step(recon, listing)
        if outcome == LOST:
            log.info("reconciliation %s: another delivery committed step %s first", recon_id, recon.step)
            return
        if outcome == DONE:
            return
    raise RunLater(0)


def _step(recon, listing) -> str:
    """Work one page and commit it: MORE, DONE, or LOST when another delivery committed this step first."""
    w = window(recon.period_from, recon.period_to)
    phase, position = recon.phase or PAYMENT, recon.position
    page = _Page(recon)
    if phase in (PAYMENT, REFUND, TRANSFER):
        records, following = listing.page(phase, w.gte, w.lt, position)
        records = [r for r in records if w.gte <= r.created < w.lt]
        page.stripe_objects += len(records)
        refs = stripe_refs([r.stripe_id for r in records]) if records else {}
        for record in records:
            ref = refs.get(record.stripe_id)
            page.found(model.compare(record, _ledger(ref) if ref else None), has_ledger=ref is not None)
            if ref is not None:
                page.rows.append(repository.seen_row(recon.recon_id, record.stripe_id))
    else:
        lo = f"{position} " if position else w.lo
        refs_page = next(iter(stripe_ref_pages(lo, w.hi, size=LEDGER_PAGE)), [])
        page.ledger_records += len(refs_page)
        seen = repository.seen_among(recon.recon_id, [ref.stripe_id for ref in refs_page])
        for ref in refs_page:
            if ref.stripe_id in seen:
                continue
            stripe = listing.retrieve(ref.ref_kind, ref.stripe_id)
            ledger = _ledger(ref)
            page.found(model.missing_in_stripe(ledger) if stripe is None else model.compare(stripe, ledger),
                       has_ledger=True)
        following = refs_page[-1].gsi1sk if len(refs_page) == LEDGER_PAGE else None
    if following is None:
        phase = PHASES[PHASES.index(phase) + 1]
    repository.write_rows(page.rows)
    done = phase == "done"
    committed = repository.advance(
        recon, from_step=int(recon.step), phase=phase, position=following, matched=page.matched, counts=page.counts,
        stripe_objects=page.stripe_objects, ledger_records=page.ledger_records, seq=page.seq,
        finished_at=clock.now_iso() if done else None)
    if not committed:
        return LOST
    if done:
        metrics.count(metrics.RECONCILIATION_DISCREPANCIES, sum(page.counts.values()))  # 0 too: "ran, all matched"
        log.info("reconciliation %s completed: %s", recon.recon_id, json.dumps(page.counts))
        return DONE
    return MORE
