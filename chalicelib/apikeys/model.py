"""API keys as plain values: the secret's format, its hash, and what a key looks like to its owner.

A secret is `mpk_<key id>_<43 url-safe characters>` (256 random bits). The key id inside it lets the edge
find the key with one GetItem; only the SHA-256 of the whole secret is stored, and it is compared in
constant time. A hash without a pepper is enough here: the secret has 256 bits of entropy, so nothing
short of the secret itself matches the hash (unlike a password, there is no dictionary to try).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from chalicelib.core.ids import new_id

PREFIX = "mpk_"
_SECRET = re.compile(r"^mpk_(key_[0-9A-Z]{26})_([A-Za-z0-9_-]{43})$")
MAX_ACTIVE_KEYS = 25  # per partner: enough for every CI and service, few enough to review by eye


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    partner_id: str
    owner_sub: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict:
        """What the owner sees: never the secret, nor its hash."""
        return {"key_id": self.key_id, "name": self.name, "scopes": list(self.scopes),
                "created_at": self.created_at, "last_used_at": self.last_used_at, "revoked_at": self.revoked_at}


def new_secret() -> tuple[str, str]:
    """A fresh (key_id, secret) pair."""
    key_id = new_id("key")
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(secret: str) -> str | None:
    """The key id a well-formed secret names, else None (malformed: no lookup is made)."""
    match = _SECRET.match(secret)
    return match.group(1) if match else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def normalise_scopes(scopes: list[str]) -> tuple[str, ...]:
    """Scopes without repeats, in a stable order (the schema already refused unknown ones)."""
    return tuple(sorted(set(scopes)))


KEY_ID = re.compile(r"^key_[0-9A-Z]{26}$")
