"""Use cases of the webhook routes: register, list and remove endpoints, read deliveries, ask for a replay.

Every call is scoped to the caller's partner: endpoints live in the partner's partition, so another
partner's endpoint id is simply not found (404). The signing secret is generated here and returned once,
by `create`; it is stored with the endpoint because every delivery signs with it.
"""
from __future__ import annotations

import re

from chalicelib.config import get_settings
from chalicelib.core.errors import Conflict, NotFound, UpstreamUnavailable
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.jobs import queue
from chalicelib.partner_feed import event_ids
from chalicelib.partner_feed import repository as feed
from chalicelib.partner_webhooks import model, ssrf
from chalicelib.partner_webhooks import repository as repo
from chalicelib.partner_webhooks.repository import WebhookEndpointItem

REPLAY_JOB = "partner_webhooks.replay"
ATTEMPTS = 10
_ENDPOINT_ID = re.compile(r"^whe_[0-9A-Z]{26}$")


def create(*, partner_id: str, url: str, events: list[str]) -> dict:
    """Register an endpoint for the partner's events after now; the answer carries its secret (only here).

    One transaction: the endpoint row and the partner's event counter with one more hook, conditioned on
    the counter as read. So the endpoint's first event is exactly the one after `after_seq`, every later
    event is marked for fan-out, and the per-partner limit is exact; a concurrent event re-runs it."""
    ssrf.check_for_registration(url, local_stage=get_settings().is_local)
    wanted = [model.ALL_EVENTS] if model.ALL_EVENTS in events else sorted(set(events))
    secret = model.new_secret()
    for _attempt in range(ATTEMPTS):
        counter = feed.read_counter(partner_id)
        if counter.hooks >= model.MAX_ENDPOINTS_PER_PARTNER:
            raise Conflict(f"A partner may have at most {model.MAX_ENDPOINTS_PER_PARTNER} webhook endpoints; "
                           "remove one first.")
        item = repo.new_endpoint(partner_id=partner_id, url=url, events=wanted, secret=secret,
                                 after_seq=counter.seq)
        try:
            with transaction() as tx:
                tx.save(item, condition=WebhookEndpointItem.pk.does_not_exist(), label="endpoint")
                feed.put_counter(tx, partner_id, counter, seq=counter.seq, hooks=counter.hooks + 1, label="counter")
        except ConditionsFailed:
            continue  # an event or another endpoint change of the partner committed first: read again
        return item.to_dict(with_secret=True)
    raise UpstreamUnavailable("The partner's events kept changing; nothing was registered. Try again.")


def list_mine(*, partner_id: str) -> dict:
    rows = sorted(repo.endpoints_of(partner_id), key=lambda r: (r.created_at, r.endpoint_id))
    return {"items": [r.to_dict() for r in rows], "next_cursor": None}


def _require(partner_id: str, endpoint_id: str) -> WebhookEndpointItem:
    endpoint = repo.get_endpoint(partner_id, endpoint_id) if _ENDPOINT_ID.match(endpoint_id) else None
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def remove(*, partner_id: str, endpoint_id: str) -> dict:
    """Delete the endpoint (and one hook from the counter, in the same transaction); its queued deliveries
    find it gone and stop."""
    for _attempt in range(ATTEMPTS):
        endpoint = _require(partner_id, endpoint_id)
        counter = feed.read_counter(partner_id)
        try:
            with transaction() as tx:
                tx.delete(endpoint, condition=WebhookEndpointItem.pk.exists(), label="endpoint")
                feed.put_counter(tx, partner_id, counter, seq=counter.seq, hooks=max(0, counter.hooks - 1),
                                 label="counter")
        except ConditionsFailed:
            continue  # removed meanwhile (the next read answers 404) or the counter moved: read again
        return {"endpoint_id": endpoint_id, "deleted": True}
    raise UpstreamUnavailable("The partner's events kept changing; nothing was removed. Try again.")


def deliveries(*, partner_id: str, endpoint_id: str, limit: int, cursor: str | None) -> dict:
    _require(partner_id, endpoint_id)
    page = repo.list_deliveries(endpoint_id, limit=limit, cursor=cursor, scope=f"whd:{partner_id}:{endpoint_id}")
    return {"items": [row.to_dict() for row in page.items], "next_cursor": page.next_cursor}


def replay(*, partner_id: str, endpoint_id: str, after: str | None) -> dict:
    """Queue the re-delivery of the endpoint's events after `after` (default: since it was registered)."""
    endpoint = _require(partner_id, endpoint_id)
    after_seq = event_ids.seq_of(partner_id, after) if after else int(endpoint.after_seq)
    queue.enqueue(REPLAY_JOB, {"partner_id": partner_id, "endpoint_id": endpoint_id, "after_seq": after_seq})
    return {"endpoint_id": endpoint_id, "status": "queued", "after": after}
