"""A payout run's planning job: one bounded page of partners per invocation, and the next page as a job.

`plan({run_id, currency, after})` reads one Query page (<= 100) of the currency's balance rows after
partner `after`, records the page once (`PLAN#<cur>#<after>`: its partner ids, what comes next, the count
ADDed to `partners_total`, and `planning_done` on the run's very last page), then sends in one batch the
page's pay jobs (`payouts.batch`, `BATCH_PARTNERS` partners each) and the next planning job (the next
page, or the next currency's first). A redelivered or duplicated planning job finds its page row and
sends the same jobs again from it (never a re-queried page, so counts and jobs always agree); once the
page is marked `sent`, duplicates do nothing. Planning work per invocation is bounded whatever the size
of the marketplace.
"""
from __future__ import annotations

import logging
from itertools import islice
from typing import Any

from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.jobs import queue
from chalicelib.jobs.registry import JobContext
from chalicelib.ledger.balances import currency_balance_rows
from chalicelib.payouts import model, repository, runs
from chalicelib.payouts.settlement import Hook, no_hook

log = logging.getLogger("marketplace.payouts")

PLAN_PAGE = 100
BATCH_PARTNERS = 10  # x 10 messages per worker invocation x 0.4 s a transfer = 40 s, inside the 60 s the worker may use
_hook: list[Hook] = [no_hook]


def set_hook(hook: Hook | None) -> None:
    """Tests: call `hook(step)` after each durable step (raise from it to kill the worker there)."""
    _hook[0] = hook or no_hook


def _next_currency(run_currency: str | None, currency: str) -> str | None:
    order = runs.currencies_of(run_currency)
    i = order.index(currency)
    return order[i + 1] if i + 1 < len(order) else None


def plan(data: dict[str, Any], ctx: JobContext) -> None:
    """Plan one page of run `data["run_id"]` (see the module docstring)."""
    run_id, currency, after = data["run_id"], data["currency"], data.get("after") or ""
    run = repository.get_run(run_id, consistent=True)
    if run is None or run.status not in model.OPEN_STATUSES:
        log.info("payout run %s: nothing to plan (%s)", run_id, run.status if run else "no such run")
        return
    page = repository.get_plan(run_id, currency, after)
    if page is not None and page.sent:
        return
    if page is None:
        page = _record_page(run, currency, after)
        if page is None:
            return
    _hook[0]("plan_counted")
    ids: list[str] = list(page.partner_ids or [])
    jobs = [queue.job(runs.BATCH_JOB, {"run_id": run_id, "currency": currency, "partners": ids[i:i + BATCH_PARTNERS],
                                        "attempt": 0})
            for i in range(0, len(ids), BATCH_PARTNERS)]
    if page.next_currency:
        jobs.append(queue.job(runs.PLAN_JOB, {"run_id": run_id, "currency": page.next_currency,
                                              "after": page.next_after or ""}))
    queue.send(jobs)
    _hook[0]("plan_sent")
    repository.mark_plan_sent(run_id, currency, after)
    if not page.next_currency:
        runs.complete_if_done(run_id)


def _record_page(run, currency: str, after: str):
    """Read the page and record it once; the recorded page (this delivery's or a concurrent one's)."""
    rows = list(islice(currency_balance_rows(currency, after_partner=after or None, page_size=PLAN_PAGE + 1),
                       PLAN_PAGE + 1))
    ids = [row.partner_id for row in rows[:PLAN_PAGE]]
    if len(rows) > PLAN_PAGE:
        next_currency, next_after = currency, ids[-1]
    else:
        next_currency, next_after = _next_currency(run.currency, currency), ""
    try:
        with transaction() as tx:
            repository.add_plan_page(tx, run_id=run.run_id, currency=currency, after=after, partner_ids=ids,
                                     next_currency=next_currency, next_after=next_after)
    except ConditionsFailed as refused:
        if refused.has("plan"):
            return repository.get_plan(run.run_id, currency, after)  # a concurrent delivery recorded it
        log.info("payout run %s is no longer open; planning stops", run.run_id)
        return None
    return repository.get_plan(run.run_id, currency, after)
