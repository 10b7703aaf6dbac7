"""The jobs that turn committed partner events into webhook deliveries, and the minute sweeper.

- `dispatch` (sent by the outbox after each commit): for each named event still on the pending-fan-out
  index, a delivery row per endpoint that takes it, a `deliver` job each, then the event leaves the index.
  Safe to run twice: a delivery row is created once (`attribute_not_exists`); the index is cleared last.
- `replay` (from `POST .../replay`): the endpoint's events after a position, 100 per run, each delivery row
  reset (new token: jobs queued for the old one retire) and sent again.
- `sweep` (a schedule, every minute): what a dead process left behind. Events still pending a minute after
  they were written get a dispatch job; pending deliveries two minutes past due get their job again.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.db import feed_keys
from chalicelib.jobs import queue
from chalicelib.jobs.registry import JobContext
from chalicelib.jobs.worker import RunLater
from chalicelib.partner_feed import repository as feed
from chalicelib.partner_webhooks import model
from chalicelib.partner_webhooks import repository as repo
from chalicelib.partner_webhooks.repository import WebhookDeliveryItem, WebhookEndpointItem

log = logging.getLogger("marketplace.partner_webhooks")

DISPATCH_JOB = "partner_webhooks.dispatch"
DELIVER_JOB = "partner_webhooks.deliver"
REPLAY_PAGE = 100
SWEEP_LIMIT = 100
EVENT_GRACE_SECONDS = 60
DELIVERY_GRACE_SECONDS = 120


def deliver_job(row: WebhookDeliveryItem, *, delay_seconds: float = 0):
    data = {"partner_id": row.partner_id, "endpoint_id": row.endpoint_id, "seq": int(row.seq),
            "token": row.token, "attempt": int(row.attempts)}
    return queue.job(DELIVER_JOB, data, delay_seconds=delay_seconds)


def _targets(endpoints: list[WebhookEndpointItem], event: feed.Event) -> list[WebhookEndpointItem]:
    return [ep for ep in endpoints if event.seq > int(ep.after_seq) and model.takes(list(ep.events), event.type)]


def dispatch(data: dict[str, Any], ctx: JobContext) -> None:
    """Fan the partner's named events out to its endpoints (job `partner_webhooks.dispatch`)."""
    partner_id = str(data["partner_id"])
    events = [e for e in feed.events_by_seq(partner_id, data.get("seqs") or []) if e.pending]
    if not events:
        return
    endpoints = repo.endpoints_of(partner_id)
    jobs = []
    for event in events:
        for endpoint in _targets(endpoints, event):
            row = repo.delivery_row(endpoint, seq=event.seq, event_id=event.event_id, event_type=event.type)
            try:
                row.save(condition=WebhookDeliveryItem.pk.does_not_exist())
            except WebhookDeliveryItem.PutError as exc:
                if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                    raise
                continue  # an earlier run made it and sent its job (or the sweeper will)
            jobs.append(deliver_job(row))
    if jobs:
        queue.send(jobs)
    for event in events:
        feed.clear_pending(partner_id, event.seq)


def replay(data: dict[str, Any], ctx: JobContext) -> None:
    """Deliver the endpoint's events after `after_seq` again (job `partner_webhooks.replay`)."""
    partner_id, endpoint_id = str(data["partner_id"]), str(data["endpoint_id"])
    endpoint = repo.get_endpoint(partner_id, endpoint_id)
    if endpoint is None:
        return
    events = feed.events_after(partner_id, int(data["after_seq"]), limit=REPLAY_PAGE)
    jobs = []
    for event in events:
        if not model.takes(list(endpoint.events), event.type):
            continue
        row = repo.delivery_row(endpoint, seq=event.seq, event_id=event.event_id, event_type=event.type)
        row.save()
        jobs.append(deliver_job(row))
    if jobs:
        queue.send(jobs)
    if len(events) == REPLAY_PAGE:
        raise RunLater(0, data={**data, "after_seq": events[-1].seq})


def sweep(event: Any = None) -> dict[str, int]:
    """Re-send what a dead process or a failed send left behind (the minute schedule)."""
    now = clock.now()
    event_cutoff = clock.iso(now - timedelta(seconds=EVENT_GRACE_SECONDS))
    by_partner: dict[str, list[int]] = {}
    for shard in range(feed_keys.PENDING_SHARDS):
        for partner_id, seq in feed.pending_before(shard, event_cutoff, limit=SWEEP_LIMIT):
            by_partner.setdefault(partner_id, []).append(seq)
    jobs = [queue.job(DISPATCH_JOB, {"partner_id": p, "seqs": seqs[:100]}) for p, seqs in by_partner.items()]
    delivery_cutoff = clock.iso(now - timedelta(seconds=DELIVERY_GRACE_SECONDS))
    stuck = [row for pk in repo.pending_shard_pks() for row in repo.overdue(pk, delivery_cutoff, limit=SWEEP_LIMIT)]
    jobs += [deliver_job(row) for row in stuck]
    if jobs:
        queue.send(jobs)
        log.warning("partner webhook sweep re-sent %d dispatch and %d delivery jobs", len(by_partner), len(stuck))
    return {"dispatch": len(by_partner), "deliveries": len(stuck)}
