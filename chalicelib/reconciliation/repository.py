"""Reconciliation rows in the single table: the run, its discrepancies and what Stripe showed.

- `RECON#<id>/RUN`: one reconciliation (`running -> completed`) with its counters.
- `RECON#<id>/DISC#<seq>`: one discrepancy, in the order found (read back as JSON pages or CSV).
- `RECON#<id>/SEEN#<stripe id>`: Stripe listed this object in the period (pass 2 asks which it did).
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import keys
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import Transaction
from chalicelib.reconciliation import model


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


def add_started(tx: Transaction, *, recon_id: str, period_from: str, period_to: str, actor: str,
                at: str) -> ReconciliationItem:
    """Add the new `running` reconciliation to `tx` (once per id); returns its row."""
    recon = ReconciliationItem(keys.reconciliation_pk(recon_id), keys.RECONCILIATION_SK, recon_id=recon_id,
                               status="running", period_from=period_from, period_to=period_to, actor=actor,
                               started_at=at, counts={})
    tx.save(recon, condition=ReconciliationItem.pk.does_not_exist())
    return recon


def mark_completed(recon: ReconciliationItem, *, at: str, matched: int, counts: dict[str, int],
                   stripe_objects: int, ledger_records: int) -> None:
    recon.update(actions=[
        ReconciliationItem.status.set("completed"), ReconciliationItem.finished_at.set(at),
        ReconciliationItem.matched.set(matched), ReconciliationItem.counts.set(counts),
        ReconciliationItem.stripe_objects.set(stripe_objects),
        ReconciliationItem.ledger_records.set(ledger_records),
    ])


def discrepancy_row(recon_id: str, seq: int, data: dict) -> DiscrepancyItem:
    return DiscrepancyItem(keys.reconciliation_pk(recon_id), keys.recon_discrepancy_sk(seq), data=data)


def seen_row(recon_id: str, stripe_id: str) -> SeenItem:
    return SeenItem(keys.reconciliation_pk(recon_id), keys.recon_seen_sk(stripe_id))


def write_rows(rows: list[MarketItem]) -> None:
    """Put rows with BatchWriteItem (25 per request)."""
    with MarketItem.batch_write() as batch:
        for row in rows:
            batch.save(row)


def seen_among(recon_id: str, stripe_ids: Iterable[str]) -> set[str]:
    """Which of these Stripe ids the reconciliation's listing showed (one BatchGetItem per 100)."""
    pk = keys.reconciliation_pk(recon_id)
    prefix = len(keys.recon_seen_sk(""))
    return {item.sk[prefix:] for item in SeenItem.batch_get([(pk, keys.recon_seen_sk(i)) for i in set(stripe_ids)])}


def get_reconciliation(recon_id: str) -> ReconciliationItem | None:
    try:
        return ReconciliationItem.get(keys.reconciliation_pk(recon_id), keys.RECONCILIATION_SK)
    except ReconciliationItem.DoesNotExist:
        return None


def discrepancies(recon_id: str, *, limit: int | None = None, start: dict | None = None):
    """A reconciliation's discrepancies in the order found (a Query; pages with `limit` / `start`)."""
    return DiscrepancyItem.query(keys.reconciliation_pk(recon_id), DiscrepancyItem.sk.startswith("DISC#"),
                                 limit=limit, last_evaluated_key=start)
