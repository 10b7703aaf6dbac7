"""Reconciliation rows in the single table: the run and its progress, its discrepancies, what Stripe showed.

- `RECON#<id>/RUN`: one reconciliation (`queued -> running -> completed`) with its counters and where
  its job stands (`phase`, `position`, `step`); gsi1 `RECONCILIATIONS` newest first.
- `RECON#<id>/DISC#<seq>`: one discrepancy, in the order found (read back as JSON pages or CSV).
- `RECON#<id>/SEEN#<stripe id>`: Stripe listed this object in the period (pass 2 asks which it did).

The job advances the row with a conditional write on `step`: a duplicate or stale delivery that lost the
race changes nothing and stops.
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import Transaction
from chalicelib.reconciliation import model

RECONCILIATIONS_PK = "RECONCILIATIONS"  # gsi1: every reconciliation, newest first


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
    phase = UnicodeAttribute(null=True)  # payment | refund | transfer | ledger | done
    position = UnicodeAttribute(null=True)  # where the phase's listing resumes (opaque to this module)
    step = NumberAttribute(default=0)  # pages committed so far
    seq = NumberAttribute(default=0)  # discrepancies written so far

    def to_dict(self) -> dict:
        counts = {kind: 0 for kind in model.KINDS}
        counts.update(self.counts or {})
        return {"reconciliation_id": self.recon_id, "status": self.status, "from": self.period_from,
                "to": self.period_to, "actor": self.actor, "started_at": self.started_at,
                "finished_at": self.finished_at, "matched": int(self.matched), "counts": counts,
                "stripe_objects": int(self.stripe_objects), "ledger_records": int(self.ledger_records),
                "phase": self.phase}


class DiscrepancyItem(MarketItem, discriminator="ReconDiscrepancy"):
    data = JSONAttribute()


class SeenItem(MarketItem, discriminator="ReconSeen"):
    """Stripe showed this object while listing the period (read back by pass 2)."""


def add_queued(tx: Transaction, *, recon_id: str, period_from: str, period_to: str, actor: str,
               at: str, phase: str) -> ReconciliationItem:
    """Add the new `queued` reconciliation to `tx` (once per id); returns its row."""
    recon = ReconciliationItem(keys.reconciliation_pk(recon_id), keys.RECONCILIATION_SK, recon_id=recon_id,
                               status="queued", period_from=period_from, period_to=period_to, actor=actor,
                               started_at=at, counts={}, phase=phase, step=0, seq=0,
                               gsi1pk=RECONCILIATIONS_PK, gsi1sk=keys.created_sk(at, recon_id))
    tx.save(recon, condition=ReconciliationItem.pk.does_not_exist(), label="reconciliation")
    return recon


def delete_queued(recon: ReconciliationItem) -> None:
    recon.delete(condition=(ReconciliationItem.status == "queued") & (ReconciliationItem.step == 0))


def advance(recon: ReconciliationItem, *, from_step: int, phase: str, position: str | None, matched: int,
            counts: dict[str, int], stripe_objects: int, ledger_records: int, seq: int,
            finished_at: str | None) -> bool:
    """Commit one page's progress if nobody committed step `from_step` first; False when somebody did."""
    actions = [
        ReconciliationItem.status.set("completed" if finished_at else "running"),
        ReconciliationItem.phase.set(phase), ReconciliationItem.step.set(from_step + 1),
        ReconciliationItem.matched.set(matched), ReconciliationItem.counts.set(counts),
        ReconciliationItem.stripe_objects.set(stripe_objects), ReconciliationItem.ledger_records.set(ledger_records),
        ReconciliationItem.seq.set(seq),
    ]
    actions.append(ReconciliationItem.position.set(position) if position else ReconciliationItem.position.remove())
    if finished_at:
        actions.append(ReconciliationItem.finished_at.set(finished_at))
    try:
        recon.update(actions=actions, condition=(ReconciliationItem.step == from_step)
                     & (ReconciliationItem.status != "completed"))
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def discrepancy_row(recon_id: str, seq: int, data: dict) -> DiscrepancyItem:
    return DiscrepancyItem(keys.reconciliation_pk(recon_id), keys.recon_discrepancy_sk(seq), data=data)


def seen_row(recon_id: str, stripe_id: str) -> SeenItem:
    return SeenItem(keys.reconciliation_pk(recon_id), keys.recon_seen_sk(stripe_id))


def write_rows(rows: list[MarketItem]) -> None:
    """Put rows with BatchWriteItem (25 per request); puts of the same key and content are idempotent."""
    if not rows:
        return
    with MarketItem.batch_write() as batch:
        for row in rows:
            batch.save(row)


def seen_among(recon_id: str, stripe_ids: Iterable[str]) -> set[str]:
    """Which of these Stripe ids the reconciliation's listing showed (one BatchGetItem per 100)."""
    pk = keys.reconciliation_pk(recon_id)
    prefix = len(keys.recon_seen_sk(""))
    wanted = [(pk, keys.recon_seen_sk(i)) for i in set(stripe_ids)]
    if not wanted:
        return set()
    return {item.sk[prefix:] for item in SeenItem.batch_get(wanted, consistent_read=True)}


def get_reconciliation(recon_id: str, *, consistent: bool = False) -> ReconciliationItem | None:
    try:
        return ReconciliationItem.get(keys.reconciliation_pk(recon_id), keys.RECONCILIATION_SK,
                                      consistent_read=consistent)
    except ReconciliationItem.DoesNotExist:
        return None


def reconciliations_page(*, limit: int, cursor: str | None) -> Page[ReconciliationItem]:
    return query_page(
        lambda size, start: ReconciliationItem.gsi1.query(RECONCILIATIONS_PK, scan_index_forward=False, limit=size,
                                                          last_evaluated_key=start),
        limit=limit, cursor=cursor, scope="reconciliations", index="gsi1",
    )


def discrepancies(recon_id: str, *, limit: int | None = None, start: dict | None = None):
    """A reconciliation's discrepancies in the order found (a Query; pages with `limit` / `start`)."""
    return DiscrepancyItem.query(keys.reconciliation_pk(recon_id), DiscrepancyItem.sk.startswith("DISC#"),
                                 limit=limit, last_evaluated_key=start)
