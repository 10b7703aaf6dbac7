"""The `Idempotency-Key` store: a retried write replays its first answer instead of acting twice.

A key is scoped to the operation and the caller (two customers may pick the same key). The record holds a
hash of the request body and the first successful response; it is written in the same transaction as the
change it answers for, with `attribute_not_exists`, so two racing requests with one key produce one
change. Only successes are stored: a request refused with a 4xx changed nothing and may be retried with
the same key once fixed. Records carry `expires_at` (24 h) for a DynamoDB TTL.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core import clock
from chalicelib.core.errors import IdempotencyConflict, ValidationFailed
from chalicelib.db import keys
from chalicelib.db.table import MarketItem

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
TTL_SECONDS = 24 * 3600


class IdempotencyItem(MarketItem, discriminator="Idempotency"):
    scope = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    status = NumberAttribute()
    response = JSONAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()


@dataclass(frozen=True)
class IdempotencyKey:
    scope: str
    caller: str
    key: str
    request_hash: str

    @property
    def pk(self) -> str:
        return keys.idempotency_pk(self.scope, self.caller, self.key)

    @property
    def item_key(self) -> tuple[str, str]:
        return (self.pk, keys.IDEMPOTENCY_SK)

    def record(self, status: int, response: dict) -> IdempotencyItem:
        """The row to save (with `attribute_not_exists`) in the transaction of the change."""
        return IdempotencyItem(
            self.pk, keys.IDEMPOTENCY_SK, scope=self.scope, request_hash=self.request_hash, status=status,
            response=response, created_at=clock.now_iso(), expires_at=int(clock.now().timestamp()) + TTL_SECONDS,
        )


def request_hash(body: Any, *, target: str = "") -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{target}\n{canonical}".encode("utf-8")).hexdigest()


def key_from(headers: dict[str, str], *, scope: str, caller: str, body: Any, target: str = "") -> IdempotencyKey:
    """Read the required header; 400 `validation_error` when it is missing or unusable."""
    raw = (headers.get(HEADER) or "").strip()
    if not raw or len(raw) > MAX_KEY_LENGTH or any(ord(c) < 0x21 or ord(c) > 0x7e for c in raw):
        raise ValidationFailed(
            "An Idempotency-Key header (1..255 visible ASCII characters) is required.",
            [{"field": "Idempotency-Key", "message": "is required", "in": "header"}],
        )
    return IdempotencyKey(scope, caller, raw, request_hash(body, target=target))


def replay(found: IdempotencyItem | None, key: IdempotencyKey) -> tuple[int, dict] | None:
    """The stored (status, response) for this key, None if it is new; 409 if it was used for another body."""
    if found is None:
        return None
    if found.request_hash != key.request_hash:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request body.")
    return int(found.status), dict(found.response)


def lookup(key: IdempotencyKey) -> IdempotencyItem | None:
    try:
        return IdempotencyItem.get(*key.item_key, consistent_read=True)
    except IdempotencyItem.DoesNotExist:
        return None
