"""Opaque pagination cursors that detect tampering.

A cursor is the DynamoDB `LastEvaluatedKey` as compact JSON, base64url-encoded, followed by an
HMAC over it and the cursor's scope (the route, the caller and the filters). A cursor that was edited,
truncated, or taken from another query or another caller fails with 400 `bad_cursor` instead of
letting a client steer a Query into somebody else's partition.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from chalicelib.config import get_settings
from chalicelib.core.errors import BadCursor


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(body: str, scope: str) -> str:
    secret = get_settings().cursor_secret.encode()
    digest = hmac.new(secret, f"{scope}\n{body}".encode(), hashlib.sha256).digest()
    return _b64(digest[:18])


def encode_cursor(position: dict[str, Any], scope: str) -> str:
    body = _b64(json.dumps(position, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(body, scope)}"


def decode_cursor(cursor: str, scope: str) -> dict[str, Any]:
    body, dot, mac = cursor.partition(".")
    if not dot or not body or not hmac.compare_digest(mac.encode("utf-8", "surrogatepass"), _mac(body, scope).encode()):
        raise BadCursor("The cursor is not valid for this list; start again without it.")
    try:
        position = json.loads(_unb64(body))
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("The cursor is not valid for this list; start again without it.") from exc
    if not isinstance(position, dict):
        raise BadCursor("The cursor is not valid for this list; start again without it.")
    return position
