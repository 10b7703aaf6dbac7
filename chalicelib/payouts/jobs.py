"""The daily payout run, as the scheduled Lambda calls it (registered in app.py): it queues the run, nothing more.

The schedule starts the same run as `POST /finance/payout-runs` (every currency), and the jobs it queues
do the paying (`planning.py`, `batches.py`), so the scheduled Lambda finishes in a second or two whatever
the number of partners. The day's guard row makes a retried invocation start nothing twice; a run still
open from earlier (manual or yesterday's) means today's schedule starts none: that run pays everyone.
"""
from __future__ import annotations

import logging
from typing import Any

from chalicelib.config import JOB_DEADLINES
from chalicelib.core import deadlines
from chalicelib.core.errors import Conflict
from chalicelib.payouts import runs

log = logging.getLogger("marketplace")


def daily_payout_run(event: Any = None) -> dict:
    """Queue today's run unless one already started today or one is still open."""
    with deadlines.use(JOB_DEADLINES):
        try:
            run = runs.start_run(actor="schedule", currency=None, trigger="schedule")
        except Conflict as busy:
            log.warning("payout run: not started today, a run is still open: %s", busy.details)
            return {"run_id": None, "reason": "open_run", "open": busy.details}
    if run is None:
        log.info("payout run: today's scheduled run already exists")
        return {"run_id": None, "reason": "already_started_today"}
    log.info("payout run %s queued", run.run_id)
    return {"run_id": run.run_id, "status": run.status}
