"""The `Idempotency-Key` store: a retried write replays its first answer instead of acting twice.

Every request that moves money (an order, a refund, a finance adjustment) carries a key. The key is
scoped to the operation and the caller (two customers may pick the same key). The record holds a hash
of the request body and the first successful response; it is written in the same transaction as the
change it answers for, with `attribute_not_exists`, so two racing requests with one key produce one
change. Only successes are stored: a request refused with a 4xx changed nothing and may be retried with
the same key once fixed. Every record carries `expires_at` (epoch seconds, 24 h on), the attribute the
table's DynamoDB TTL is declared on.

It lives in `db` because it is a storage concern keyed by caller, scope and key that several aggregates
share (orders, ledger); it knows no aggregate.
"""
from __future__ import annotations

import base64
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
REPLAYED_HEADER = "Idempotent-Replayed"
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
class Answer:
    """What a replayable write answers: its status and body, and whether it is a stored first answer."""

    status: int
    body: dict
    replayed: bool = False

    @property
    def headers(self) -> dict[str, str]:
        """`Idempotent-Replayed: true` on a replay, nothing on a first answer."""
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


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

    def derived_id(self, prefix: str) -> str:
        """An id derived from scope, caller and key (not the body): two racing retries build the same one."""
        digest = hashlib.sha256("\x1f".join((self.scope, self.caller, self.key)).encode("utf-8")).digest()
        return f"{prefix}_" + base64.b32encode(digest).decode("ascii")[:26]

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


def replay(found: IdempotencyItem | None, key: IdempotencyKey) -> Answer | None:
    """The stored answer for this key (marked replayed), None if it is new; 409 if used for another body."""
    if found is None:
        return None
    if found.request_hash != key.request_hash:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request body.")
    return Answer(int(found.status), dict(found.response), replayed=True)


def replay_stored(key: IdempotencyKey) -> Answer | None:
    """After our write lost a race on `key`: the winner's stored answer (or 409 for another body); None if
    no record is stored (the conflict was elsewhere, or the record has expired)."""
    return replay(lookup(key), key)


def lookup(key: IdempotencyKey) -> IdempotencyItem | None:
    try:
        return IdempotencyItem.get(*key.item_key, consistent_read=True)
    except IdempotencyItem.DoesNotExist:
        return None
