"""Reconcile the ledger with Stripe for a period, in memory that does not grow with the period.

Pass 1 reads Stripe's payment intents, refunds and transfers created in the period, one page (100)
at a time; for each page it fetches the ledger's references of those ids with one BatchGet, compares
each pair (`model.compare`), writes discrepancies as they are found and records which ids Stripe
showed (`SEEN` rows, batch-written). Pass 2 reads the ledger's references recorded in the period, one
page at a time, and asks with one BatchGet which of them Stripe showed; only the ones it did not show
are fetched from Stripe by id (created outside the period: compared; absent: `missing_in_stripe`).
Nothing but one page, one batch of pending writes and the counters is held at any time.
"""
from __future__ import annotations

from calendar import timegm
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.csvformat import render, safe_text
from chalicelib.core.errors import NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.money import format_decimal
from chalicelib.db.transact import transaction
from chalicelib.ledger.journal import stripe_ref_pages, stripe_refs
from chalicelib.ledger.statements import Period
from chalicelib.payouts.gateway import StripeRecord
from chalicelib.reconciliation import model, repository
from chalicelib.reconciliation.model import Discrepancy, LedgerRecord
from chalicelib.reconciliation.repository import ReconciliationItem
from chalicelib.telemetry import metrics

WRITE_BATCH = 25


@dataclass
class _Progress:
    recon_id: str
    matched: int = 0
    stripe_objects: int = 0
    ledger_records: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {kind: 0 for kind in model.KINDS})
    seq: int = 0
    pending: list = field(default_factory=list)
    peak_buffer: int = 0

    def found(self, d: Discrepancy | None, *, has_ledger: bool) -> None:
        if d is None:
            if has_ledger:
                self.matched += 1
            return
        self.counts[d.kind] += 1
        self.seq += 1
        self.queue(repository.discrepancy_row(self.recon_id, self.seq, d.to_dict()))

    def queue(self, item) -> None:
        self.pending.append(item)
        self.peak_buffer = max(self.peak_buffer, len(self.pending))
        if len(self.pending) >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        repository.write_rows(self.pending)
        self.pending = []


def _epoch(day: date) -> int:
    return timegm(day.timetuple())


def _ledger(ref) -> LedgerRecord:
    """The ledger's reference of one Stripe object, as the comparison reads it."""
    return LedgerRecord(ref.ref_kind, ref.stripe_id, int(ref.amount), ref.currency, ref.status, ref.txn_id,
                        ref.entity_id)


def reconcile(*, actor: str, roles: Iterable[str] = (), p: Period, listing) -> ReconciliationItem:
    """Compare the ledger with Stripe for `p` and store the result (returned, finished)."""
    recon_id = new_id("rec")
    with transaction() as tx:
        recon = repository.add_started(tx, recon_id=recon_id, period_from=p.start.isoformat(),
                                       period_to=p.end.isoformat(), actor=actor, at=clock.now_iso())
        tx.save(audit_item(actor=actor, actor_roles=list(roles), action="reconciliation.started",
                           entity_type="reconciliation", entity_id=recon_id, data=p.to_dict()))
    progress = run_passes(recon_id, p, listing)
    repository.mark_completed(recon, at=clock.now_iso(), matched=progress.matched, counts=progress.counts,
                              stripe_objects=progress.stripe_objects, ledger_records=progress.ledger_records)
    metrics.count(metrics.RECONCILIATION_DISCREPANCIES, sum(progress.counts.values()))  # 0 too: "ran, all matched"
    return recon


def run_passes(recon_id: str, p: Period, listing) -> _Progress:
    gte, lt = _epoch(p.start), _epoch(p.end + timedelta(days=1))
    progress = _Progress(recon_id)
    for pages in (listing.payments(gte, lt), listing.refunds(gte, lt), listing.transfers(gte, lt)):
        for page in pages:
            page = [r for r in page if gte <= r.created < lt]
            progress.stripe_objects += len(page)
            refs = stripe_refs([r.stripe_id for r in page]) if page else {}
            for record in page:
                ref = refs.get(record.stripe_id)
                progress.found(model.compare(record, _ledger(ref) if ref else None), has_ledger=ref is not None)
                if ref is not None:
                    progress.queue(repository.seen_row(recon_id, record.stripe_id))
    progress.flush()
    for page in stripe_ref_pages(p.lo, p.hi):
        progress.ledger_records += len(page)
        seen = repository.seen_among(recon_id, [ref.stripe_id for ref in page])
        for ref in page:
            if ref.stripe_id in seen:
                continue
            ledger = _ledger(ref)
            record: StripeRecord | None = listing.retrieve(ref.ref_kind, ref.stripe_id)
            if record is None:
                progress.found(model.missing_in_stripe(ledger), has_ledger=True)
            else:
                progress.found(model.compare(record, ledger), has_ledger=True)
    progress.flush()
    return progress


def require(recon_id: str) -> ReconciliationItem:
    recon = repository.get_reconciliation(recon_id)
    if recon is None:
        raise NotFound("No such reconciliation.")
    return recon


def discrepancies(recon_id: str, *, limit: int | None = None, start: dict | None = None):
    """A reconciliation's discrepancy rows, in the order found (pages with `limit` / `start`)."""
    return repository.discrepancies(recon_id, limit=limit, start=start)


CSV_HEADER = ("kind", "object", "currency", "stripe_id", "stripe_amount", "stripe_status", "ledger_txn_id",
              "ledger_amount", "ledger_status", "entity_id")


def as_csv(recon_id: str) -> str:
    def money(value, cur):
        return "" if value is None else format_decimal(int(value), cur)

    def rows():
        for item in discrepancies(recon_id):
            d = item.data
            cur = d["currency"]
            yield (d["kind"], d["object_kind"], cur, safe_text(d["stripe_id"]), money(d["stripe_amount"], cur),
                   safe_text(d["stripe_status"]), safe_text(d["ledger_txn_id"]), money(d["ledger_amount"], cur),
                   safe_text(d["ledger_status"]), safe_text(d["entity_id"]))

    return render(CSV_HEADER, rows())
