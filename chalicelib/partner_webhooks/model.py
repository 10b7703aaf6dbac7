"""The pure rules of partner webhooks: which events an endpoint takes, the signature, and the backoff.

`Marketplace-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (the scheme
Stripe uses, so receivers already know how to check it). A failed attempt n (1-based) waits
`min(base * 2^(n-1), max)` before the next; after `max_attempts` attempts the delivery is `failed`.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
MAX_ENDPOINTS_PER_PARTNER = 10
SIGNATURE_HEADER = "Marketplace-Signature"
EVENT_ID_HEADER = "Marketplace-Event-Id"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(24)


def takes(events: list[str] | tuple[str, ...], event_type: str) -> bool:
    """Does an endpoint subscribed to `events` take an event of `event_type`?"""
    return ALL_EVENTS in events or event_type in events


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Marketplace-Signature` header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class Backoff:
    base_seconds: int
    max_seconds: int
    max_attempts: int

    def delay_after(self, attempts: int) -> int:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return min(self.base_seconds * 2 ** max(0, attempts - 1), self.max_seconds)

    def total_seconds(self) -> int:
        """How long the whole schedule lasts from the first attempt to the last."""
        return sum(self.delay_after(n) for n in range(1, self.max_attempts))


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300
