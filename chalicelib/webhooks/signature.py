"""Stripe's webhook signature scheme, checked on the exact bytes received.

`Stripe-Signature: t=<unix time>,v1=<hex hmac>[,v1=...]` where each `v1` is HMAC-SHA256 of
`"<t>." + raw body` under the endpoint's secret. A signature is accepted when any `v1` matches (Stripe
sends several while a secret is being rolled) and `t` is within the tolerance of now, which is what stops
an attacker replaying an old, validly signed delivery. Implemented here rather than with the SDK so the
check needs no `stripe` import on the hot path, and so tests can sign fixture events the same way.
"""
from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The delivery is not provably from Stripe (or is too old); the reason is for logs only."""


def _digest(secret: str, timestamp: int | str, payload: bytes) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `payload` (fixture events in tests, local tooling)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, payload)}"


def verify(payload: bytes, header: str | None, secret: str | tuple[str, ...], *,
           tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> None:
    """Raise BadSignature unless `header` signs `payload` with `secret` (or one of several: the platform
    endpoint's and the Connect endpoint's) within `tolerance` seconds."""
    secrets = (secret,) if isinstance(secret, str) else tuple(secret)
    secrets = tuple(s for s in secrets if s)
    if not secrets:
        raise BadSignature("no webhook secret is configured")
    if not header:
        raise BadSignature("missing Stripe-Signature header")
    timestamp: str | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not timestamp.isdigit() or not candidates:
        raise BadSignature("malformed Stripe-Signature header")
    expected = [_digest(s, timestamp, payload).encode() for s in secrets]
    if not any(hmac.compare_digest(e, c.encode("utf-8", "surrogatepass")) for e in expected for c in candidates):
        raise BadSignature("no signature matches")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise BadSignature("timestamp outside the tolerance")
