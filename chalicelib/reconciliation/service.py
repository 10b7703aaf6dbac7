"""Start a reconciliation (a queued job, `steps.py`), and read one back: its status, discrepancies, CSV."""
from __future__ import annotations

import logging
from typing import Iterable

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.csvformat import render, safe_text
from chalicelib.core.errors import InvalidState, NotFound, UpstreamUnavailable
from chalicelib.core.ids import new_id
from chalicelib.core.money import format_decimal
from chalicelib.db.transact import transaction
from chalicelib.jobs import queue
from chalicelib.payouts.gateway import PAYMENT
from chalicelib.reconciliation import repository
from chalicelib.reconciliation.repository import ReconciliationItem
from chalicelib.reconciliation.window import Window

log = logging.getLogger("marketplace.reconciliation")

STEP_JOB = "reconciliation.step"


def start(*, actor: str, roles: Iterable[str] = (), w: Window) -> ReconciliationItem:
    """Write the `queued` reconciliation and queue its job; 503 (nothing kept) if the queue is unreachable."""
    recon_id = new_id("rec")
    bounds = w.to_dict()
    with transaction() as tx:
        recon = repository.add_queued(tx, recon_id=recon_id, period_from=bounds["from"], period_to=bounds["to"],
                                      actor=actor, at=clock.now_iso(), phase=PAYMENT)
        tx.save(audit_item(actor=actor, actor_roles=list(roles), action="reconciliation.started",
                           entity_type="reconciliation", entity_id=recon_id, data=bounds))
    try:
        queue.enqueue(STEP_JOB, {"reconciliation_id": recon_id})
    except UpstreamUnavailable:
        try:
            repository.delete_queued(recon)
        except Exception:  # noqa: BLE001 - the queue failure is what the caller must see
            log.exception("reconciliation %s could not be queued nor removed", recon_id)
        raise
    return recon


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


def as_csv(recon: ReconciliationItem) -> str:
    """Every discrepancy as CSV, once the reconciliation has completed."""
    if recon.status != "completed":
        raise InvalidState(f"The reconciliation is {recon.status}; its CSV exists once it has completed.")

    def money(value, cur):
        return "" if value is None else format_decimal(int(value), cur)

    def rows():
        for item in discrepancies(recon.recon_id):
            d = item.data
            cur = d["currency"]
            yield (d["kind"], d["object_kind"], cur, safe_text(d["stripe_id"]), money(d["stripe_amount"], cur),
                   safe_text(d["stripe_status"]), safe_text(d["ledger_txn_id"]), money(d["ledger_amount"], cur),
                   safe_text(d["ledger_status"]), safe_text(d["entity_id"]))

    return render(CSV_HEADER, rows())
