"""One delivery attempt of one event to one endpoint (job `partner_webhooks.deliver`).

The job names the delivery row and the `token` and `attempt` it was sent for; a job whose row has moved
on (delivered, failed, replayed, attempted by a duplicate job) does nothing. Otherwise: sign the event's
JSON, POST it through the SSRF-checked sender, record the outcome under the condition that the row is
still as read, and on failure send the next attempt back to the queue after the backoff. A worker that
dies mid-attempt gets the message again from SQS: receivers deduplicate on `Marketplace-Event-Id`.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import ValidationFailed
from chalicelib.jobs.registry import JobContext
from chalicelib.jobs.worker import RunLater
from chalicelib.partner_feed import repository as feed
from chalicelib.partner_webhooks import model, sender, ssrf
from chalicelib.partner_webhooks import repository as repo
from chalicelib.telemetry import metrics

log = logging.getLogger("marketplace.partner_webhooks")


def backoff() -> model.Backoff:
    s = get_settings()
    return model.Backoff(s.webhook_backoff_base_seconds, s.webhook_backoff_max_seconds, s.webhook_max_attempts)


def event_body(event: feed.Event) -> bytes:
    """The exact bytes sent (and signed): the event as the feed shows it, compact JSON."""
    return json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")


def deliver(data: dict[str, Any], ctx: JobContext) -> None:
    partner_id, endpoint_id, seq = str(data["partner_id"]), str(data["endpoint_id"]), int(data["seq"])
    row = repo.get_delivery(endpoint_id, seq)
    if row is None or row.status != model.PENDING or row.token != data.get("token") \
            or int(row.attempts) != int(data.get("attempt", -1)):
        return  # this job's attempt was made, superseded or replayed
    endpoint = repo.get_endpoint(partner_id, endpoint_id)
    event = feed.get_event(partner_id, seq)
    if endpoint is None or event is None:
        return  # the endpoint was removed: its log goes with it
    settings = get_settings()
    body = event_body(event)
    headers = {model.EVENT_ID_HEADER: event.event_id,
               model.SIGNATURE_HEADER: model.sign(endpoint.secret, int(clock.now().timestamp()), body)}
    try:
        target = ssrf.parse(endpoint.url, local_stage=settings.is_local)
        outcome = sender.post(target, body, headers, timeout=settings.webhook_timeout_seconds)
    except ValidationFailed as exc:  # the stage's rules changed since the endpoint was registered
        outcome = sender.Outcome(None, f"blocked: {exc.message}", 0.0)
    schedule = backoff()
    attempts = int(row.attempts) + 1
    if model.is_success(outcome.status_code) and outcome.error is None:
        status, next_at, delay = model.DELIVERED, None, 0
    elif attempts >= schedule.max_attempts:
        status, next_at, delay = model.FAILED, None, 0
    else:
        delay = schedule.delay_after(attempts)
        status, next_at = model.PENDING, clock.iso(clock.now() + timedelta(seconds=delay))
    error = outcome.error or (None if model.is_success(outcome.status_code) else f"HTTP {outcome.status_code}")
    if not repo.record_attempt(row, status=status, status_code=outcome.status_code, error=error,
                               next_attempt_at=next_at):
        return  # a duplicate job recorded this attempt first
    log.info("webhook %s to %s: attempt %d -> %s (%s)", event.event_id, endpoint_id, attempts, status,
             outcome.status_code or outcome.error)
    if status == model.DELIVERED:
        metrics.count(metrics.PARTNER_WEBHOOKS_DELIVERED)
        return
    metrics.count(metrics.PARTNER_WEBHOOK_ATTEMPTS_FAILED)
    if status == model.FAILED:
        metrics.count(metrics.PARTNER_WEBHOOKS_FAILED)
        return
    raise RunLater(delay, data={**data, "attempt": attempts})
