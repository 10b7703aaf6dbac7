"""The daily payout run, as the scheduled Lambda calls it (registered in app.py)."""
from __future__ import annotations

import logging

from chalicelib.payouts import service
from chalicelib.payouts.gateway import connect_gateway

log = logging.getLogger("marketplace")


def daily_payout_run(_event=None) -> dict:
    """Start today's run unless one already started (a retried invocation pays nobody twice)."""
    run = service.run_payouts(actor="schedule", currency=None, gateway=connect_gateway(), trigger="schedule")
    if run is None:
        log.info("payout run: today's scheduled run already exists")
        return {"run_id": None}
    log.info("payout run %s: %s", run.run_id, run.summary)
    return {"run_id": run.run_id, "summary": dict(run.summary or {})}
