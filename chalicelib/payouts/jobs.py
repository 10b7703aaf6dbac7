"""The daily payout run, as the scheduled Lambda calls it (registered in app.py), under a budget of its own.

No client waits for this run, so its calls to DynamoDB and Stripe may wait and retry longer than an API
request's (`config.JOB_DEADLINES`). Its Lambda has a timeout (300 s), so the run reads the time left from
the Lambda context and starts no payout once less than `config.JOB_STOP_MARGIN_SECONDS` remain: being cut
off mid-payout would still be safe (the next run resumes a pending payout by its id), but stopping leaves
the run row finished and each payout settled.
"""
from __future__ import annotations

import logging
from typing import Any

from chalicelib.config import JOB_DEADLINES, JOB_STOP_MARGIN_SECONDS
from chalicelib.core import deadlines
from chalicelib.core.deadlines import TimeLeft
from chalicelib.payouts import service
from chalicelib.payouts.gateway import connect_gateway

log = logging.getLogger("marketplace")


def daily_payout_run(event: Any = None) -> dict:
    """Start today's run unless one already started (a retried invocation pays nobody twice)."""
    # Chalice hands the schedule a CloudWatchEvent that carries the Lambda context.
    time_left = TimeLeft.of_lambda(getattr(event, "context", None), margin_seconds=JOB_STOP_MARGIN_SECONDS)
    with deadlines.use(JOB_DEADLINES):
        run = service.run_payouts(actor="schedule", currency=None, gateway=connect_gateway(), trigger="schedule",
                                  time_left=time_left)
    if run is None:
        log.info("payout run: today's scheduled run already exists")
        return {"run_id": None}
    log.info("payout run %s: %s", run.run_id, run.summary)
    return {"run_id": run.run_id, "summary": dict(run.summary or {})}
