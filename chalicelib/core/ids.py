"""Opaque, time-ordered identifiers.

A ULID-like body (48-bit millisecond time + 80 random bits, Crockford base32) so ids sort by
creation time inside sort keys, behind a short prefix that tells a human what kind of thing it is.
"""
from __future__ import annotations

import os
import re
import time

# What any id a client may hold looks like (ours, Stripe's); a path parameter that does not is simply not found.
_OPAQUE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """Return `prefix_` followed by a 26-character time-ordered id."""
    millis = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_b32(millis, 10)}{_b32(rand, 16)}"


def looks_like_id(value: str) -> bool:
    """Whether `value` could be an id at all: anything else is not found and never reaches DynamoDB."""
    return _OPAQUE_ID.match(value) is not None
