"""What other aggregates may react to in a partner's life, without partners importing them.

A suspended partner's listings must leave every catalog view, but the catalog depends on partners, not
the other way round. So partners announces the change here and the composition module
(`chalicelib.bootstrap`) subscribes the catalog's reaction; a test can subscribe its own.
"""
from __future__ import annotations

from typing import Protocol

from chalicelib.core.identity import Principal


class SuspensionReaction(Protocol):
    def __call__(self, *, partner_id: str, actor: Principal) -> object: ...


_on_suspended: list[SuspensionReaction] = []


def when_suspended(reaction: SuspensionReaction) -> None:
    """Run `reaction(partner_id=..., actor=...)` after each partner suspension (once per reaction)."""
    if reaction not in _on_suspended:
        _on_suspended.append(reaction)


def partner_suspended(*, partner_id: str, actor: Principal) -> None:
    """Announce a committed suspension to every subscribed reaction, in subscription order."""
    for reaction in list(_on_suspended):
        reaction(partner_id=partner_id, actor=actor)


__all__ = ["SuspensionReaction", "partner_suspended", "when_suspended"]
