"""The caller's identity as every layer sees it: who they are and which staff roles they hold.

`http.auth` builds a `Principal` from a verified token or a partner API key; services take it as a plain
value, so no use case depends on the HTTP edge. Partner membership is not here: it is stored, and read by
the partners aggregate. A key's principal acts as its partner's owner (`sub`), holds no staff role, and
carries the key's id and scopes so the edge can refuse routes the key does not cover. The key store is a
port installed here by the composition root, so the edge resolves keys without importing an aggregate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

ROLES = ("admin", "finance")


@dataclass(frozen=True)
class Principal:
    sub: str
    email: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None  # set when the caller is a partner API key, not a person
    partner_id: str | None = None  # the key's partner
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_key(self) -> bool:
        return self.key_id is not None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    @property
    def is_finance(self) -> bool:
        return "finance" in self.groups

    def has_any(self, roles: tuple[str, ...]) -> bool:
        return any(role in self.groups for role in roles)


class KeyPort(Protocol):
    """What the HTTP edge needs from the API-key store (the apikeys aggregate implements it)."""

    def resolve(self, secret: str) -> Principal:
        """The key's principal; raises Unauthorized for an unknown, revoked or malformed key."""

    def record_use(self, principal: Principal, *, method: str, path: str, status: int) -> None:
        """Audit one use of a key, after the route answered with `status`."""


_keys: KeyPort | None = None
_keys_provider: Callable[[], KeyPort] | None = None


def use_keys(provider: Callable[[], KeyPort] | None) -> None:
    """Install (None: remove) what builds the key port on first use; called by `bootstrap.configure()`."""
    global _keys, _keys_provider
    _keys, _keys_provider = None, provider


def key_port() -> KeyPort | None:
    global _keys
    if _keys is None and _keys_provider is not None:
        _keys = _keys_provider()
    return _keys
