"""The caller's identity as every layer sees it: who they are and which staff roles they hold.

`http.auth` builds a `Principal` from a verified token; services take it as a plain value, so no
use case depends on the HTTP edge. Partner membership is not here: it is stored, and read by the
partners aggregate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("admin", "finance")


@dataclass(frozen=True)
class Principal:
    sub: str
    email: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    @property
    def is_finance(self) -> bool:
        return "finance" in self.groups

    def has_any(self, roles: tuple[str, ...]) -> bool:
        return any(role in self.groups for role in roles)
