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
from typing import Iterable, Iterator

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.money import format_decimal
from chalicelib.db import keys
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import transaction
from chalicelib.ledger.journal import StripeRefItem
from chalicelib.ledger.statements import Period
from chalicelib.reconciliation import model
from chalicelib.reconciliation.model import Discrepancy, LedgerRecord, StripeRecord
from chalicelib.core.csvformat import render, safe_text

WRITE_BATCH = 25


class ReconciliationItem(MarketItem, discriminator="Reconciliation"):
    recon_id = UnicodeAttribute()
    status = UnicodeAttribute()
    period_from = UnicodeAttribute()
    period_to = UnicodeAttribute()
    actor = UnicodeAttribute()
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    matched = NumberAttribute(default=0)
    counts = JSONAttribute(null=True)
    stripe_objects = NumberAttribute(default=0)
    ledger_records = NumberAttribute(default=0)

    def to_dict(self) -> dict:
        counts = {kind: 0 for kind in model.KINDS}
        counts.update(self.counts or {})
        return {"reconciliation_id": self.recon_id, "status": self.status, "from": self.period_from,
                "to": self.period_to, "actor": self.actor, "started_at": self.started_at,
                "finished_at": self.finished_at, "matched": int(self.matched), "counts": counts,
                "stripe_objects": int(self.stripe_objects), "ledger_records": int(self.ledger_records)}


class DiscrepancyItem(MarketItem, discriminator="ReconDiscrepancy"):
    data = JSONAttribute()


class SeenItem(MarketItem, discriminator="ReconSeen"):
    """Stripe showed this object while listing the period (read back by pass 2)."""


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
        self.queue(DiscrepancyItem(keys.reconciliation_pk(self.recon_id), keys.recon_discrepancy_sk(self.seq),
                                   data=d.to_dict()))

    def queue(self, item) -> None:
        self.pending.append(item)
        self.peak_buffer = max(self.peak_buffer, len(self.pending))
        if len(self.pending) >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with MarketItem.batch_write() as batch:
            for item in self.pending:
                batch.save(item)
        self.pending = []


def _epoch(day: date) -> int:
    return timegm(day.timetuple())


def _ledger(item: StripeRefItem) -> LedgerRecord:
    return LedgerRecord(item.ref_kind, item.stripe_id, int(item.amount), item.currency, item.status, item.txn_id,
                        item.entity_id)


def _refs(ids: list[str]) -> dict[str, StripeRefItem]:
    found = StripeRefItem.batch_get([(keys.stripe_ref_pk(i), keys.STRIPE_REF_SK) for i in set(ids)])
    return {item.stripe_id: item for item in found}


def _seen(recon_id: str, ids: list[str]) -> set[str]:
    pk = keys.reconciliation_pk(recon_id)
    return {item.sk[len("SEEN#"):] for item in SeenItem.batch_get([(pk, keys.recon_seen_sk(i)) for i in set(ids)])}


def _ledger_pages(p: Period, size: int = 100) -> Iterator[list[StripeRefItem]]:
    start = None
    while True:
        result = StripeRefItem.gsi1.query(keys.STRIPE_REFS_PK, StripeRefItem.gsi1sk.between(p.lo, p.hi),
                                          limit=size, last_evaluated_key=start)
        page = list(result)
        if page:
            yield page
        start = result.last_evaluated_key
        if not start:
            return


def reconcile(*, actor: str, roles: Iterable[str] = (), p: Period, listing) -> ReconciliationItem:
    """Compare the ledger with Stripe for `p` and store the result (returned, finished)."""
    recon_id = new_id("rec")
    recon = ReconciliationItem(keys.reconciliation_pk(recon_id), keys.RECONCILIATION_SK, recon_id=recon_id,
                               status="running", period_from=p.start.isoformat(), period_to=p.end.isoformat(),
                               actor=actor, started_at=clock.now_iso(), counts={})
    with transaction() as tx:
        tx.save(recon, condition=ReconciliationItem.pk.does_not_exist())
        tx.save(audit_item(actor=actor, actor_roles=list(roles), action="reconciliation.started",
                           entity_type="reconciliation", entity_id=recon_id, data=p.to_dict()))
    progress = run_passes(recon_id, p, listing)
    recon.update(actions=[
        ReconciliationItem.status.set("completed"), ReconciliationItem.finished_at.set(clock.now_iso()),
        ReconciliationItem.matched.set(progress.matched), ReconciliationItem.counts.set(progress.counts),
        ReconciliationItem.stripe_objects.set(progress.stripe_objects),
        ReconciliationItem.ledger_records.set(progress.ledger_records),
    ])
    return recon


def run_passes(recon_id: str, p: Period, listing) -> _Progress:
    gte, lt = _epoch(p.start), _epoch(p.end + timedelta(days=1))
    progress = _Progress(recon_id)
    pk = keys.reconciliation_pk(recon_id)
    for pages in (listing.payments(gte, lt), listing.refunds(gte, lt), listing.transfers(gte, lt)):
        for page in pages:
            page = [r for r in page if gte <= r.created < lt]
            progress.stripe_objects += len(page)
            refs = _refs([r.stripe_id for r in page]) if page else {}
            for record in page:
                ref = refs.get(record.stripe_id)
                progress.found(model.compare(record, _ledger(ref) if ref else None), has_ledger=ref is not None)
                if ref is not None:
                    progress.queue(SeenItem(pk, keys.recon_seen_sk(record.stripe_id)))
    progress.flush()
    for page in _ledger_pages(p):
        progress.ledger_records += len(page)
        seen = _seen(recon_id, [ref.stripe_id for ref in page])
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
    try:
        return ReconciliationItem.get(keys.reconciliation_pk(recon_id), keys.RECONCILIATION_SK)
    except ReconciliationItem.DoesNotExist:
        raise NotFound("No such reconciliation.") from None


def discrepancies(recon_id: str, *, limit: int | None = None, start: dict | None = None):
    return DiscrepancyItem.query(keys.reconciliation_pk(recon_id), DiscrepancyItem.sk.startswith("DISC#"),
                                 limit=limit, last_evaluated_key=start)


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
