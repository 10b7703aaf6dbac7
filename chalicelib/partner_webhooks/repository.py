"""Webhook endpoint and delivery rows (keys in `db/feed_keys.py`).

- An endpoint `PWH#<partner>/EP#<id>` holds its URL, event filter, signing secret and `after_seq` (the
  partner's last event when it was registered: it receives the events after that one).
- A delivery `PWHD#<endpoint>/DLV#<seq>` is one event's delivery to one endpoint: created once by the
  dispatcher (`attribute_not_exists`), then updated by each attempt under the condition that nobody else
  updated it since (`token` and `attempts` as read). While `pending` it sits on gsi1
  `PWHDPENDING#<shard>` sorted by `next_attempt_at`, so the minute sweeper re-sends a job a dead worker
  or a failed send left behind. A replay overwrites the row with a new `token`, which retires every job
  still queued for the old one.
"""
from __future__ import annotations

import zlib

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.db import feed_keys as keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.partner_webhooks.model import PENDING

SHARDS = 4


class WebhookEndpointItem(MarketItem, discriminator="PartnerWebhookEndpoint"):
    endpoint_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute)
    secret = UnicodeAttribute()
    after_seq = NumberAttribute()
    created_at = UnicodeAttribute()

    def to_dict(self, *, with_secret: bool = False) -> dict:
        out = {"endpoint_id": self.endpoint_id, "url": self.url, "events": list(self.events),
               "created_at": self.created_at}
        if with_secret:
            out["secret"] = self.secret
        return out


class WebhookDeliveryItem(MarketItem, discriminator="PartnerWebhookDelivery"):
    endpoint_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    seq = NumberAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    token = UnicodeAttribute()
    last_status_code = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    last_attempt_at = UnicodeAttribute(null=True)
    next_attempt_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    def to_dict(self) -> dict:
        return {"event_id": self.event_id, "type": self.event_type, "attempts": int(self.attempts),
                "status": self.status,
                "last_status_code": int(self.last_status_code) if self.last_status_code is not None else None,
                "last_error": self.last_error, "last_attempt_at": self.last_attempt_at,
                "next_attempt_at": self.next_attempt_at, "created_at": self.created_at}


def _pending_pk(endpoint_id: str) -> str:
    return f"PWHDPENDING#{zlib.crc32(endpoint_id.encode('utf-8')) % SHARDS}"


def pending_shard_pks() -> list[str]:
    return [f"PWHDPENDING#{n}" for n in range(SHARDS)]


def _pending_sk(next_attempt_at: str, endpoint_id: str, seq: int) -> str:
    return f"{next_attempt_at}#{endpoint_id}#{seq:012d}"


# --- endpoints -----------------------------------------------------------------------------------
def new_endpoint(*, partner_id: str, url: str, events: list[str], secret: str, after_seq: int) -> WebhookEndpointItem:
    endpoint_id = new_id("whe")
    return WebhookEndpointItem(
        pk=keys.endpoints_pk(partner_id), sk=keys.endpoint_sk(endpoint_id), endpoint_id=endpoint_id,
        partner_id=partner_id, url=url, events=events, secret=secret, after_seq=after_seq,
        created_at=clock.now_iso(),
    )


def endpoints_of(partner_id: str) -> list[WebhookEndpointItem]:
    """Every endpoint of the partner (at most `MAX_ENDPOINTS_PER_PARTNER`: one bounded Query)."""
    rows = WebhookEndpointItem.query(keys.endpoints_pk(partner_id),
                                     WebhookEndpointItem.sk.startswith(keys.ENDPOINT_SK_PREFIX),
                                     consistent_read=True, limit=50)
    return [r for r in rows if isinstance(r, WebhookEndpointItem)]


def get_endpoint(partner_id: str, endpoint_id: str) -> WebhookEndpointItem | None:
    try:
        return WebhookEndpointItem.get(keys.endpoints_pk(partner_id), keys.endpoint_sk(endpoint_id),
                                       consistent_read=True)
    except WebhookEndpointItem.DoesNotExist:
        return None


# --- deliveries ----------------------------------------------------------------------------------
def delivery_row(endpoint: WebhookEndpointItem, *, seq: int, event_id: str, event_type: str) -> WebhookDeliveryItem:
    """A fresh pending delivery (attempts 0, a new token), due now."""
    now = clock.now_iso()
    return WebhookDeliveryItem(
        pk=keys.deliveries_pk(endpoint.endpoint_id), sk=keys.delivery_sk(seq),
        gsi1pk=_pending_pk(endpoint.endpoint_id), gsi1sk=_pending_sk(now, endpoint.endpoint_id, seq),
        endpoint_id=endpoint.endpoint_id, partner_id=endpoint.partner_id, seq=seq, event_id=event_id,
        event_type=event_type, status=PENDING, attempts=0, token=new_id("tok"), next_attempt_at=now, created_at=now,
    )


def get_delivery(endpoint_id: str, seq: int) -> WebhookDeliveryItem | None:
    try:
        return WebhookDeliveryItem.get(keys.deliveries_pk(endpoint_id), keys.delivery_sk(seq), consistent_read=True)
    except WebhookDeliveryItem.DoesNotExist:
        return None


def record_attempt(row: WebhookDeliveryItem, *, status: str, status_code: int | None, error: str | None,
                   next_attempt_at: str | None) -> bool:
    """Write one attempt's outcome if the row is still as read (same token and attempts); False if not."""
    now = clock.now_iso()
    actions = [
        WebhookDeliveryItem.status.set(status), WebhookDeliveryItem.attempts.set(int(row.attempts) + 1),
        WebhookDeliveryItem.last_attempt_at.set(now),
        WebhookDeliveryItem.last_status_code.set(status_code) if status_code is not None
        else WebhookDeliveryItem.last_status_code.remove(),
        WebhookDeliveryItem.last_error.set(error[:300]) if error else WebhookDeliveryItem.last_error.remove(),
    ]
    if status == PENDING and next_attempt_at:
        actions += [WebhookDeliveryItem.next_attempt_at.set(next_attempt_at),
                    WebhookDeliveryItem.gsi1pk.set(_pending_pk(row.endpoint_id)),
                    WebhookDeliveryItem.gsi1sk.set(_pending_sk(next_attempt_at, row.endpoint_id, int(row.seq)))]
    else:
        actions += [WebhookDeliveryItem.next_attempt_at.remove(), WebhookDeliveryItem.gsi1pk.remove(),
                    WebhookDeliveryItem.gsi1sk.remove()]
    try:
        row.update(actions=actions, condition=(WebhookDeliveryItem.token == row.token)
                   & (WebhookDeliveryItem.attempts == int(row.attempts)))
    except WebhookDeliveryItem.UpdateError as exc:
        if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def list_deliveries(endpoint_id: str, *, limit: int, cursor: str | None, scope: str) -> Page[WebhookDeliveryItem]:
    """The endpoint's delivery log, newest event first."""
    return query_page(
        lambda size, start: WebhookDeliveryItem.query(
            keys.deliveries_pk(endpoint_id), WebhookDeliveryItem.sk.startswith(keys.DELIVERY_SK_PREFIX),
            scan_index_forward=False, limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope,
    )


def overdue(pk: str, cutoff_iso: str, *, limit: int) -> list[WebhookDeliveryItem]:
    """Pending deliveries whose next attempt was due before `cutoff_iso` (a job for them got lost)."""
    rows = WebhookDeliveryItem.gsi1.query(pk, WebhookDeliveryItem.gsi1sk < cutoff_iso, limit=limit)
    return [r for r in rows if isinstance(r, WebhookDeliveryItem)]
